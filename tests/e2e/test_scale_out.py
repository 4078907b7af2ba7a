"""Scale-out on the real local PostgreSQL and Redis: several processes, one truth.

Any replica serves any session's stream; a worker that dies mid-workflow has its work
taken over by a survivor; an API-only replica hands sessions to workers.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx

from tests.e2e.conftest import ServerProcess, free_port
from tests.e2e.test_crash_and_resume import check_exactly_once
from tests.sse import SSEEvent, SSEParser

VENDOR = {"DOSSIER_VENDOR_NAME": "Acme Analytics", "DOSSIER_VENDOR_DESCRIPTION": "fraud analytics"}


def env_for(pg_url: str, redis_url: str, executor: str, **extra: str) -> dict[str, str]:
    return {
        **VENDOR,
        "DOSSIER_DATABASE_URL": pg_url,
        "DOSSIER_REDIS_URL": redis_url,
        "DOSSIER_EXECUTOR_ID": executor,
        "DOSSIER_TAKEOVER_AFTER_S": "2",
        **extra,
    }


def api_replica(
    factory: type[ServerProcess], data: Path, pg_url: str, redis_url: str, name: str
) -> ServerProcess:
    """An API-only replica (not started)."""
    return factory(data, free_port(), env=env_for(pg_url, redis_url, name, DOSSIER_ROLE="api"))


def worker_process(
    factory: type[ServerProcess], data: Path, pg_url: str, redis_url: str, name: str
) -> ServerProcess:
    """A ``dossier worker`` (not started), without an ops port."""
    worker = factory(data, 0, env=env_for(pg_url, redis_url, name))
    worker.command = "worker"
    return worker


async def follow(client: httpx.AsyncClient, url: str, *, until_collecting: bool) -> list[SSEEvent]:
    """Read a stream; stop early once both workflows are collecting (if asked)."""
    events: list[SSEEvent] = []
    collecting: set[str] = set()
    parser = SSEParser()
    async with asyncio.timeout(90), client.stream("GET", url) as response:
        async for chunk in response.aiter_text():
            for event in parser.feed(chunk):
                events.append(event)
                if event.event == "step.started" and (event.json["step"] or "").startswith(
                    "collect."
                ):
                    collecting.add(event.json["workflow"])
            if until_collecting and collecting == {"vendor_context", "customer_intelligence"}:
                break
    return events


async def test_a_dead_workers_session_is_taken_over_and_streams_on_from_another_replica(
    tmp_path: Path, server_factory: type[ServerProcess], pg_url: str, redis_url: str
) -> None:
    doomed = server_factory(tmp_path / "a", free_port(), env=env_for(pg_url, redis_url, "exec-a"))
    doomed.start(DOSSIER_REPLAY_LATENCY_MS="2500")
    survivor = server_factory(tmp_path / "b", free_port(), env=env_for(pg_url, redis_url, "exec-b"))
    survivor.start(DOSSIER_REPLAY_LATENCY_MS="100")
    async with httpx.AsyncClient(timeout=30) as client:
        opened = (
            await client.post(f"{doomed.url}/api/sessions", json={"account": {"name": "Stripe"}})
        ).json()
        url = f"{survivor.url}/api/sessions/{opened['session_id']}/events"
        seen = await follow(client, url, until_collecting=True)  # live, from the other replica
        doomed.kill()
        rest, _ = await _resume(client, url, seen[-1].seq)
        metrics = (await client.get(f"{survivor.url}/metrics")).text
    everything = seen + rest
    check_exactly_once(everything)
    assert everything[-1].json["data"]["status"] in ("completed", "partial")
    took_over = re.search(r'dossier_steps_executed_total\{step="collect"\} (\d+)', metrics)
    assert took_over and int(took_over.group(1)) >= 1


async def _resume(client: httpx.AsyncClient, url: str, after: int) -> tuple[list[SSEEvent], None]:
    from tests.sse import read_stream

    events, _ = await read_stream(client, url, headers={"Last-Event-ID": str(after)}, timeout_s=90)
    return events, None


async def test_an_api_only_replica_hands_sessions_to_a_worker(
    tmp_path: Path, server_factory: type[ServerProcess], pg_url: str, redis_url: str
) -> None:
    worker_process(server_factory, tmp_path / "w", pg_url, redis_url, "worker-1").start(
        DOSSIER_REPLAY_LATENCY_MS="50"
    )
    api = api_replica(server_factory, tmp_path / "api", pg_url, redis_url, "api-1").start()
    async with httpx.AsyncClient(timeout=30) as client:
        opened = (
            await client.post(f"{api.url}/api/sessions", json={"account": {"name": "Stripe"}})
        ).json()
        events = await follow(
            client, f"{api.url}/api/sessions/{opened['session_id']}/events", until_collecting=False
        )
        api_metrics = (await client.get(f"{api.url}/metrics")).text
    check_exactly_once(events)
    titles = {e.json["data"]["title"] for e in events if e.event == "finding"}
    assert "Abuse Investigator" in titles
    assert 'step="collect"' not in api_metrics  # the API replica ran no workflow step
