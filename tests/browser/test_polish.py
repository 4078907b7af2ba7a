"""Nothing clipped, the chat within reach on a phone, the newest answer in view, and
wording that follows the session's state (at 1280x900 and 390x844)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, ViewportSize, expect

from tests.browser.helpers import research, shoot, wait_finished

DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
SIZES = [pytest.param(DESKTOP, id="1280x900"), pytest.param(PHONE, id="390x844")]

# Every citation chip's box, and its bubble's (answers and the briefing).
_CHIPS = """() => [...document.querySelectorAll('.answer .cite, .briefing .cite')]
  .filter(c => c.getClientRects().length)
  .map(c => {
    const chip = c.getBoundingClientRect();
    const box = c.closest('.answer, .briefing').getBoundingClientRect();
    return {title: c.title, left: chip.left - box.left, right: box.right - chip.right};
  })"""

# The newest answer against the chat's visible area.
_NEWEST = """() => {
  const turns = [...document.querySelectorAll('.chat-log .turn')];
  const answer = turns.at(-1).querySelector('.answer').getBoundingClientRect();
  const view = document.querySelector('.chat-scroll').getBoundingClientRect();
  return {top: answer.top - view.top, bottom: view.bottom - answer.bottom,
          height: answer.height, viewHeight: view.height};
}"""


ALL_DONE = "[...document.querySelectorAll('.chat-log .turn')].every(t => t.dataset.state == 'done')"


async def until(page: Page, script: str, timeout_s: float = 20) -> Any:
    """Poll a script (no string wait_for_function: the page's CSP forbids eval)."""
    async with asyncio.timeout(timeout_s):
        while not (value := await page.evaluate(script)):  # noqa: ASYNC110 - polling the page
            await asyncio.sleep(0.05)
    return value


@pytest.mark.parametrize("latency_ms", [100])
@pytest.mark.parametrize("viewport", SIZES)
async def test_citation_chips_stay_inside_their_bubble(
    new_page: Callable[..., Any], viewport: ViewportSize
) -> None:
    page: Page = await new_page(viewport=viewport)
    await research(page, "NVIDIA")
    await wait_finished(page)
    await page.fill("#question", "How does our offer fit them?")
    await page.press("#question", "Enter")
    await expect(page.locator('.turn[data-origin="here"]')).to_have_attribute("data-state", "done")
    chips = await page.evaluate(_CHIPS)
    assert len(chips) >= 5, chips
    outside = [c for c in chips if c["left"] < -0.5 or c["right"] < -0.5]
    assert not outside, outside
    # a truncated title is whole on hover
    assert all(c["title"] for c in chips)
    await shoot(page, f"chips-{viewport['width']}", full_page=False)


@pytest.mark.parametrize("latency_ms", [1500])
async def test_on_a_phone_the_chat_is_within_reach_while_it_runs(
    new_page: Callable[..., Any],
) -> None:
    page: Page = await new_page(viewport=PHONE)
    await research(page, "Stripe")
    await expect(page.locator("#session")).to_have_attribute("data-status", "running")
    # the steps are one summary line each; the question box, or the button to it, is in
    # the first screen
    summary = page.locator('[data-workflow="customer_intelligence"] [data-role="wf-summary"]')
    await expect(summary).to_contain_text("sources answered")
    await expect(page.locator('[data-workflow="customer_intelligence"] .step').first).to_be_hidden()
    await page.evaluate("window.scrollTo(0, 0)")
    box = await page.locator("#question").bounding_box()
    jump = page.locator('[data-role="ask-jump"]')
    in_first_screen = box is not None and box["y"] + box["height"] <= PHONE["height"]
    if not in_first_screen:
        await expect(jump).to_be_visible()
        jump_box = await jump.bounding_box()
        assert jump_box is not None and jump_box["y"] + jump_box["height"] <= PHONE["height"]
        await jump.click()
        await expect(page.locator("#question")).to_be_focused()
    await shoot(page, "phone-running-first-screen", full_page=False)
    # the steps open on demand
    toggle = page.locator('[data-workflow="customer_intelligence"] [data-role="wf-toggle"]')
    await toggle.click()
    await expect(
        page.locator('[data-workflow="customer_intelligence"] .step').first
    ).to_be_visible()
    await wait_finished(page)
    await expect(jump).to_be_hidden()


@pytest.mark.parametrize("latency_ms", [100])
@pytest.mark.parametrize("viewport", SIZES)
async def test_the_newest_answer_is_in_view_after_a_suggestion(
    new_page: Callable[..., Any], viewport: ViewportSize
) -> None:
    page: Page = await new_page(viewport=viewport)
    await research(page, "NVIDIA")
    await wait_finished(page)
    chips = page.locator('[data-role="suggestions"] .chip')
    for _ in range(3):  # a few answers, so the conversation is taller than its area
        await chips.first.click()
        await until(page, ALL_DONE)
    await page.locator(".chat-scroll").scroll_into_view_if_needed()
    newest = await page.evaluate(_NEWEST)
    assert newest["bottom"] >= -1, newest  # its end is not cut off
    assert newest["top"] >= -1 or newest["height"] > newest["viewHeight"], newest
    await shoot(page, f"newest-answer-{viewport['width']}", full_page=False)


@pytest.mark.parametrize("latency_ms", [100])
async def test_reading_up_is_not_interrupted_and_a_pill_leads_down(
    page: Page, api: httpx.AsyncClient
) -> None:
    session_id = await research(page, "NVIDIA")
    await wait_finished(page)
    last_done = "document.querySelector('.chat-log .turn:last-child')?.dataset.state === 'done'"
    for question in ("Who should I talk to?", "What technology do they use?", "Any news?"):
        await page.fill("#question", question)
        await page.press("#question", "Enter")
        await until(page, last_done)
    await page.evaluate("document.querySelector('.chat-scroll').scrollTop = 0")
    await asyncio.sleep(0.2)
    # a question from another tab arrives while the reader is up there: a pill, no jump
    asked = await api.post(
        f"/api/sessions/{session_id}/questions", json={"content": "Have they raised money?"}
    )
    assert asked.status_code == 200
    pill = page.locator('[data-role="new-answer"]')
    await expect(pill).to_be_visible()
    assert await page.evaluate("document.querySelector('.chat-scroll').scrollTop") == 0
    await pill.click()
    await expect(pill).to_be_hidden()


@pytest.mark.parametrize("latency_ms", [100])
async def test_a_finished_session_says_so(page: Page) -> None:
    await research(page, "Stripe")
    await expect(page.locator('[data-role="chat-title"]')).to_have_text("Ask while it runs")
    await expect(page.locator('[data-role="stream-state"]')).to_have_text("Live")
    await wait_finished(page)
    await expect(page.locator('[data-role="chat-title"]')).to_have_text("Ask about this account")
    await expect(page.locator('[data-role="stream-state"]')).to_be_hidden()
    chips = page.locator('[data-role="suggestions"] .chip')
    await expect(chips.first).to_be_visible()
    assert "What is still being collected?" not in await chips.all_inner_texts()
    await shoot(page, "finished-wording", full_page=False)
