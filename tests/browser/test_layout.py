"""Phone-width layout and keyboard-only use."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.browser.helpers import LAPTOP, PHONE, shoot, wait_finished

_OVERFLOW = """() => ({
  scrollWidth: document.documentElement.scrollWidth,
  viewport: window.innerWidth,
  wide: [...document.querySelectorAll('body *')]
    .filter(e => e.getClientRects().length)
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
    .filter(e => !e.closest('.chat-scroll, .sr-only'))
    .map(e => e.tagName + '.' + e.className).slice(0, 5),
})"""


async def assert_no_horizontal_overflow(page: Page) -> None:
    layout = await page.evaluate(_OVERFLOW)
    assert layout["scrollWidth"] <= layout["viewport"], layout
    assert layout["wide"] == [], layout


@pytest.mark.parametrize("latency_ms", [600])
async def test_at_phone_width_nothing_overflows_and_the_keyboard_alone_suffices(
    new_page: Callable[..., Any],
) -> None:
    page: Page = await new_page(viewport=PHONE)
    await page.goto("/")
    await expect(page.locator("#welcome")).to_be_visible()

    # Tab lands in the company box first; typing and Enter start the research.
    await page.keyboard.press("Tab")
    await expect(page.locator("#company")).to_be_focused()
    outline = await page.evaluate("getComputedStyle(document.activeElement).boxShadow")
    assert outline != "none", "the focused field must show a focus ring"
    await page.keyboard.type("Stripe")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"[?&]session=s_"))
    await expect(page.locator("#session")).to_have_attribute("data-state", "ready")
    await expect(page.locator(".finding").first).to_be_visible()
    await assert_no_horizontal_overflow(page)
    await shoot(page, "phone-mid-run")

    await wait_finished(page)
    await expect(page.locator('[data-role="coverage"]')).to_be_visible()
    await assert_no_horizontal_overflow(page)

    # The chat by keyboard: Enter sends; a citation is a button Enter activates.
    await page.focus("#question")
    await page.keyboard.type("Who should I talk to?")
    await page.keyboard.press("Enter")
    turn = page.locator('.turn[data-origin="here"]')
    await expect(turn).to_have_attribute("data-state", "done")
    await assert_no_horizontal_overflow(page)
    await shoot(page, "phone-finished")
    cite = turn.locator(".cite").first
    await cite.focus()
    await page.keyboard.press("Enter")
    finding = await cite.get_attribute("data-finding")
    await expect(page.locator(f"#finding-{finding}")).to_be_focused()

    # The same page at laptop width does not overflow either.
    await page.set_viewport_size(LAPTOP)
    await assert_no_horizontal_overflow(page)
