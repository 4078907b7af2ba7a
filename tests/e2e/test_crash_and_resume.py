"""Real server processes: disconnect/resume, and SIGKILL mid-workflow then restart."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import httpx

from tests.e2e.conftest import ServerProcess, free_port
from tests.sse import SSEEvent, read_stream

VENDOR = {"DOSSIER_VENDOR_NAME": "Acme Analytics", "DOSSIER_VENDOR_DESCRIPTION": "fraud analytics"}


def executed(metrics_text: str, step: str) -> int:
    match = re.search(rf'dossier_steps_executed_total{{step="{step}"}} (\d+)', metrics_text)
    return int(match.group(1)) if match else 0


def check_exactly_once(events: list[SSEEvent]) -> None:
    seqs = [e.seq for e in events]
    assert seqs == list(range(1, len(seqs) + 1)), "every event once, in order, no gap"
    starts = Counter(
        (e.json["workflow"], e.json["step"]) for e in events if e.event == "step.started"
    )
    assert all(n == 1 for n in starts.values()), starts
    ends = Counter(
        (e.json["workflow"], e.json["step"])
        for e in events
        if e.event in ("step.completed", "step.failed", "step.skipped")
    )
    assert all(n == 1 for n in ends.values()), ends
    assert set(starts) == set(ends)
    # one event per (source, fact); the same fact from two sources is merged by the snapshot
    findings = [
        (e.json["data"]["source"], e.json["data"]["id"]) for e in events if e.event == "finding"
    ]
    assert len(findings) == len(set(findings))
    assert [e.event for e in events].count("session.completed") == 1
    assert events[-1].event == "session.completed"


async def test_a_client_that_disconnects_resumes_without_loss_or_duplicates(
    tmp_path: Path, server_factory: type[ServerProcess]
) -> None:
    server = server_factory(tmp_path / "data", free_port(), env=VENDOR).start(
        DOSSIER_REPLAY_LATENCY_MS="400"
    )
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        opened = (await client.post("/api/sessions", json={"account": {"name": "Stripe"}})).json()
        url = f"/api/sessions/{opened['session_id']}/events"
        first, _ = await read_stream(client, url, stop_after=6)
        rest, _ = await read_stream(client, url, headers={"Last-Event-ID": str(first[-1].seq)})
        whole, _ = await read_stream(client, url)
    assert [(e.seq, e.data) for e in first + rest] == [(e.seq, e.data) for e in whole]
    check_exactly_once(first + rest)


async def test_sigkill_mid_workflow_resumes_on_restart_and_clients_miss_nothing(
    tmp_path: Path, server_factory: type[ServerProcess]
) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    first_server = server_factory(data_dir, port, env=VENDOR).start(
        DOSSIER_REPLAY_LATENCY_MS="2500"
    )
    seen: list[SSEEvent] = []
    async with httpx.AsyncClient(base_url=first_server.url, timeout=30) as client:
        opened = (await client.post("/api/sessions", json={"account": {"name": "Stripe"}})).json()
        session_id = opened["session_id"]
        url = f"/api/sessions/{session_id}/events"
        collecting: set[str] = set()
        async with client.stream("GET", url) as response:
            from tests.sse import SSEParser

            parser = SSEParser()
            async for chunk in response.aiter_text():
                for event in parser.feed(chunk):
                    seen.append(event)
                    step = event.json["step"] or ""
                    if event.event == "step.started" and step.startswith("collect."):
                        collecting.add(event.json["workflow"])
                if collecting == {"vendor_context", "customer_intelligence"}:
                    break
    assert not any(
        e.event == "step.completed" and (e.json["step"] or "").startswith("collect.") for e in seen
    )
    first_server.kill()  # SIGKILL: no shutdown hooks, collection in flight

    second_server = server_factory(data_dir, port, env=VENDOR).start(
        DOSSIER_REPLAY_LATENCY_MS="100"
    )
    async with httpx.AsyncClient(base_url=second_server.url, timeout=30) as client:
        rest, _ = await read_stream(
            client, url, headers={"Last-Event-ID": str(seen[-1].seq)}, timeout_s=60
        )
        metrics = (await client.get("/metrics")).text
        snapshot = (await client.get(f"/api/sessions/{session_id}")).json()
    everything = seen + rest
    check_exactly_once(everything)
    assert snapshot["status"] in ("completed", "partial")
    assert snapshot["last_seq"] == everything[-1].seq
    titles = {f["title"] for f in snapshot["findings"]}
    assert "Abuse Investigator" in titles
    # Completed steps were not re-run by the new process; the interrupted ones were.
    assert executed(metrics, "cache_check") == 0
    assert executed(metrics, "collect") >= 2
    # a workflow that ended before the kill (our own company: nothing of it is recorded,
    # so it fails fast) is not analyzed again; the other one is
    ended = {e.json["workflow"] for e in seen if e.event == "workflow.completed"}
    assert executed(metrics, "analyze") == 2 - len(ended)
