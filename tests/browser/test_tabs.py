"""Two tabs on one session: each sees the other's chat, in the same panel, once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.browser.helpers import research, snapshot, wait_finished


async def ask(page: Page, question: str) -> None:
    await page.fill("#question", question)
    await page.press("#question", "Enter")


@pytest.mark.parametrize("latency_ms", [800])
async def test_a_second_tab_sees_the_chat_asked_in_the_first(
    new_page: Callable[..., Any], api: httpx.AsyncClient
) -> None:
    first: Page = await new_page()
    session_id = await research(first, "Stripe")
    # A second tab, same browser: researching the same account joins the running session.
    second: Page = await new_page(context=first.context)
    assert await research(second, "Stripe") == session_id
    await expect(second.locator('[data-role="badge-joined"]')).to_be_visible()
    await expect(first.locator('[data-role="badge-joined"]')).to_be_hidden()
    for tab in (first, second):
        await expect(tab.locator('[data-role="chat-conn"]')).to_have_attribute("data-state", "open")

    # Asked in the first tab while the research runs ...
    await ask(first, "Which teams are they hiring for?")
    mine = first.locator('.turn[data-origin="here"]')
    await expect(mine).to_have_attribute("data-state", "done")
    # ... it shows in the second, marked as from elsewhere, with the same answer.
    theirs = second.locator('.turn[data-origin="elsewhere"]')
    await expect(theirs.locator(".question-text")).to_have_text("Which teams are they hiring for?")
    await expect(theirs.locator(".who")).to_have_text("Asked in another tab")
    await expect(theirs).to_have_attribute("data-state", "done")
    first_answer = await mine.locator(".answer-body > .answer-text").inner_text()
    await expect(theirs.locator(".answer-body > .answer-text")).to_have_text(first_answer)

    # After the research ends the stream stays open (follow=true): chat still flows both ways.
    await wait_finished(first)
    await wait_finished(second)
    await ask(second, "What is new with them?")
    echoed = first.locator('.turn[data-origin="elsewhere"]', has_text="What is new with them?")
    await expect(echoed).to_have_attribute("data-state", "done")
    await expect(echoed.locator(".answer-body > .answer-text")).to_contain_text("stories")
    await expect(echoed.locator(".cite").first).to_be_visible()

    # Each tab shows each question exactly once, as the server logged them.
    final = await snapshot(api, session_id)
    asked = [turn["question"] for turn in final["chat"]]
    assert asked == ["Which teams are they hiring for?", "What is new with them?"]
    for tab in (first, second):
        assert await tab.locator(".turn .question-text").all_inner_texts() == asked
