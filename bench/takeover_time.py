"""Takeover time: a worker SIGKILLed mid-session, until its session goes on elsewhere.

    python bench/takeover_time.py --database-url URL --redis-url URL [--json]

The scenario of tests/e2e/test_failover.py, as an operator would see it: one API replica
(``DOSSIER_ROLE=api``) and two ``dossier worker`` processes on a scratch PostgreSQL
database and Redis, default takeover settings, replayed sources answering in 1.5 s. A
client opens a research on the API replica and follows its stream; once both workflows
are collecting, the worker running the session is SIGKILLed. Reports, from the kill:
``told_s`` until ``session.resumed`` reached the client (the survivor took the session
over and goes on), ``next_step_s`` until the next step event after it, and
``completed_s`` until ``session.completed``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import signal
import tempfile
import threading
import time
from typing import Any

import httpx
import psycopg
from procs import PY, Server, free_port, running

VENDOR = {"DOSSIER_VENDOR_NAME": "Acme Analytics", "DOSSIER_VENDOR_DESCRIPTION": "fraud analytics"}
WAIT_S = 90


def _env(pg_url: str, redis_url: str, executor: str, **extra: str) -> dict[str, str]:
    return {
        **VENDOR,
        "DOSSIER_DATA_DIR": tempfile.mkdtemp(prefix=f"bench-{executor}-"),
        "DOSSIER_SOURCES": "replay",
        "DOSSIER_LOG_LEVEL": "WARNING",
        "DOSSIER_DATABASE_URL": pg_url,
        "DOSSIER_REDIS_URL": redis_url,
        "DOSSIER_EXECUTOR_ID": executor,
        **extra,
    }


def _api(pg_url: str, redis_url: str) -> contextlib.AbstractContextManager[Server]:
    port = free_port()
    env = _env(pg_url, redis_url, "bench-api", DOSSIER_ROLE="api")
    return running([PY, "-m", "dossier", "serve", "--port", str(port)], env, port)


def _worker(pg_url: str, redis_url: str, name: str) -> contextlib.AbstractContextManager[Server]:
    port = free_port()
    env = _env(pg_url, redis_url, name, DOSSIER_REPLAY_LATENCY_MS="1500")
    return running([PY, "-m", "dossier", "worker", "--port", str(port)], env, port)


def _follow(url: str, out: queue.Queue[tuple[float, str, dict[str, Any]]]) -> None:
    """Every event of the stream as (monotonic time, type, envelope), until it ends."""
    event, data = "", ""
    with httpx.stream("GET", url, timeout=httpx.Timeout(10, read=WAIT_S)) as response:
        for line in response.iter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data += line[5:].strip()
            elif not line and event:
                out.put((time.monotonic(), event, json.loads(data) if data else {}))
                event, data = "", ""


def _next(events: queue.Queue[tuple[float, str, dict[str, Any]]], deadline: float) -> Any:
    return events.get(timeout=max(0.01, deadline - time.monotonic()))


def measure(pg_url: str, redis_url: str) -> dict[str, Any]:
    with (
        _api(pg_url, redis_url) as api,
        _worker(pg_url, redis_url, "bench-worker-a") as worker_a,
        _worker(pg_url, redis_url, "bench-worker-b") as worker_b,
    ):
        workers = {"bench-worker-a": worker_a, "bench-worker-b": worker_b}
        opened = httpx.post(
            f"{api.base}/api/sessions", json={"account": {"name": "Stripe"}}, timeout=30
        ).json()
        session = opened["session_id"]
        events: queue.Queue[tuple[float, str, dict[str, Any]]] = queue.Queue()
        reader = threading.Thread(
            target=_follow, args=(f"{api.base}/api/sessions/{session}/events", events), daemon=True
        )
        reader.start()
        collecting: set[str] = set()
        deadline = time.monotonic() + WAIT_S
        while collecting != {"vendor_context", "customer_intelligence"}:
            _, kind, envelope = _next(events, deadline)
            if kind == "step.started" and (envelope.get("step") or "").startswith("collect."):
                collecting.add(envelope["workflow"])
        with psycopg.connect(pg_url) as conn:
            row = conn.execute(
                "SELECT executor_id FROM dbos.workflow_status WHERE workflow_uuid = %s",
                (session,),
            ).fetchone()
        doomed = str(row[0]) if row else ""
        if doomed not in workers:
            return {"ok": False, "error": f"session runs on {doomed!r}, not a worker"}
        os.kill(workers[doomed].pid, signal.SIGKILL)
        killed_at = time.monotonic()
        told_s = next_step_s = completed_s = None
        resumed: dict[str, Any] = {}
        status = None
        deadline = killed_at + WAIT_S
        while completed_s is None:
            at, kind, envelope = _next(events, deadline)
            if kind == "session.resumed" and told_s is None:
                told_s, resumed = at - killed_at, envelope.get("data") or {}
            elif kind.startswith("step.") and told_s is not None and next_step_s is None:
                next_step_s = at - killed_at
            elif kind == "session.completed":
                completed_s, status = at - killed_at, (envelope.get("data") or {}).get("status")
    return {
        "ok": told_s is not None and status in ("completed", "partial"),
        "told_s": told_s,
        "next_step_s": next_step_s,
        "completed_s": completed_s,
        "status": status,
        "from_executor": resumed.get("from_executor"),
        "to_executor": resumed.get("to_executor"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database-url", required=True, help="a scratch PostgreSQL database")
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    try:
        result = measure(args.database_url, args.redis_url)
    except queue.Empty:
        result = {"ok": False, "error": f"the stream went quiet for {WAIT_S} s"}
    print(json.dumps(result) if args.json else result)


if __name__ == "__main__":
    main()
