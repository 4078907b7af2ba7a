"""With DOSSIER_API_TOKEN set, the page asks for the token once and uses it everywhere."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect
from pydantic import SecretStr

from dossier.settings import Settings
from tests.browser.helpers import PageWatch, research, wait_finished

TOKEN = "browser-test-token"


@pytest.fixture
def app_settings(app_settings: Settings) -> Settings:
    return app_settings.model_copy(update={"api_token": SecretStr(TOKEN)})


@pytest.mark.parametrize("latency_ms", [300])
async def test_the_token_is_asked_for_kept_and_sent_on_every_transport(
    page: Page, watch: PageWatch
) -> None:
    watch.allowed.append("401 (Unauthorized)")  # the browser logs the refused calls
    await page.goto("/")
    panel = page.locator('[data-role="token-panel"]')
    await expect(panel).to_be_visible()  # the recent-sessions call got a 401
    await expect(panel).to_contain_text("needs an API token")
    await expect(page.locator("#token")).to_be_focused()
    await page.keyboard.type(TOKEN)
    await page.keyboard.press("Enter")
    await expect(panel).to_be_hidden()
    assert await page.evaluate("localStorage.getItem('dossier.token')") == TOKEN

    async with (
        page.expect_request("**/api/sessions/s_*") as snapshot_request,
        page.expect_request("**/events?*") as stream_request,
    ):
        await research(page, "Stripe")
    headers = await (await snapshot_request.value).all_headers()
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert f"access_token={TOKEN}" in (await stream_request.value).url
    # The WebSocket took the token from its URL: the chat answers.
    await expect(page.locator('[data-role="chat-conn"]')).to_have_attribute("data-state", "open")
    await page.fill("#question", "Who should I talk to?")
    await page.press("#question", "Enter")
    await expect(page.locator('.turn[data-origin="here"]')).to_have_attribute("data-state", "done")
    await wait_finished(page)

    # A reload finds the token again; a wrong one brings the prompt back.
    await page.reload()
    await expect(page.locator("#session")).to_have_attribute("data-state", "ready")
    await expect(page.locator('[data-group="jobs"] .finding')).to_have_count(2)
    await page.evaluate("localStorage.setItem('dossier.token', 'wrong')")
    await page.reload()
    await expect(panel).to_be_visible()
    await expect(page.locator('[data-role="session-error"]')).to_contain_text("token")
