"""The workflows with in-memory collectors from the registry (no recordings involved)."""

from __future__ import annotations

import httpx
import pytest

from dossier.app import Overrides
from tests.sse import read_stream


@pytest.fixture
def overrides() -> Overrides:
    return Overrides(
        collector_table={
            "scripted": "tests.fakes:ScriptedCollector",
            "broken": "tests.fakes:BrokenCollector",
        }
    )


async def test_collectors_are_found_by_name_and_their_failures_are_partial_results(
    client: httpx.AsyncClient,
) -> None:
    opened = (await client.post("/api/sessions", json={"account": {"name": "Acme"}})).json()
    events, _ = await read_stream(client, f"/api/sessions/{opened['session_id']}/events")
    customer = [e for e in events if e.json["workflow"] == "customer_intelligence"]
    scripted = [e for e in customer if e.json["step"] == "collect.scripted"]
    assert [
        e.event
        for e in scripted
        if (e.event or "").startswith("step.") and e.event != "step.progress"
    ] == [
        "step.started",
        "step.completed",
    ]
    assert [e.json["data"]["title"] for e in scripted if e.event == "finding"] == [
        "Acme story 0",
        "Acme story 1",
        "Acme story 2",
    ]
    broken = [e for e in customer if e.json["step"] == "collect.broken"]
    failed = broken[-1]
    assert failed.event == "step.failed"
    assert failed.json["data"] == {
        **failed.json["data"],
        "error": "the board fell over",
        "found": 1,
        "partial": True,
    }
    assert [e.json["data"]["title"] for e in broken if e.event == "finding"] == ["Half a job"]
    done = events[-1].json["data"]
    assert done["status"] == "partial"
    assert (
        done["coverage"]["jobs"]["status"] == "missing" and done["coverage"]["news"]["found"] == 3
    )
