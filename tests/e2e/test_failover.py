"""Failover on the real local PostgreSQL and Redis, as an operator would try it.

Replicas and workers started together on a fresh database all come up; a worker killed
mid-session has its session finished by another worker, with the client told on the
stream and no step run again that clients saw complete; an API replica runs no step,
not even recovered ones.
"""

from __future__ import annotations

import asyncio
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psycopg

from tests.e2e.conftest import ServerProcess, free_port
from tests.e2e.test_crash_and_resume import check_exactly_once
from tests.e2e.test_scale_out import VENDOR, follow
from tests.sse import SSEEvent, SSEParser


def env_for(pg_url: str, redis_url: str, executor: str, **extra: str) -> dict[str, str]:
    # the default takeover settings: what an operator gets
    return {
        **VENDOR,
        "DOSSIER_DATABASE_URL": pg_url,
        "DOSSIER_REDIS_URL": redis_url,
        "DOSSIER_EXECUTOR_ID": executor,
        **extra,
    }


def collects_executed(metrics: str) -> int:
    found = re.search(r'dossier_steps_executed_total\{step="collect"\} (\d+)', metrics)
    return int(found.group(1)) if found else 0


async def test_replicas_and_a_worker_started_together_on_a_fresh_database_all_serve(
    tmp_path: Path, server_factory: type[ServerProcess], pg_url: str, redis_url: str
) -> None:
    apis = [
        server_factory(
            tmp_path / f"api{i}",
            free_port(),
            env=env_for(pg_url, redis_url, f"api-{i}", DOSSIER_ROLE="api"),
        )
        for i in (1, 2)
    ]
    ops_port = free_port()
    worker = server_factory(
        tmp_path / "w",
        ops_port,
        env=env_for(pg_url, redis_url, "worker-1", DOSSIER_WORKER_PORT=str(ops_port)),
    )
    worker.command = "worker"
    with ThreadPoolExecutor(3) as pool:  # all at once, on a database with no tables yet
        list(pool.map(lambda p: p.start(DOSSIER_REPLAY_LATENCY_MS="20"), [*apis, worker]))
    async with httpx.AsyncClient(timeout=30) as client:
        opened = (
            await client.post(f"{apis[0].url}/api/sessions", json={"account": {"name": "Stripe"}})
        ).json()
        url = f"{apis[1].url}/api/sessions/{opened['session_id']}/events"
        events = await follow(client, url, until_collecting=False)
        # the worker answers health checks and scrapes on its own port
        assert (await client.get(f"{worker.url}/healthz")).json() == {"ok": True}
        ready = (await client.get(f"{worker.url}/readyz")).json()
        assert ready == {"ok": True, "postgres": "ok", "redis": "ok"}
        worker_metrics = (await client.get(f"{worker.url}/metrics")).text
    check_exactly_once(events)
    assert collects_executed(worker_metrics) >= 1  # it ran the session


async def test_a_killed_workers_session_finishes_on_another_and_the_client_is_told(
    tmp_path: Path, server_factory: type[ServerProcess], pg_url: str, redis_url: str
) -> None:
    api = server_factory(
        tmp_path / "api", free_port(), env=env_for(pg_url, redis_url, "api-1", DOSSIER_ROLE="api")
    ).start()
    workers = {
        name: server_factory(tmp_path / name, free_port(), env=env_for(pg_url, redis_url, name))
        for name in ("worker-a", "worker-b")
    }
    for worker in workers.values():
        worker.start(DOSSIER_REPLAY_LATENCY_MS="1500")
    async with httpx.AsyncClient(timeout=30) as client:
        opened = (
            await client.post(f"{api.url}/api/sessions", json={"account": {"name": "Stripe"}})
        ).json()
        session = opened["session_id"]
        url = f"{api.url}/api/sessions/{session}/events"
        seen = await follow(client, url, until_collecting=True)
        with psycopg.connect(pg_url) as conn:
            row = conn.execute(
                "SELECT executor_id FROM dbos.workflow_status WHERE workflow_uuid = %s", (session,)
            ).fetchone()
        assert row is not None
        doomed = row[0]
        [survivor] = [name for name in workers if name != doomed]
        workers[doomed].kill()
        killed_at = time.monotonic()
        rest, told_at = await _resume_until_told(client, url, seen[-1].seq, killed_at)
        survivor_metrics = (await client.get(f"{workers[survivor].url}/metrics")).text
        api_metrics = (await client.get(f"{api.url}/metrics")).text
    everything = seen + rest
    check_exactly_once(everything)
    assert everything[-1].json["data"]["status"] in ("completed", "partial")
    [resumed] = [e for e in rest if e.event == "session.resumed"]
    assert resumed.json["data"]["reason"] == "executor_lost"
    assert resumed.json["data"]["from_executor"] == doomed
    assert resumed.json["data"]["to_executor"] == survivor
    assert 'step="collect"' not in api_metrics  # the API replica ran nothing, recovered or not
    # Nothing the clients saw complete ran again: the survivor ran at most the rest.
    collects = {(e.json["workflow"], e.json["step"]) for e in everything if _collect(e)}
    seen_done = {
        (e.json["workflow"], e.json["step"])
        for e in seen
        if e.event in ("step.completed", "step.failed", "step.skipped") and _collect(e)
    }
    assert collects_executed(survivor_metrics) <= len(collects - seen_done)
    assert re.search(r"^dossier_takeovers_total 1$", survivor_metrics, re.MULTILINE)
    print(f"takeover: client told {told_at:.1f} s after the kill")  # (measured, not asserted)


def _collect(event: SSEEvent) -> bool:
    return event.event is not None and (event.json.get("step") or "").startswith("collect.")


async def _resume_until_told(
    client: httpx.AsyncClient, url: str, after: int, killed_at: float
) -> tuple[list[SSEEvent], float]:
    """The rest of the stream, and how long after the kill ``session.resumed`` arrived."""
    told_at = -1.0
    events: list[SSEEvent] = []
    parser = SSEParser()
    headers = {"Last-Event-ID": str(after)}
    async with asyncio.timeout(90), client.stream("GET", url, headers=headers) as response:
        async for chunk in response.aiter_text():
            for event in parser.feed(chunk):
                events.append(event)
                if event.event == "session.resumed" and told_at < 0:
                    told_at = time.monotonic() - killed_at
    return events, told_at
