"""The workflows with in-memory collectors from the registry (no recordings involved)."""

from __future__ import annotations

import httpx
import pytest

from dossier.app import Overrides
from dossier.settings import Settings
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
    jobs = done["coverage"]["jobs"]
    # what the broken board found before it failed is kept, and its failure is said
    assert jobs["state"] == "found" and jobs["found"] == 1 and jobs["complete"] is False
    assert jobs["reason"] == "1 open role; Broken board answered with an error"
    assert (
        jobs["sources"]["broken"]
        == {
            "state": "found",
            "found": 1,
            "reason": "1 of its requests failed: the board fell over",
            "cause": "http",
        }
        or jobs["sources"]["broken"]["state"] == "found"
    )
    assert {"data_type": "jobs", "state": "failed"}.items() <= next(
        m for m in done["missing"] if m["data_type"] == "jobs"
    ).items()
    assert done["coverage"]["news"] == {
        "state": "found",
        "found": 3,
        "complete": True,
        "reason": "3 stories",
        "sources": {"scripted": {"state": "found", "found": 3}},
    }


class TestCompleteSources:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        # a vendor known by what it sells only: nothing of ours to look up (so our side
        # is complete too, and the whole session can be served from cache)
        return settings.model_copy(update={"vendor_name": None})

    @pytest.fixture
    def overrides(self) -> Overrides:
        return Overrides(collector_table={"everything": "tests.fakes:EverythingCollector"})

    async def test_a_complete_research_is_completed_and_a_second_look_is_served_from_cache(
        self, client: httpx.AsyncClient
    ) -> None:
        opened = (await client.post("/api/sessions", json={"account": {"name": "Stripe"}})).json()
        events, _ = await read_stream(client, f"/api/sessions/{opened['session_id']}/events")
        done = events[-1].json["data"]
        assert done["status"] == "completed", done["missing"]
        assert done["missing"] == [] and done["hint"] is None
        assert {e["state"] for e in done["coverage"].values()} == {"found"}
        second = (
            await client.post("/api/sessions", json={"account": {"name": "Stripe, Inc."}})
        ).json()
        assert second["cached"] is True and second["status"] == "completed"
        again, _ = await read_stream(client, f"/api/sessions/{second['session_id']}/events")
        last = again[-1].json["data"]
        assert last["cached"] is True and last["status"] == "completed"
        assert last["cached_at"] <= again[-1].json["ts"]
        snapshot = (await client.get(f"/api/sessions/{second['session_id']}")).json()
        assert snapshot["summary"]["cached_at"] == last["cached_at"]
