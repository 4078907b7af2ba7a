"""Who we are, set in the page: the next research's brief is about what we sell."""

from __future__ import annotations

import httpx
from playwright.async_api import Page, expect

from tests.browser.helpers import research, shoot, snapshot, wait_finished


async def test_the_vendor_panel_shapes_the_brief(page: Page, api: httpx.AsyncClient) -> None:
    await page.goto("/")
    await page.click('[data-role="vendor-toggle"]')
    panel = page.locator('[data-role="vendor-panel"]')
    await expect(panel).to_be_visible()
    # the server's own settings show as placeholders until the seller types their own
    await expect(page.locator("#vendor-name")).to_have_attribute(
        "placeholder", "Acme Analytics (server setting)"
    )
    await page.fill("#vendor-name", "Riskly")
    await page.fill("#vendor-description", "fraud detection for marketplaces")
    await page.fill("#vendor-sells-to", "security, fraud operations")
    await shoot(page, "vendor-panel", full_page=False)
    await page.click('[data-role="vendor-form"] button[type=submit]')
    await expect(panel).to_be_hidden()
    await expect(page.locator('[data-role="vendor-toggle"]')).to_have_attribute("data-set", "true")

    session_id = await research(page, "Stripe")
    assert await wait_finished(page) == "partial"
    brief = page.locator('[data-role="briefing"]')
    await expect(brief).to_contain_text("Entry point: nobody in security or fraud operations")
    await expect(brief).to_contain_text("where Riskly's fraud work fits")
    await expect(brief).to_contain_text("Discovery question 1 (suggested)")
    # qualification: what is known (cited), what to ask (suggested)
    await expect(brief).to_contain_text("Need: known — they are hiring in Fraud Operations")
    await expect(brief).to_contain_text("Authority: unknown — ask who owns fraud detection")
    # the profile as a table, citing the profile finding
    profile = page.locator('[data-role="profile"]')
    await expect(profile).to_be_visible()
    await expect(profile.locator("tr", has_text="Headquarters")).to_contain_text("San Francisco")
    await expect(profile.locator("tr", has_text="Employees")).to_contain_text("8,000 (2022)")
    await profile.locator("button.cite-inline").click()
    await expect(page.locator(".finding.is-highlighted")).to_have_attribute(
        "data-kind", "company_profile"
    )
    await shoot(page, "vendor-brief")
    sent = await snapshot(api, session_id)
    assert sent["vendor"]["sells_to"] == ["security", "fraud operations"]

    # kept in this browser: a reload shows it again
    await page.reload()
    await page.click('[data-role="vendor-toggle"]')
    await expect(page.locator("#vendor-sells-to")).to_have_value("security, fraud operations")
