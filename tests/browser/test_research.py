"""A replay research of Stripe, watched in the browser from the company box to the end."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Page, expect

from tests.browser.helpers import research, session_of, shoot, snapshot, wait_finished

# Records the briefing's states as the page renders them (it must be seen streaming).
_WATCH_BRIEFING = """
window.__briefingStates = [];
new MutationObserver(() => {
  const node = document.querySelector('[data-role="analysis"]');
  const state = node && node.dataset.status;
  if (state && window.__briefingStates.at(-1) !== state) window.__briefingStates.push(state);
}).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-status"] });
"""


async def test_a_research_streams_findings_analysis_and_ends_with_complete_timelines(
    page: Page, api: httpx.AsyncClient
) -> None:
    await page.add_init_script(_WATCH_BRIEFING)
    session_id = await research(page, "Stripe")
    await expect(page.locator('[data-role="session-status"]')).to_have_text("Researching…")

    # Findings land live, in their groups, with source, date and a link.
    job = page.locator('[data-group="jobs"] .finding', has_text="Abuse Investigator")
    await expect(job).to_be_visible()
    await expect(job.locator(".finding-meta")).to_contain_text("Greenhouse")
    await expect(job.locator(".finding-meta")).to_contain_text("2026")
    link = job.locator("a.finding-link")
    await expect(link).to_have_attribute("href", "https://stripe.com/jobs/search?gh_jid=8172508")
    await expect(link).to_have_attribute("rel", "noopener noreferrer")
    person = page.locator('[data-group="people"] .finding', has_text="Patrick Collison")
    await expect(person).to_be_visible()
    await expect(person).to_contain_text("CEO")
    await expect(page.locator('[data-group="news"] .finding').first).to_be_visible()

    status = await wait_finished(page)
    final = await snapshot(api, session_id)
    assert status == final["status"] == "partial"  # the replay has no homepage: no tech stack
    await shoot(page, "laptop-finished")
    await shoot(page, "laptop-finished-top", full_page=False)

    # The analysis streamed in (seen while running), and its citations are finding links.
    assert "running" in await page.evaluate("window.__briefingStates")
    briefing = page.locator('[data-role="briefing"]')
    expected = final["analysis"]["customer_intelligence"]
    await expect(briefing).to_contain_text("Hiring signal: 2 open roles")
    text = " ".join(await briefing.locator(".analysis-text").all_inner_texts())
    assert " ".join(text.split()) == " ".join(expected["text"].split())
    cited = {c["finding"] for c in expected["citations"]}
    chips = briefing.locator(".cite")
    await expect(chips).to_have_count(len(cited))
    assert set(await chips.evaluate_all("els => els.map(e => e.dataset.finding)")) == cited

    # Both timelines ended; what was not recorded says so (the demo's fictional vendor has
    # no recordings at all), and is never a green "done".
    vendor = page.locator('[data-workflow="vendor_context"]')
    customer = page.locator('[data-workflow="customer_intelligence"]')
    await expect(vendor).to_have_attribute("data-status", "not_recorded")
    await expect(vendor.locator('[data-role="wf-status"]')).to_have_text("Not recorded")
    await expect(customer).to_have_attribute("data-status", "partial")
    await expect(customer.locator('[data-step="collect.greenhouse"]')).to_contain_text("2 found")
    failed = customer.locator('[data-step="collect.techstack"]')
    await expect(failed).to_have_attribute("data-status", "not_recorded")
    await expect(failed.locator(".step-state")).to_have_text("Not recorded")
    note = failed.locator(".step-note")
    await expect(note).to_have_text("Not in this demo's recordings.")
    await expect(note).to_have_attribute("title", re.compile("replay has no recording for GET"))
    steps = final["workflows"]["customer_intelligence"]["steps"]
    await expect(customer.locator(".step")).to_have_count(len(steps))
    assert await page.locator('.step[data-status="running"]').count() == 0
    # Finished steps fold away (failures stay in view) until asked for.
    greenhouse = customer.locator('[data-step="collect.greenhouse"]')
    await expect(greenhouse).to_be_hidden()
    await expect(failed).to_be_visible()
    await customer.locator('[data-role="wf-toggle"]').click()
    await expect(greenhouse).to_be_visible()

    # Coverage summary at the end.
    coverage = page.locator('[data-role="coverage"]')
    await expect(coverage).to_be_visible()
    tech = coverage.locator('[data-type="tech"]')
    await expect(tech).to_have_attribute("data-state", "not_recorded")
    await expect(tech.locator(".pill")).to_have_text("not recorded")
    await expect(tech).to_contain_text("Website fingerprint not in this demo's recordings")
    jobs = coverage.locator('[data-type="jobs"]')
    await expect(jobs).to_have_attribute("data-state", "found")
    await expect(jobs).to_contain_text("2 open roles")

    # Export: the Markdown dossier downloads with the research in it.
    async with page.expect_download() as download_info:
        await page.click('[data-export="md"]')
    download = await download_info.value
    assert re.fullmatch(r"dossier-stripe-\d{4}-\d{2}-\d{2}\.md", download.suggested_filename)
    path = await download.path()
    text = path.read_text(encoding="utf-8")
    assert "Abuse Investigator" in text
    # the briefing's [n] resolve to the one consecutive source list, as on the page
    cite_count = await page.locator('[data-role="briefing"] .citations .cite').count()
    sources = text[text.index("## Sources") :].split("\n\n")[1].splitlines()
    assert [line.split(".")[0] for line in sources] == [str(n) for n in range(1, cite_count + 1)]
    assert "[1]" in text[: text.index("## Sources")]


async def test_a_second_look_reuses_answered_sources_and_refresh_asks_them_again(
    page: Page,
) -> None:
    first = await research(page, "Stripe")
    await wait_finished(page)
    second = await research(page, "Stripe")
    assert second != first
    await wait_finished(page)
    # the first research had gaps: not a cached session, but what answered is reused
    await expect(page.locator('[data-role="badge-cached"]')).to_be_hidden()
    step = page.locator('[data-workflow="customer_intelligence"] [data-step="collect.greenhouse"]')
    await page.locator('[data-workflow="customer_intelligence"] [data-role="wf-toggle"]').click()
    await expect(step.locator(".badge-cache")).to_have_text("cached")
    await expect(step).to_contain_text("from cache")
    await expect(page.locator('[data-group="jobs"] .finding')).to_have_count(2)
    # Refresh: the same account researched again from the sources
    refresh = page.locator('[data-role="refresh"]')
    await expect(refresh).to_be_visible()
    async with page.expect_response(
        lambda r: r.url.endswith("/api/sessions") and r.request.method == "POST"
    ) as opened:
        await refresh.click()
    body = await (await opened.value).json()
    assert body["cached"] is False and body["session_id"] not in (first, second)
    assert session_of(page) == body["session_id"]
    await wait_finished(page)
    await page.locator('[data-workflow="customer_intelligence"] [data-role="wf-toggle"]').click()
    await expect(step).to_be_visible()
    await expect(step.locator(".badge-cache")).to_have_count(0)
