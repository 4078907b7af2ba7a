"""Reload mid-run, or lose the stream: the page resumes by seq, nothing lost or shown twice."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.async_api import Page, Route, expect
from starlette.types import ASGIApp, Receive, Scope, Send

from dossier.app import create_app
from dossier.settings import Settings
from tests.browser.helpers import research, shoot, snapshot, wait_finished
from tests.sse import read_stream


def shown(step: dict[str, Any]) -> str:
    """How the page shows a step of the snapshot (timeline.js stepStatus): partly failed
    steps are "partial", unrecorded ones "not_recorded"."""
    if step["status"] == "completed" and step.get("partial"):
        return "partial"
    if step["status"] == "failed" and step.get("state") == "not_recorded":
        return "not_recorded"
    return str(step["status"])


async def page_state(page: Page) -> dict[str, Any]:
    """What the page shows: finding ids in document order, steps per workflow, analysis."""
    state: dict[str, Any] = await page.evaluate(
        """() => ({
          findings: [...document.querySelectorAll('.finding')].map(e => e.dataset.findingId),
          steps: Object.fromEntries([...document.querySelectorAll('[data-workflow]')].map(w => [
            w.dataset.workflow,
            [...w.querySelectorAll('.step[data-step]')]
              .map(s => [s.dataset.step, s.dataset.status]),
          ])),
          analysis: [...document.querySelectorAll('[data-role="briefing"] .analysis-text')]
            .map(p => p.textContent).join(' '),
          lastSeq: Number(document.querySelector('#session').dataset.lastSeq),
        })"""
    )
    return state


@pytest.mark.parametrize("latency_ms", [1200])
async def test_a_reload_mid_run_continues_without_duplicates_or_gaps(
    page: Page, api: httpx.AsyncClient
) -> None:
    session_id = await research(page, "Stripe")
    # Wait until some findings are in, but not all (Wikidata's people come one round later).
    await expect(page.locator(".finding").first).to_be_visible()
    before = await page_state(page)
    assert before["findings"] and before["lastSeq"] > 0

    async with (
        page.expect_request(re.compile(r"/events\?")) as stream_request,
        page.expect_response(re.compile(rf"/api/sessions/{session_id}$")) as snapshot_response,
    ):
        await page.reload()
    reloaded = await (await snapshot_response.value).json()
    assert reloaded["status"] == "running", "the reload must happen while the research runs"
    await expect(page.locator("#session")).to_have_attribute("data-state", "ready")
    await shoot(page, "laptop-mid-run-findings", full_page=False)

    # The stream resumed exactly where the snapshot ended.
    stream_url = (await stream_request.value).url
    resumed_at = parse_qs(urlsplit(stream_url).query)["last_event_id"]
    assert resumed_at == [str(reloaded["last_seq"])]
    assert reloaded["last_seq"] >= before["lastSeq"]

    await expect(page.locator('[data-group="people"] .finding')).to_have_count(2)
    await wait_finished(page)
    final = await snapshot(api, session_id)
    after = await page_state(page)

    # Same findings as the server, each exactly once.
    assert len(after["findings"]) == len(set(after["findings"]))
    assert set(after["findings"]) == {f["id"] for f in final["findings"]}
    assert set(before["findings"]) <= set(after["findings"])
    # Same timelines: every step, in order, in its final state.
    for kind, workflow in final["workflows"].items():
        assert after["steps"][kind] == [[s["name"], shown(s)] for s in workflow["steps"]]
    # The analysis (streamed after the reload) reads exactly as the server's.
    text = final["analysis"]["customer_intelligence"]["text"]
    assert " ".join(after["analysis"].split()) == " ".join(text.split())
    assert after["lastSeq"] == final["last_seq"]
    # Every finding card shows once in the DOM, also by title (no ghost copies).
    titles = await page.locator(".finding .finding-title").all_inner_texts()
    assert len(titles) == len(final["findings"])


class StreamOpens:
    """ASGI wrapper noting how each event stream the server serves was asked for.

    It wraps the whole app, not as middleware: the streams are served from the app's
    ASGI entry, ahead of its middleware stack."""

    def __init__(self, app: ASGIApp, seen: list[tuple[str, str | None]]) -> None:
        self.app = app
        self.seen = seen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/events"):
            headers = dict(scope["headers"])
            last = headers.get(b"last-event-id")
            self.seen.append((scope["query_string"].decode(), last.decode() if last else None))
        await self.app(scope, receive, send)


@pytest.fixture
def stream_opens() -> list[tuple[str, str | None]]:
    return []


@pytest.fixture
async def app(app_settings: Settings, stream_opens: list[tuple[str, str | None]]) -> ASGIApp:
    return StreamOpens(create_app(app_settings), seen=stream_opens)


@pytest.mark.parametrize("latency_ms", [500])
async def test_a_dropped_stream_resumes_by_last_event_id_and_overlaps_are_ignored(
    page: Page, api: httpx.AsyncClient, stream_opens: list[tuple[str, str | None]]
) -> None:
    """The page's first stream is cut after a dozen events, some of them sent twice; the
    browser's own reconnect must ask for the rest by Last-Event-ID, and show each once."""
    cut_at = 12
    opened: list[str] = []

    async def cut_first_stream(route: Route) -> None:
        opened.append(route.request.url)
        if len(opened) > 1:
            await route.continue_()
            return
        session_id = urlsplit(route.request.url).path.split("/")[3]
        events, _ = await read_stream(api, f"/api/sessions/{session_id}/events", stop_after=cut_at)
        frames = [f"id: {e.id}\nevent: {e.event}\ndata: {e.data}\n\n" for e in events[:cut_at]]
        # An overlap, as a proxy replaying its buffer would send; then the stream ends.
        body = "retry: 200\n\n" + "".join(frames[:8] + frames[4:])
        await route.fulfill(status=200, headers={"content-type": "text/event-stream"}, body=body)

    await page.route(re.compile(r"/api/sessions/s_[0-9a-f]+/events\?"), cut_first_stream)
    session_id = await research(page, "Stripe")
    await wait_finished(page)

    assert len(opened) >= 2, "the page never reconnected"
    # The server saw the browser's own reconnect (same URL) resume after the cut, by header.
    # (Playwright's interception does not show that header; the server does.)
    from_page = [(query, last) for query, last in stream_opens if "follow=true" in query]
    assert from_page[0] == (urlsplit(opened[0]).query, str(cut_at))
    final = await snapshot(api, session_id)
    after = await page_state(page)
    assert len(after["findings"]) == len(set(after["findings"]))
    assert set(after["findings"]) == {f["id"] for f in final["findings"]}
    for kind, workflow in final["workflows"].items():
        assert after["steps"][kind] == [[s["name"], shown(s)] for s in workflow["steps"]]
    assert after["lastSeq"] == final["last_seq"]
