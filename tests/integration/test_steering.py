"""Steering does what its acknowledgement says (replay with 1.5 s per request)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from dossier.settings import Settings
from tests.sse import SSEEvent, read_stream

LATENCY_MS = 1500


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"replay_latency_ms": LATENCY_MS})


async def open_session(live: httpx.AsyncClient, name: str = "Stripe") -> str:
    response = await live.post("/api/sessions", json={"account": {"name": name}})
    assert response.status_code == 202
    return str(response.json()["session_id"])


async def snapshot(live: httpx.AsyncClient, session_id: str) -> dict[str, Any]:
    body: dict[str, Any] = (await live.get(f"/api/sessions/{session_id}")).json()
    return body


async def wait_for_step(
    live: httpx.AsyncClient, session_id: str, step: str | None, status: str = "running"
) -> None:
    """Until the customer workflow's ``step`` has ``status`` (``step=None``: until any
    collect step exists; collectors start after resolution)."""
    async with asyncio.timeout(30):
        while True:
            flows = (await snapshot(live, session_id))["workflows"]
            steps = flows.get("customer_intelligence", {}).get("steps", [])
            if any(
                s["name"].startswith("collect.")
                if step is None
                else (s["name"] == step and s["status"] == status)
                for s in steps
            ):
                return
            await asyncio.sleep(0.02)


def collect_ends(events: list[SSEEvent]) -> dict[str, SSEEvent]:
    return {
        e.json["step"]: e
        for e in events
        if e.json["workflow"] == "customer_intelligence"
        and (e.json["step"] or "").startswith("collect.")
        and e.event in ("step.completed", "step.failed", "step.skipped")
    }


async def test_stop_keeps_what_collectors_in_flight_already_have(live: httpx.AsyncClient) -> None:
    session_id = await open_session(live)
    await wait_for_step(live, session_id, "collect.greenhouse")
    # every collector's first request is in flight (due after 1.5 s): stop at 1 s into it
    await asyncio.sleep(1.0)
    response = await live.post(
        f"/api/sessions/{session_id}/steer", json={"action": "stop_and_summarize", "id": "stop"}
    )
    assert response.status_code == 202
    ack = response.json()
    assert ack["applies_at"] == "next_request"
    assert "may finish the request in flight" in ack["message"]
    events, _ = await read_stream(live, f"/api/sessions/{session_id}/events", timeout_s=60)
    jobs = [e for e in events if e.event == "finding" and e.json["data"]["kind"] == "job_posting"]
    assert len(jobs) == 2, "the Greenhouse answer in flight was kept"
    ends = collect_ends(events)
    # Greenhouse needed one request: it finished within the grace
    assert ends["collect.greenhouse"].event == "step.completed"
    # Wikidata's second request (labels) was never sent: it kept its profile and stopped
    assert ends["collect.wikidata"].event == "step.skipped"
    assert ends["collect.wikidata"].json["data"]["found"] >= 1
    done = events[-1].json["data"]
    assert done["status"] == "partial"
    assert done["coverage"]["jobs"]["state"] == "found"
    analysis = next(
        e.json["data"]["text"]
        for e in events
        if e.event == "analysis.completed" and e.json["workflow"] == "customer_intelligence"
    )
    assert "Abuse Investigator" in analysis or "open role" in analysis
    late = await live.post(
        f"/api/sessions/{session_id}/steer", json={"action": "skip", "target": "jobs"}
    )
    assert late.status_code == 409  # nothing left to steer


async def test_skipping_a_running_collector_stops_it_and_logs_nothing_more_of_it(
    live: httpx.AsyncClient,
) -> None:
    session_id = await open_session(live)
    await wait_for_step(live, session_id, "collect.greenhouse")
    await asyncio.sleep(0.5)
    response = await live.post(
        f"/api/sessions/{session_id}/steer",
        json={"action": "skip", "target": "jobs", "id": "skip-jobs"},
    )
    ack = response.json()
    assert ack["applies_at"] == "now" and "Greenhouse" in ack["message"]
    events, _ = await read_stream(live, f"/api/sessions/{session_id}/events", timeout_s=60)
    ack_seq = next(e.seq for e in events if e.event == "steer.ack")
    greenhouse = [e for e in events if e.json["step"] == "collect.greenhouse"]
    assert not [e for e in greenhouse if e.event == "finding" and e.seq > ack_seq]
    ends = collect_ends(events)
    assert ends["collect.greenhouse"].event == "step.skipped"
    done = events[-1].json["data"]
    assert done["status"] == "partial"
    jobs = done["coverage"]["jobs"]
    assert jobs["state"] == "skipped" and jobs["found"] == 0
    assert jobs["sources"]["greenhouse"]["state"] == "skipped"
    assert {m["data_type"] for m in done["missing"]} >= {"jobs"}
    # others ran on: news was still collected
    assert done["coverage"]["news"]["state"] == "found"


async def test_skip_after_the_data_is_in_says_there_is_nothing_to_skip(
    live: httpx.AsyncClient,
) -> None:
    session_id = await open_session(live)
    await wait_for_step(live, session_id, "collect.greenhouse", "completed")
    response = await live.post(
        f"/api/sessions/{session_id}/steer", json={"action": "skip", "target": "greenhouse"}
    )
    ack = response.json()
    assert ack["applies_at"] == "already_done"
    assert ack["message"] == "greenhouse is already collected (2 findings): nothing to skip."
    events, _ = await read_stream(live, f"/api/sessions/{session_id}/events", timeout_s=60)
    assert events[-1].json["data"]["coverage"]["jobs"]["state"] == "found"


class TestFocus:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        # one request at a time: every collector waits its turn, so order is visible
        return settings.model_copy(update={"replay_latency_ms": 200, "source_concurrency": 1})

    async def test_focus_sends_the_data_types_waiting_requests_first(
        self, live: httpx.AsyncClient
    ) -> None:
        session_id = await open_session(live)
        await wait_for_step(live, session_id, None)
        response = await live.post(
            f"/api/sessions/{session_id}/steer", json={"action": "focus", "target": "jobs"}
        )
        ack = response.json()
        assert ack["applies_at"] == "next_request" and ack["message"].startswith("jobs goes first")
        events, _ = await read_stream(live, f"/api/sessions/{session_id}/events", timeout_s=60)
        ends = collect_ends(events)
        order = sorted(ends, key=lambda step: ends[step].seq)
        # at most the request already in flight (and its collector) finishes before it
        assert order.index("collect.greenhouse") <= 1, order
        # and nothing was skipped: focus reorders, it does not drop
        assert {e.event for e in ends.values()} <= {"step.completed", "step.failed"}
        assert events[-1].json["data"]["coverage"]["news"]["state"] == "found"
