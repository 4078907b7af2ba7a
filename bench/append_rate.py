"""Event append rate, in-process on the real event logs: SQLite vs PostgreSQL.

    python bench/append_rate.py [--database-url URL] [--json]

Three shapes, each on fresh sessions, every event a ``finding`` with a dedup key (as a
step emits them, so PostgreSQL also reads the session's logged keys):

- ``single``: one session, one event per append, each awaited before the next;
- ``batch``: one session, 50 events per append, one after another;
- ``concurrent``: 16 sessions appending one event at a time, all at once (the group
  commit shares transactions between them).

Reports events/s over the whole shape and the p50/p99 latency of one append call, in ms.
SQLite always runs (a temp dir); PostgreSQL with ``--database-url`` (a scratch database:
its tables are created there). Without a reachable PostgreSQL, ``ok`` is false and the
SQLite figures are still reported.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from dossier.core.events import EventType, NewEvent
from dossier.core.ports import EventLog
from dossier.core.records import SessionRecord, WorkflowKind
from dossier.core.states import SessionStatus
from dossier.core.types import Account, Vendor, iso_ms, utcnow
from dossier.eventlog.sqlite import SqliteEventLog

SINGLE_APPENDS = 2_000
BATCH_APPENDS = 200
BATCH_EVENTS = 50
SESSIONS = 16
PER_SESSION = 250
WARM_UP = 50

_PAYLOAD = {
    "kind": "job_posting",
    "title": "Fraud Operations Analyst",
    "source": "greenhouse",
    "url": "https://boards.greenhouse.io/acme/jobs/1234567",
    "confidence": 0.9,
}


def _record(session_id: str) -> SessionRecord:
    return SessionRecord(
        session_id=session_id,
        account=Account(name=f"Bench {session_id}"),
        vendor=Vendor(),
        status=SessionStatus.RUNNING,
        created_at=iso_ms(utcnow()),
        owners={"local"},
    )


def _events(session_id: str, start: int, count: int) -> list[NewEvent]:
    return [
        NewEvent(
            type=EventType.FINDING,
            data={**_PAYLOAD, "id": f"f_{n}"},
            workflow=WorkflowKind.CUSTOMER_INTELLIGENCE,
            step="collect.jobs",
            dedup=f"finding:customer_intelligence:greenhouse:{session_id}:{n}",
        )
        for n in range(start, start + count)
    ]


async def _appender(
    log: EventLog, session_id: str, appends: int, per_append: int, latencies: list[float]
) -> None:
    for i in range(appends):
        batch = _events(session_id, i * per_append, per_append)
        t0 = time.perf_counter()
        await log.append(session_id, batch)
        latencies.append((time.perf_counter() - t0) * 1000)


async def _shape(
    log: EventLog, tag: str, sessions: int, appends: int, per_append: int
) -> dict[str, float]:
    ids = [f"s_{tag}_{i}_{time.monotonic_ns()}" for i in range(sessions)]
    for session_id in ids:
        await log.create_session(_record(session_id))
    await _appender(log, ids[0], WARM_UP, 1, [])  # connections open, statements prepared
    latencies: list[float] = []
    t0 = time.perf_counter()
    async with asyncio.TaskGroup() as tg:
        for session_id in ids:
            tg.create_task(_appender(log, session_id, appends, per_append, latencies))
    elapsed = time.perf_counter() - t0
    latencies.sort()
    return {
        "eps": sessions * appends * per_append / elapsed,
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    }


async def measure(log: EventLog) -> dict[str, float]:
    await log.start()
    try:
        shapes = {
            "single": await _shape(log, "one", 1, SINGLE_APPENDS, 1),
            "batch": await _shape(log, "batch", 1, BATCH_APPENDS, BATCH_EVENTS),
            "concurrent": await _shape(log, "many", SESSIONS, PER_SESSION, 1),
        }
    finally:
        await log.close()
    return {f"{shape}_{key}": value for shape, row in shapes.items() for key, value in row.items()}


async def run(database_url: str | None) -> dict[str, Any]:
    data = Path(tempfile.mkdtemp(prefix="bench-append-"))
    result: dict[str, Any] = {"ok": True}
    for key, value in (await measure(SqliteEventLog(data / "dossier.sqlite"))).items():
        result[f"sqlite_{key}"] = value
    if database_url:
        from dossier.eventlog.postgres import PostgresEventLog

        try:
            measured = await measure(PostgresEventLog(database_url))
        except Exception as exc:  # reported, not raised: `make bench` goes on
            return {**result, "ok": False, "error": f"PostgreSQL: {exc}"}
        for key, value in measured.items():
            result[f"pg_{key}"] = value
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database-url", default=None, help="PostgreSQL (a scratch database)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(run(args.database_url))
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"{key:28} {value:,.2f}" if isinstance(value, float) else f"{key:28} {value}")


if __name__ == "__main__":
    main()
