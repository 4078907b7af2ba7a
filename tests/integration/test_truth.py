"""What the research says is true: offline, not recorded, not identified, sample data."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from dossier.app import Overrides, create_app
from dossier.cache.layers import build_cache
from dossier.cache.store import ResearchCache
from dossier.core.types import DataType
from dossier.settings import Settings
from tests.fakes import OfflineTransport
from tests.sse import SSEEvent, read_stream


async def research(
    client: httpx.AsyncClient, account: dict[str, Any]
) -> tuple[dict[str, Any], list[SSEEvent]]:
    opened = (await client.post("/api/sessions", json={"account": account})).json()
    events, _ = await read_stream(client, f"/api/sessions/{opened['session_id']}/events")
    snapshot: dict[str, Any] = (await client.get(f"/api/sessions/{opened['session_id']}")).json()
    return snapshot, events


async def run_app(settings: Settings, overrides: Overrides, account: dict[str, Any]) -> Any:
    app: FastAPI = create_app(settings, overrides)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
            return await research(http, account)


def states(snapshot: dict[str, Any]) -> dict[str, str]:
    return {t: e["state"] for t, e in snapshot["coverage"].items()}


async def test_offline_is_failed_with_a_network_hint_and_leaves_nothing_in_the_cache(
    settings: Settings,
) -> None:
    live = settings.model_copy(
        update={"sources": "live", "http_retries": 1, "http_backoff_s": 0.01}
    )
    offline = OfflineTransport()
    snapshot, _ = await run_app(live, Overrides(source_transport=offline), {"name": "Stripe"})
    assert offline.requests, "the sources were asked"
    assert snapshot["status"] == "failed"
    assert snapshot["hint"].startswith("Cannot reach the internet from this machine")
    assert set(states(snapshot).values()) == {"failed"}
    assert snapshot["coverage"]["jobs"]["sources"]["greenhouse"]["cause"] == "network"
    assert "could not reach" in snapshot["coverage"]["news"]["reason"]
    resolve = next(
        s for s in snapshot["workflows"]["customer_intelligence"]["steps"] if s["name"] == "resolve"
    )
    assert resolve["status"] == "failed"  # never a green "done" over failed lookups
    analysis = snapshot["analysis"]["customer_intelligence"]["text"]
    assert "could not reach" in analysis and "Not found" not in analysis
    # nothing of the failed run was stored: not the resolution, not a source, not the analysis
    cache = ResearchCache(build_cache(live.cache_dir, None), mode="live")
    assert await cache.get_resolution("stripe") is None
    assert await cache.get_source({DataType.JOBS}, "stripe", "greenhouse") is None
    assert await cache.get_analysis("customer_intelligence", "stripe", "-") is None

    # The same data dir, now in replay (make demo after make run): the recordings are used.
    replay, _ = await run_app(settings, Overrides(), {"name": "Stripe"})
    people = {f["fields"].get("name") for f in replay["findings"] if f["kind"] == "person"}
    assert {"Patrick Collison", "John Collison"} <= people
    assert any(f["kind"] == "company_profile" for f in replay["findings"])
    assert states(replay)["profile"] == states(replay)["people"] == "found"


async def test_an_unidentified_company_is_partial_and_asks_for_its_domain(
    client: httpx.AsyncClient,
) -> None:
    snapshot, _ = await research(client, {"name": "Xyzzy Corp"})
    assert snapshot["status"] == "partial"
    found = states(snapshot)
    for data_type in ("profile", "people", "funding", "tech"):
        assert found[data_type] == "unresolved", data_type
    assert snapshot["coverage"]["profile"]["reason"].startswith(
        "couldn't identify Xyzzy Corp: add its domain"
    )
    assert "add its domain" in snapshot["hint"]
    # nothing is "complete, 0 found" on the strength of a request nobody recorded
    assert found["jobs"] == found["news"] == "not_recorded"
    assert {m["data_type"] for m in snapshot["missing"]} == set(found)


@pytest.mark.parametrize("name", ["Stripe", "NVIDIA"])
async def test_replay_never_says_none_found_on_an_unrecorded_request(
    client: httpx.AsyncClient, name: str
) -> None:
    snapshot, events = await research(client, {"name": name})
    unrecorded = {
        e.json["step"].removeprefix("collect.")
        for e in events
        if e.event == "step.failed"
        and e.json["workflow"] == "customer_intelligence"
        and e.json["data"].get("state") == "not_recorded"
    }
    for data_type, entry in snapshot["coverage"].items():
        for source, said in entry["sources"].items():
            if source in unrecorded:
                assert said["state"] == "not_recorded", (data_type, source, said)
        if entry["state"] == "none_found":
            assert not set(entry["sources"]) & unrecorded, data_type
    if name == "NVIDIA":
        assert states(snapshot)["jobs"] == states(snapshot)["news"] == "not_recorded"
        assert states(snapshot)["funding"] == "found"
    else:  # Stripe: a round read from a headline; SEC EDGAR itself was not recorded
        funding = snapshot["coverage"]["funding"]
        assert funding["state"] == "found" and funding["complete"] is False
        assert funding["sources"]["sec_edgar"]["state"] == "not_recorded"
    assert snapshot["status"] == "partial"


async def test_findings_from_constructed_recordings_are_marked_as_samples(
    client: httpx.AsyncClient,
) -> None:
    snapshot, _ = await research(client, {"name": "Stripe"})
    by_source: dict[str, set[bool]] = {}
    for finding in snapshot["findings"]:
        for source in finding["fields"].get("sources") or [finding["source"]]:
            by_source.setdefault(source, set()).add(finding["fields"].get("sample") is True)
    assert by_source["gdelt"] == {True} and by_source["hn"] == {True}  # invented headlines
    assert by_source["greenhouse"] == {False}  # real recordings
    text = snapshot["analysis"]["customer_intelligence"]["text"]
    assert "(constructed)” (2026-10-04, example.com) [sample data]." in text
