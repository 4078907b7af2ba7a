"""PostgreSQL EventLog, for scale-out (``DOSSIER_DATABASE_URL``).

Appenders in any process serialise per session on the session row (``SELECT … FOR
UPDATE``), so seqs stay gap-free across replicas. Within a process, appends are
group-committed (``group_commit.py``): those arriving while a transaction is in flight
share the next one, written whole (``postgres_appends.py``), and what they logged is
handed to ``on_logged`` in seq order before their callers resume. Cross-process live
delivery is the bus's job (Redis Streams); a process that hears about events out of
order fills the gap from here.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import psycopg
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool

from dossier.core.events import Event, NewEvent
from dossier.core.records import SessionRecord
from dossier.core.states import SessionStatus
from dossier.errors import Conflict, NotFound, Unavailable
from dossier.eventlog.base import (
    OWNER_COLUMNS,
    RECORD_COLS,
    OnLogged,
    list_sessions_sql,
    publish,
    record_to_row,
    row_to_record,
    session_columns,
)
from dossier.eventlog.expiry import postgres_expire
from dossier.eventlog.group_commit import GroupCommit, Op
from dossier.eventlog.postgres_appends import Append, write_appends

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS dossier_sessions (
  session_id  TEXT PRIMARY KEY,{session_columns("BIGINT")}
);
CREATE UNIQUE INDEX IF NOT EXISTS dossier_one_running_session
  ON dossier_sessions (account_key, vendor_hash) WHERE status = 'running';
CREATE INDEX IF NOT EXISTS dossier_sessions_by_account
  ON dossier_sessions (account_key, created_at);
CREATE TABLE IF NOT EXISTS dossier_session_owners ({OWNER_COLUMNS}
);
CREATE TABLE IF NOT EXISTS dossier_session_members ({OWNER_COLUMNS}
);
CREATE TABLE IF NOT EXISTS dossier_events (
  session_id TEXT NOT NULL,
  seq        BIGINT NOT NULL,
  type       TEXT NOT NULL,
  ts         TEXT NOT NULL,
  workflow   TEXT,
  step       TEXT,
  dedup      TEXT,
  envelope   TEXT NOT NULL,
  PRIMARY KEY (session_id, seq)
);
CREATE UNIQUE INDEX IF NOT EXISTS dossier_events_dedup
  ON dossier_events (session_id, dedup) WHERE dedup IS NOT NULL;
"""
_EVENT_COLS = "seq, type, ts, workflow, step, envelope"
_MAX_GROUP_APPENDS = 64


# Every dossier process creates the schema it needs at start. ``CREATE … IF NOT EXISTS``
# is not safe against itself: two processes starting together on a fresh database both
# pass the check and one dies on the catalog's unique index ("dossier_sessions already
# exists"). The DDL therefore runs under one transaction-scoped advisory lock, shared by
# every dossier table, so any start order works; the lock is released at commit.
_SCHEMA_LOCK = 0x646F7373  # "doss"


async def create_schema(conn: psycopg.AsyncConnection[Any], ddl: str) -> None:
    """Run ``ddl`` with no other dossier process creating tables at the same time."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        await conn.execute(ddl)


def _conninfo(url: str) -> str:
    # SQLAlchemy-style URLs (what DBOS takes) name a driver; libpq does not.
    return url.replace("postgresql+psycopg://", "postgresql://").replace(
        "postgresql+psycopg2://", "postgresql://"
    )


class PostgresEventLog:
    def __init__(self, url: str, *, on_logged: OnLogged | None = None, pool_size: int = 8) -> None:
        self._pool: AsyncConnectionPool[psycopg.AsyncConnection[TupleRow]] = AsyncConnectionPool(
            _conninfo(url), min_size=1, max_size=pool_size, open=False, kwargs={"autocommit": True}
        )
        self._on_logged = on_logged
        self._appends: GroupCommit[Append, list[Event]] | None = None

    def set_on_logged(self, on_logged: OnLogged) -> None:
        self._on_logged = on_logged

    async def start(self) -> None:
        try:
            await self._pool.open(wait=True, timeout=10)
            async with self._pool.connection() as conn:
                await create_schema(conn, _SCHEMA)
        except (psycopg.Error, TimeoutError) as exc:
            raise Unavailable(f"PostgreSQL unreachable: {exc}") from exc
        self._appends = GroupCommit(self._commit_appends, max_batch_ops=_MAX_GROUP_APPENDS)

    async def close(self) -> None:
        if self._appends is not None:
            await self._appends.close()  # commits what is queued
            self._appends = None
        await self._pool.close()

    async def ping(self) -> None:
        async with self._pool.connection() as conn:
            await conn.execute("SELECT 1")

    async def _fetch(self, sql: str, args: Sequence[Any]) -> list[tuple[Any, ...]]:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(sql, args)
            return await cursor.fetchall()

    async def append(self, session_id: str, events: Sequence[NewEvent]) -> list[Event]:
        if not events:
            return []
        if self._appends is None:
            raise Unavailable("event log is not started")
        return await self._appends.submit(Append(session_id, list(events)))

    async def _commit_appends(self, batch: Sequence[Op[Append, list[Event]]]) -> None:
        async with self._pool.connection() as conn:
            await write_appends(conn, batch)
        # Before the engine wakes the appenders: they resume with their events published.
        publish(self._on_logged, [e for op in batch if op.ok for e in op.result])

    async def read_after(
        self, session_id: str, after_seq: int, *, limit: int = 1000, workflow: str | None = None
    ) -> list[Event]:
        if workflow is None:
            rows = await self._fetch(
                f"SELECT {_EVENT_COLS} FROM dossier_events WHERE session_id = %s AND seq > %s "
                "ORDER BY seq LIMIT %s",
                (session_id, after_seq, limit),
            )
        else:
            rows = await self._fetch(
                f"SELECT {_EVENT_COLS} FROM dossier_events WHERE session_id = %s AND seq > %s "
                "AND (workflow = %s OR workflow IS NULL) ORDER BY seq LIMIT %s",
                (session_id, after_seq, workflow, limit),
            )
        return [
            Event(
                seq=int(seq), type=t, ts=ts, session=session_id, workflow=w, step=st, envelope=env
            )
            for seq, t, ts, w, st, env in rows
        ]

    async def last_seq(self, session_id: str) -> int:
        rows = await self._fetch(
            "SELECT last_seq FROM dossier_sessions WHERE session_id = %s", (session_id,)
        )
        if not rows:
            raise NotFound(f"unknown session {session_id}")
        return int(rows[0][0])

    async def terminal_seq(self, session_id: str, workflow: str | None = None) -> int | None:
        if workflow is None:
            rows = await self._fetch(
                "SELECT closed_seq FROM dossier_sessions WHERE session_id = %s", (session_id,)
            )
        else:
            rows = await self._fetch(
                "SELECT min(seq) FROM dossier_events WHERE session_id = %s AND workflow = %s "
                "AND type IN ('workflow.completed', 'workflow.failed', 'workflow.cancelled')",
                (session_id, workflow),
            )
        return None if not rows or rows[0][0] is None else int(rows[0][0])

    async def create_session(self, record: SessionRecord) -> None:
        try:
            async with self._pool.connection() as conn, conn.transaction():
                await conn.execute(
                    "INSERT INTO dossier_sessions (session_id, account_key, vendor_hash, account, "
                    "vendor, status, cached, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    record_to_row(record),
                )
                async with conn.cursor() as cur:
                    await cur.executemany(
                        "INSERT INTO dossier_session_owners (session_id, principal) "
                        "VALUES (%s, %s) ON CONFLICT DO NOTHING",
                        [(record.session_id, p) for p in record.owners],
                    )
        except psycopg.errors.UniqueViolation as exc:
            raise Conflict(f"a session for {record.account.name} is already running") from exc

    async def get_session(self, session_id: str) -> SessionRecord | None:
        rows = await self._fetch(
            f"SELECT {RECORD_COLS} FROM dossier_sessions s WHERE s.session_id = %s", (session_id,)
        )
        if not rows:
            return None
        owners = await self._fetch(
            "SELECT principal FROM dossier_session_owners WHERE session_id = %s", (session_id,)
        )
        members = await self._fetch(
            "SELECT principal FROM dossier_session_members WHERE session_id = %s", (session_id,)
        )
        return row_to_record(rows[0], [o[0] for o in owners], [m[0] for m in members])

    async def find_running(self, account_key: str, vendor_hash: str) -> SessionRecord | None:
        rows = await self._fetch(
            "SELECT session_id FROM dossier_sessions WHERE account_key = %s AND vendor_hash = %s "
            "AND status = %s ORDER BY created_at DESC LIMIT 1",
            (account_key, vendor_hash, SessionStatus.RUNNING.value),
        )
        return await self.get_session(rows[0][0]) if rows else None

    async def list_sessions(
        self, *, owner: str | None, account_key: str | None, limit: int
    ) -> list[SessionRecord]:
        sql, args = list_sessions_sql(
            sessions="dossier_sessions",
            owners="dossier_session_owners",
            members="dossier_session_members",
            mark="%s",
            owner=owner,
            account_key=account_key,
            limit=limit,
        )
        return [row_to_record(r) for r in await self._fetch(sql, args)]

    async def set_status(self, session_id: str, status: SessionStatus) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "UPDATE dossier_sessions SET status = %s WHERE session_id = %s",
                (status.value, session_id),
            )

    async def add_owner(self, session_id: str, principal: str) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO dossier_session_owners (session_id, principal) VALUES (%s, %s) "
                "ON CONFLICT DO NOTHING",
                (session_id, principal),
            )

    async def add_member(self, session_id: str, principal: str) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO dossier_session_members (session_id, principal) VALUES (%s, %s) "
                "ON CONFLICT DO NOTHING",
                (session_id, principal),
            )

    async def remove_member(self, session_id: str, principal: str) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "DELETE FROM dossier_session_members WHERE session_id = %s AND principal = %s",
                (session_id, principal),
            )

    async def expire_sessions(self, cutoff: str, *, keep: Collection[str] = ()) -> list[str]:
        async with self._pool.connection() as conn:
            return await postgres_expire(conn, cutoff, keep)


class PostgresHeartbeats:
    """Executor liveness, for taking over a dead process's workflows.

    Every process with workflows beats every few seconds; a process whose beat is older
    than the takeover delay is dead. ``claim`` is one conditional UPDATE, so exactly one
    survivor takes over each dead executor.
    """

    _DDL = """
    CREATE TABLE IF NOT EXISTS dossier_executors (
      executor_id TEXT PRIMARY KEY,
      role        TEXT NOT NULL,
      last_seen   TIMESTAMPTZ NOT NULL,
      claimed_by  TEXT
    );
    """

    def __init__(self, url: str) -> None:
        self._pool: AsyncConnectionPool[psycopg.AsyncConnection[TupleRow]] = AsyncConnectionPool(
            _conninfo(url), min_size=1, max_size=2, open=False, kwargs={"autocommit": True}
        )

    async def start(self) -> None:
        await self._pool.open(wait=True, timeout=10)
        async with self._pool.connection() as conn:
            await create_schema(conn, self._DDL)

    async def close(self) -> None:
        await self._pool.close()

    async def beat(self, executor_id: str, role: str) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO dossier_executors (executor_id, role, last_seen) "
                "VALUES (%s, %s, now()) ON CONFLICT (executor_id) DO UPDATE "
                "SET last_seen = now(), role = excluded.role, claimed_by = NULL",
                (executor_id, role),
            )

    async def stale(self, older_than_s: float, *, exclude: str) -> list[str]:
        """Executors silent for longer than ``older_than_s``, whatever their role: an API
        replica holds no workflows now, but one may have before an upgrade, and work
        must never wait on a process that is gone."""
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT executor_id FROM dossier_executors "
                "WHERE executor_id <> %s AND last_seen < now() - make_interval(secs => %s)",
                (exclude, older_than_s),
            )
            return [row[0] for row in await cursor.fetchall()]

    async def ages(self, executor_ids: Sequence[str]) -> dict[str, float]:
        """Seconds since each executor's last beat, by the database's clock (one clock for
        every process); an executor that never beat is absent."""
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT executor_id, extract(epoch FROM now() - last_seen)::float8 "
                "FROM dossier_executors WHERE executor_id = ANY(%s)",
                (list(executor_ids),),
            )
            return {row[0]: float(row[1]) for row in await cursor.fetchall()}

    async def all_ages(self) -> dict[str, float]:
        """Seconds since every known executor's last beat (the heartbeat-age metric)."""
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT executor_id, extract(epoch FROM now() - last_seen)::float8 "
                "FROM dossier_executors"
            )
            return {row[0]: float(row[1]) for row in await cursor.fetchall()}

    async def queue_depths(self) -> dict[str, float]:
        """Workflows enqueued and not started, per DBOS queue (DBOS's own table, in its
        default ``dbos`` schema on the same database)."""
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT queue_name, count(*) FROM dbos.workflow_status "
                "WHERE status = 'ENQUEUED' AND queue_name IS NOT NULL GROUP BY queue_name"
            )
            return {row[0]: float(row[1]) for row in await cursor.fetchall()}

    async def forget(self, dead: str, *, claimed_by: str) -> None:
        """Drop a dead executor that holds no work (it beats in again if it comes back)."""
        async with self._pool.connection() as conn:
            await conn.execute(
                "DELETE FROM dossier_executors WHERE executor_id = %s AND claimed_by = %s",
                (dead, claimed_by),
            )

    async def claim(self, dead: str, by: str, older_than_s: float) -> bool:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "UPDATE dossier_executors SET claimed_by = %s, last_seen = now() "
                "WHERE executor_id = %s AND last_seen < now() - make_interval(secs => %s) "
                "RETURNING executor_id",
                (by, dead, older_than_s),
            )
            return (await cursor.fetchone()) is not None
