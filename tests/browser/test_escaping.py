"""Text from sources is text: markup in a finding or a chat answer never becomes HTML."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from playwright.async_api import Page, expect

from dossier.core.events import NewEvent
from tests.browser.helpers import research, wait_finished

EVIL_TITLE = '<img src=x onerror="window.__pwned=1">Evil <b>headline</b>'
EVIL_ID = "f_0000000000bad001"
EVIL_FINDING = {
    "id": EVIL_ID,
    "kind": "news_article",
    "title": EVIL_TITLE,
    "source": "<script>window.__pwned=2</script>",
    "url": "javascript:window.__pwned=3",
    "observed_at": "2026-11-24T10:00:00Z",
    "published_at": "2026-11-24T09:00:00Z",
    "confidence": 0.5,
    "fields": {"outlet": "<svg onload=window.__pwned=4>", "points": 7},
}
EVIL_QUESTION = "<img src=x onerror=window.__pwned=5>what?"
EVIL_ANSWER = "</p><script>window.__pwned=6</script><a href=javascript:alert(1)>click</a>"


async def inject(app: FastAPI, session_id: str) -> None:
    """Append what a hostile source (and a hostile tab) could have put on the log."""
    await app.state.services.sessions.log.append(
        session_id,
        [
            NewEvent(
                type="finding",
                data=EVIL_FINDING,
                workflow="customer_intelligence",
                step="collect.hn",
            ),
            NewEvent(type="chat.question", data={"id": "q_evil", "content": EVIL_QUESTION}),
            NewEvent(
                type="answer.end",
                data={
                    "id": "q_evil",
                    "text": EVIL_ANSWER,
                    "citations": [
                        {"finding": EVIL_ID, "url": "javascript:alert(2)", "title": EVIL_TITLE}
                    ],
                    "complete": True,
                    "pending": [],
                    "latency_ms": 1.0,
                    "partial": False,
                    "basis": "complete",
                },
            ),
        ],
    )


async def assert_inert(page: Page) -> None:
    card = page.locator(f'[data-finding-id="{EVIL_ID}"]')
    await expect(card.locator(".finding-title")).to_have_text(EVIL_TITLE)
    await expect(card.locator(".finding-detail")).to_contain_text("<svg onload=window.__pwned=4>")
    await expect(card.locator(".finding-source")).to_have_text("<script>window.__pwned=2</script>")
    # A javascript: URL is never made a link.
    assert await card.locator("a").count() == 0
    turn = page.locator('.turn[data-turn-id="q_evil"]')
    await expect(turn.locator(".question-text")).to_have_text(EVIL_QUESTION)
    await expect(turn.locator(".answer-text")).to_have_text(EVIL_ANSWER)
    await expect(turn.locator(".cite-title")).to_have_text(EVIL_TITLE)
    # No element was made from the markup, no link to javascript:, no script ran.
    for root in (card, turn):
        assert await root.locator("img, script, svg, b, p a, iframe").count() == 0
    assert await page.locator('a[href^="javascript:" i]').count() == 0
    assert await page.evaluate("window.__pwned") is None


@pytest.mark.parametrize("latency_ms", [600])
async def test_markup_from_sources_and_chat_renders_as_text(
    page: Page, app: FastAPI, api: httpx.AsyncClient
) -> None:
    session_id = await research(page, "Stripe")
    # Mid-run: once a session is closed its log takes only chat events.
    await inject(app, session_id)  # arrives live, over the event stream
    await assert_inert(page)
    await wait_finished(page)

    # Clicking the hostile citation still only jumps to the finding.
    await page.locator('.turn[data-turn-id="q_evil"] .cite').click()
    await expect(page.locator(f"#finding-{EVIL_ID}")).to_have_class("finding is-highlighted")

    # And the snapshot path (reload) renders it just as inertly.
    await page.reload()
    await expect(page.locator("#session")).to_have_attribute("data-state", "ready")
    await assert_inert(page)
    snap = (await api.get(f"/api/sessions/{session_id}")).json()
    assert any(f["title"] == EVIL_TITLE for f in snap["findings"])
