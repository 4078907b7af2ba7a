"""Starting several processes at once on a fresh PostgreSQL database (the real local one).

Each process creates the tables it needs at start; they must not trip over each other
whatever the order (an API replica died on ``UniqueViolation … already exists``).
"""

from __future__ import annotations

import asyncio

from dossier.eventlog.postgres import PostgresEventLog, PostgresHeartbeats


async def test_replicas_starting_together_on_a_fresh_database_all_start(pg_url: str) -> None:
    logs = [PostgresEventLog(pg_url, pool_size=1) for _ in range(6)]
    beats = [PostgresHeartbeats(pg_url) for _ in range(6)]
    try:
        await asyncio.gather(*(x.start() for x in logs), *(b.start() for b in beats))
        for event_log in logs:
            await event_log.ping()
        await beats[0].beat("exec-a", "worker")
        assert await beats[1].stale(0.0, exclude="exec-b") == ["exec-a"]
    finally:
        await asyncio.gather(
            *(x.close() for x in logs), *(b.close() for b in beats), return_exceptions=True
        )
