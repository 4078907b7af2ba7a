"""The scale-out steps of ``make bench``, on the local PostgreSQL and Redis.

- ``pgstep``: durable step overhead with DBOS on PostgreSQL (as configured, and with
  ``DOSSIER_STEP_SYNCHRONOUS_COMMIT=false``) against SQLite, same run;
- ``append``: event append rate, PostgreSQL against SQLite (``append_rate.py``);
- ``fan2``: SSE fan-out across two API replicas (session produced on one, every
  subscriber reading from the other: delivery crosses the Redis Stream) against one
  process on SQLite, at 200 and 1,000 subscribers; and one process on PostgreSQL +
  Redis, which tells the log's commit from the hop between replicas;
- ``takeover``: a worker SIGKILLed mid-session, until its session goes on on the other
  worker (``takeover_time.py``).

Each run gets a scratch database (``BENCH_PG_URL``'s server, dropped afterwards) and a
flushed Redis database (``BENCH_REDIS_URL``, default db 14). With either down a step
reports not ok and the run goes on.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import statistics
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, TypeVar

import httpx
from procs import (
    PY,
    ROOT,
    STEP_TIMEOUT_S,
    Server,
    bench_session,
    free_port,
    product_server,
    running,
    tool,
)

PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
FAN_EVENTS = 200
FAN_RATE = 50
FAN_SUBSCRIBERS = (200, 1000)

T = TypeVar("T")


def not_ok_on_error(step: Callable[..., T]) -> Callable[..., T | dict[str, Any]]:
    """A step whose services are down reports not ok instead of ending the run."""

    @functools.wraps(step)
    def guarded(*args: Any, **kwargs: Any) -> T | dict[str, Any]:
        try:
            return step(*args, **kwargs)
        except Exception as exc:
            return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:500]}

    return guarded


@contextlib.contextmanager
def scratch_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one measurement, dropped afterwards."""
    import psycopg

    name = f"dossier_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with (
            contextlib.suppress(psycopg.Error),
            psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn,
        ):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fresh_redis() -> str:
    """The bench's Redis database, emptied (the event stream of a previous run gone)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5)
    try:
        client.flushdb()
    finally:
        client.close()
    return REDIS_URL


def _script(name: str, *args: str, timeout_s: float = STEP_TIMEOUT_S) -> dict[str, Any]:
    cmd = [PY, str(ROOT / "bench" / name), *args, "--json"]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": "timeout"}
    try:
        result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"ok": False, "error": (out.stderr or out.stdout)[-500:]}
    return result


def pgstep_step() -> dict[str, dict[str, Any]]:
    """SQLite (``baseline``), PostgreSQL as configured (``product``) and with
    synchronous_commit off (``nosync``), one after the other."""
    results = {"baseline": _script("step_overhead.py")}
    for which, extra in (("product", []), ("nosync", ["--no-sync-commit"])):
        results[which] = _step_overhead_on_postgres(*extra)
    return results


@not_ok_on_error
def _step_overhead_on_postgres(*extra: str) -> dict[str, Any]:
    with scratch_database() as url:
        return _script("step_overhead.py", "--database-url", url, *extra)


def append_step() -> dict[str, Any]:
    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(scratch_database())
        except Exception as exc:  # SQLite is still measured; the step says what is missing
            error = f"PostgreSQL: {exc}"[:500]
            return {**_script("append_rate.py"), "ok": False, "error": error}
        return _script("append_rate.py", "--database-url", url)


def replica(
    pg_url: str, redis_url: str, name: str, **env: str
) -> contextlib.AbstractContextManager[Server]:
    """A ``dossier serve`` on the shared PostgreSQL and Redis."""
    port = free_port()
    scale_out = {
        "DOSSIER_BENCH": "1",
        "DOSSIER_DATA_DIR": tempfile.mkdtemp(prefix=f"bench-{name}-"),
        "DOSSIER_SOURCES": "replay",
        "DOSSIER_LOG_LEVEL": "WARNING",
        "DOSSIER_SESSION_RATE_PER_MIN": "100000",
        "DOSSIER_SSE_MAX_STREAMS_PER_CLIENT": "100000",
        "DOSSIER_SSE_MAX_STREAMS_PER_PRINCIPAL": "100000",
        "DOSSIER_DATABASE_URL": pg_url,
        "DOSSIER_REDIS_URL": redis_url,
        "DOSSIER_EXECUTOR_ID": name,
        "DOSSIER_ROLE": "api",
    }
    cmd = [PY, "-m", "dossier", "serve", "--port", str(port)]
    return running(cmd, {**scale_out, **env}, port)


def _fan_args(subscribers: int) -> list[str]:
    return ["--clients", str(subscribers), "--expect", str(FAN_EVENTS), "--timeout", "60"]


def producer_lateness(server: Server, session_id: str) -> dict[str, float]:
    """How late the synthetic producer stamped its events against its own schedule (one
    every 1/FAN_RATE s), p50/p99 in ms. Delivery latency is measured from that stamp, so
    time an event waited for a busy loop *before* it was made is not in it: in one
    process the producer waits behind the delivery of the event before."""
    stamps: list[float] = []
    url = f"{server.base}/api/sessions/{session_id}/events"
    with httpx.stream("GET", url, timeout=30) as response:
        for line in response.iter_lines():
            if line.startswith("data:"):
                ts = json.loads(line[5:])["ts"]
                stamps.append(datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp())
    if len(stamps) < 2:
        return {}
    period_ms = 1000 / FAN_RATE
    late = [(t - stamps[0]) * 1000 - i * period_ms for i, t in enumerate(stamps)]
    late = sorted(x - min(late) for x in late)
    return {
        "producer_late_p50_ms": statistics.median(late),
        "producer_late_p99_ms": late[min(len(late) - 1, int(len(late) * 0.99))],
    }


def _fan_load(producer: Server, reader: Server, subscribers: int) -> dict[str, Any]:
    sid = bench_session(producer, FAN_EVENTS, FAN_RATE, subscribers)
    url = f"{reader.base}/api/sessions/{sid}/events"
    result = tool("sseload.py", url, *_fan_args(subscribers), "--pid", str(reader.pid))
    return {**result, **producer_lateness(producer, sid)}


def fan_single(subscribers: int) -> dict[str, Any]:
    """One process on SQLite: the session and every subscriber on it (as ``fan``)."""
    with product_server() as srv:
        return _fan_load(srv, srv, subscribers)


@not_ok_on_error
def fan_two(subscribers: int) -> dict[str, Any]:
    """Two API replicas on PostgreSQL + Redis: the session is produced on A, every
    subscriber reads from B. A's producer waits for subscribers of its own, of which it
    has none: it starts after its 10 s grace, by when B's are all connected."""
    with (
        scratch_database() as pg_url,
        replica(pg_url, fresh_redis(), "bench-a") as a,
        replica(pg_url, REDIS_URL, "bench-b") as b,
    ):
        return _fan_load(a, b, subscribers)


@not_ok_on_error
def fan_one_pg(subscribers: int) -> dict[str, Any]:
    """One replica on PostgreSQL + Redis, every subscriber on it: what the log's commit
    costs, apart from the hop between replicas."""
    with scratch_database() as pg_url, replica(pg_url, fresh_redis(), "bench-a") as a:
        return _fan_load(a, a, subscribers)


def fan2_step(subscribers: int) -> dict[str, dict[str, Any]]:
    return {
        "baseline": fan_single(subscribers),
        "pg1": fan_one_pg(subscribers),
        "product": fan_two(subscribers),
    }


@not_ok_on_error
def takeover_step() -> dict[str, Any]:
    with scratch_database() as url:
        return _script(
            "takeover_time.py", "--database-url", url, "--redis-url", fresh_redis(), timeout_s=150
        )


# -- the table rows: (step, which, key) of the SQLite / one-process figure, then of ours
_ROWS: tuple[tuple[str, tuple[str, str, str], tuple[str, str, str], str], ...] = (
    (
        "Durable step overhead, PostgreSQL (vs SQLite), ms/step",
        ("pgstep", "baseline", "ms_per_step"),
        ("pgstep", "product", "ms_per_step"),
        "<= 2 ms",
    ),
    (
        "… the same, synchronous_commit=off (vs SQLite), ms/step",
        ("pgstep", "baseline", "ms_per_step"),
        ("pgstep", "nosync", "ms_per_step"),
        "(info)",
    ),
    *(
        (
            f"Event appends on PostgreSQL (vs SQLite), {label}, {unit}",
            ("append", "product", f"sqlite_{shape}_{key}"),
            ("append", "product", f"pg_{shape}_{key}"),
            "(info)",
        )
        for shape, label in (
            ("single", "1 event per append"),
            ("batch", "50 events per append"),
            ("concurrent", "16 sessions at once"),
        )
        for key, unit in (("eps", "events/s"), ("p99_ms", "p99 ms per append"))
    ),
    *(
        (
            f"SSE {n:,} x 200 @ 50 ev/s, 2 replicas via Redis (vs 1 process), delivery {q} ms",
            (f"fan2_{n}", "baseline", f"lat_{q}_ms"),
            (f"fan2_{n}", "product", f"lat_{q}_ms"),
            "<= 1.5x" if q == "p99" else "(info)",
        )
        for n in FAN_SUBSCRIBERS
        for q in ("p99", "p50")
    ),
    *(
        (
            f"… 1 process on PostgreSQL + Redis (vs SQLite), {n:,} subscribers, delivery p99 ms",
            (f"fan2_{n}", "baseline", "lat_p99_ms"),
            (f"fan2_{n}", "pg1", "lat_p99_ms"),
            "(info)",
        )
        for n in FAN_SUBSCRIBERS
    ),
    *(
        (
            f"… producer behind its 50/s schedule (not in delivery latency), {n:,} subs, p99 ms",
            (f"fan2_{n}", "baseline", "producer_late_p99_ms"),
            (f"fan2_{n}", "product", "producer_late_p99_ms"),
            "(info)",
        )
        for n in FAN_SUBSCRIBERS
    ),
)
_TAKEOVER_ROWS = (
    ("told_s", "Takeover: worker SIGKILL -> session.resumed on the stream, s", "<= 10 s"),
    ("next_step_s", "Takeover: SIGKILL -> next step event, s", "(info)"),
    ("completed_s", "Takeover: SIGKILL -> session.completed, s", "(info)"),
)


def summary_rows(
    raw: dict[str, dict[str, list[dict[str, Any]]]],
    median_of: Callable[[list[dict[str, Any]], str], float | None],
) -> list[dict[str, Any]]:
    """The scale-out rows of the table, for the steps that ran (ratios: ours / theirs)."""
    rows: list[dict[str, Any]] = []

    def figure(step: str, which: str, key: str) -> float | None:
        return median_of(raw.get(step, {}).get(which, []), key)

    for title, base_at, prod_at, target in _ROWS:
        if prod_at[0] not in raw:
            continue
        base, prod = figure(*base_at), figure(*prod_at)
        rows.append(
            {
                "metric": title,
                "baseline": base,
                "product": prod,
                "ratio": prod / base if base and prod is not None else None,
                "target": target,
                "higher_is_better": prod_at[2].endswith("eps"),
            }
        )
    if "takeover" in raw:
        for key, title, target in _TAKEOVER_ROWS:
            rows.append(
                {
                    "metric": title,
                    "baseline": None,
                    "product": figure("takeover", "product", key),
                    "ratio": None,
                    "target": target,
                    "higher_is_better": False,
                }
            )
    return rows
