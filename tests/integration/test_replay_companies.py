"""Replay researches of the other recorded companies yield coherent dossiers."""

from __future__ import annotations

from typing import Any

import httpx

from tests.sse import read_stream


async def research(client: httpx.AsyncClient, account: dict[str, str]) -> dict[str, Any]:
    opened = (await client.post("/api/sessions", json={"account": account})).json()
    await read_stream(client, f"/api/sessions/{opened['session_id']}/events", timeout_s=60)
    snapshot: dict[str, Any] = (await client.get(f"/api/sessions/{opened['session_id']}")).json()
    return snapshot


async def test_nvidia_from_sec_edgar(client: httpx.AsyncClient) -> None:
    snapshot = await research(client, {"name": "NVIDIA"})
    findings = snapshot["findings"]
    people = {f["fields"]["name"] for f in findings if f["kind"] == "person"}
    assert {"Jen-Hsun Huang", "Colette M. Kress"} <= people
    filings = [f for f in findings if f["kind"] == "filing"]
    assert any("5.02" in (f["fields"].get("items") or []) for f in filings)
    profile = next(f for f in findings if f["kind"] == "company_profile")
    assert profile["fields"]["headquarters"] == "Santa Clara, CA"
    text = snapshot["analysis"]["customer_intelligence"]["text"]
    assert "Jen-Hsun Huang (CEO" in text and "Latest SEC filings: 8-K (2026-03-06" in text


async def test_ramp_jobs_come_from_its_ashby_board(client: httpx.AsyncClient) -> None:
    snapshot = await research(client, {"name": "Ramp", "domain": "ramp.com"})
    jobs = [f for f in snapshot["findings"] if f["kind"] == "job_posting"]
    assert len(jobs) == 2
    assert {j["source"] for j in jobs} == {"ashby"}
    assert "Security Engineer, Cloud" in {j["title"] for j in jobs}
    pay = [j["fields"]["compensation"] for j in jobs if j["fields"]["compensation"]]
    assert pay and pay[0]["currency"] == "USD"


async def test_spotify_jobs_come_from_lever_with_explicit_board(client: httpx.AsyncClient) -> None:
    snapshot = await research(client, {"name": "Spotify"})
    jobs = [f for f in snapshot["findings"] if f["kind"] == "job_posting"]
    assert [j["title"] for j in jobs] == ["Android Engineer - Experience"]
    assert jobs[0]["fields"]["compensation"] is None  # no salaryRange recorded
