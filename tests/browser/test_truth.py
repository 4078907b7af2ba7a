"""The page says what happened: offline, a demo's recordings, a company not identified."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Page, expect
from starlette.types import ASGIApp

from dossier.app import Overrides, create_app
from dossier.settings import Settings
from tests.browser.helpers import research, session_of, shoot, snapshot, wait_finished
from tests.fakes import OfflineTransport


class TestOffline:
    @pytest.fixture
    async def app(self, app_settings: Settings) -> ASGIApp:
        # As `make run` starts: live sources, no vendor named.
        live = app_settings.model_copy(
            update={
                "sources": "live",
                "http_retries": 0,
                "replay_latency_ms": 0,
                "vendor_name": None,
                "vendor_description": None,
            }
        )
        return create_app(live, Overrides(source_transport=OfflineTransport()))

    async def test_an_offline_run_says_failed_and_why_never_no_findings(
        self, page: Page, api: httpx.AsyncClient
    ) -> None:
        session_id = await research(page, "Stripe")
        assert await wait_finished(page) == "failed"
        await expect(page.locator('[data-role="session-status"]')).to_have_text("Failed")
        hint = page.locator('[data-role="session-hint"]')
        await expect(hint).to_be_visible()
        await expect(hint).to_contain_text("Cannot reach the internet from this machine")
        await expect(hint).to_have_attribute("data-kind", "error")
        await expect(page.locator('[data-role="demo-banner"]')).to_be_hidden()
        # No vendor named: our side had nothing to research, which is not "Done".
        vendor = page.locator('[data-workflow="vendor_context"]')
        await expect(vendor.locator('[data-role="wf-status"]')).to_have_text("Nothing to do")
        await expect(vendor.locator('[data-role="wf-summary"]')).to_have_text(
            "Nothing to research: no vendor configured (add yours with We are…)"
        )
        resolve = page.locator('[data-workflow="customer_intelligence"] [data-step="resolve"]')
        await expect(resolve).to_have_attribute("data-status", "failed")
        coverage = page.locator('[data-role="coverage"] .coverage-row')
        await expect(coverage).to_have_count(6)
        states = await coverage.evaluate_all("rows => rows.map(r => r.dataset.state)")
        assert set(states) == {"failed"}
        await expect(page.locator('[data-role="coverage"]')).to_contain_text("(network)")
        await expect(page.locator('[data-group="jobs"] .group-empty')).to_contain_text(
            "Unknown: could not reach"
        )
        briefing = page.locator('[data-role="briefing"]')
        await expect(briefing).not_to_contain_text("No public findings")
        await expect(briefing).to_contain_text("could not reach")
        # the live indicator goes out once nothing can change any more
        await expect(page.locator('[data-role="stream-state"]')).to_be_hidden()
        await expect(page.locator('[data-role="chat-title"]')).to_have_text(
            "Ask about this account"
        )
        assert (await snapshot(api, session_id))["status"] == "failed"
        await shoot(page, "offline-stripe")


async def test_a_demo_run_shows_the_banner_marks_samples_and_unrecorded_data(
    page: Page,
) -> None:
    await research(page, "Stripe")
    banner = page.locator('[data-role="demo-banner"]')
    await expect(banner).to_be_visible()
    await expect(banner).to_contain_text("Demo: recorded responses (2026-03 to 2026-09)")
    await expect(banner).to_contain_text("Stripe, NVIDIA")
    assert await wait_finished(page) == "partial"
    await expect(page.locator('[data-role="session-status"]')).to_have_text("Partial")
    invented = page.locator('[data-group="news"] .finding[data-sample="true"]')
    await expect(invented.first.locator(".badge-sample")).to_have_text("sample data")
    real = page.locator('[data-group="jobs"] .finding').first
    await expect(real).to_have_attribute("data-sample", "false")
    await expect(page.locator('[data-role="briefing"]')).to_contain_text("[sample data]")
    funding = page.locator('[data-role="coverage"] [data-type="funding"]')
    # the tender offer is read from a sample headline; SEC EDGAR itself was not recorded
    await expect(funding).to_have_attribute("data-state", "found")
    await expect(funding).to_contain_text("SEC EDGAR not in this demo's recordings")
    read = page.locator('[data-group="funding"] .finding[data-sample="true"]')
    await expect(read.first).to_contain_text("Stripe tender offer values company at $91.5B")
    # suggestions of a finished research never ask what is still being collected
    chips = page.locator('[data-role="suggestions"] .chip')
    await expect(chips.first).to_be_visible()
    texts = await chips.all_inner_texts()
    assert "What is still being collected?" not in texts
    await shoot(page, "demo-stripe")


async def test_a_company_not_identified_asks_for_its_domain(page: Page) -> None:
    await research(page, "Xyzzy Corp")
    assert await wait_finished(page) == "partial"
    prompt = page.locator('[data-role="form-hint"]')
    await expect(prompt).to_be_visible()
    await expect(prompt).to_contain_text("We couldn't identify Xyzzy Corp. Add its domain")
    await expect(page.locator("#domain")).to_have_class("needs-domain")
    await expect(page.locator('[data-role="coverage"] [data-type="profile"]')).to_have_attribute(
        "data-state", "unresolved"
    )
    form = page.locator('[data-role="domain-form"]')
    await expect(form).to_be_visible()
    first = session_of(page)
    await form.locator("input").fill("xyzzy.example")
    async with page.expect_response(
        lambda r: r.url.endswith("/api/sessions") and r.request.method == "POST"
    ) as opened:
        await form.locator("button").click()
    body = (await opened.value).request.post_data_json
    assert body is not None
    assert body["account"] == {"name": "Xyzzy Corp", "domain": "xyzzy.example"}
    await page.wait_for_url(lambda url: "session=" in url and first not in url)
    await shoot(page, "demo-xyzzy")
