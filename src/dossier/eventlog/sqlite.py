"""SQLite EventLog: the embedded default.

Writes are group-committed *on the event loop* (``group_commit.py``): every append,
session update and owner change made during one loop iteration goes into one
transaction, run synchronously right after that iteration (PRODUCT: one commit per event
cannot reach the SSE target; one per burst can). A writer thread was tried first and
measured 2x slower: handing each batch across the GIL (5 ms switch interval) starved it
behind the busy loop. In WAL mode with ``synchronous=NORMAL`` a commit does not fsync (it
survives a process kill; only an OS crash can lose the last commits), so a burst costs
microseconds per event; the fsyncing WAL checkpoints run on a background thread instead
of inside commits, and keep the WAL file bounded (``wal.py``). Reads run on a small pool
of reader threads with their own connections (WAL lets them read while the loop writes).
Committed events are handed to ``on_logged`` in seq order before the appenders resume.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from dossier.core import keys
from dossier.core.events import Event, EventType, NewEvent
from dossier.core.records import SessionRecord
from dossier.core.states import SessionStatus
from dossier.errors import Conflict, NotFound, Unavailable
from dossier.eventlog.base import (
    OWNER_COLUMNS,
    RECORD_COLS,
    OnLogged,
    assign_seqs,
    list_sessions_sql,
    publish,
    record_to_row,
    row_to_record,
    session_columns,
)
from dossier.eventlog.expiry import sqlite_candidates, sqlite_expire_one
from dossier.eventlog.group_commit import GroupCommit, Op
from dossier.eventlog.wal import CHECKPOINT_EVERY_S, WAL_LIMIT_BYTES, WalKeeper

log = logging.getLogger(__name__)

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS sessions (
  num         INTEGER PRIMARY KEY,
  session_id  TEXT NOT NULL UNIQUE,{session_columns("INTEGER")}
);
CREATE INDEX IF NOT EXISTS sessions_by_account ON sessions(account_key, vendor_hash, status);
CREATE UNIQUE INDEX IF NOT EXISTS one_running_session ON sessions(account_key, vendor_hash)
  WHERE status = 'running';
CREATE TABLE IF NOT EXISTS session_owners ({OWNER_COLUMNS}
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS session_members ({OWNER_COLUMNS}
) WITHOUT ROWID;
-- One integer key per event, (session number << 32) | seq: inserts append to one B-tree
-- and a session's events are one key range. The envelope holds every field; only what
-- queries filter on has a column of its own. (Both choices measured: ~2x faster bulk
-- inserts than a (session_id TEXT, seq) key with one column per field.)
CREATE TABLE IF NOT EXISTS events (
  id       INTEGER PRIMARY KEY,
  workflow TEXT,
  dedup    TEXT,
  envelope TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS events_dedup ON events(id >> 32, dedup)
  WHERE dedup IS NOT NULL;
"""
_SEQ_BITS = 32

_MAX_GROUP_OPS = 64


def _connect(path: Path, wal_limit_bytes: int = WAL_LIMIT_BYTES) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    # Only takes effect on a new file: 16 KiB pages halve the cost of bulk event inserts.
    conn.execute("PRAGMA page_size=16384")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=4000")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=30000")
    # Whichever connection restarts the WAL cuts the file back to this (see wal.py).
    conn.execute(f"PRAGMA journal_size_limit={int(wal_limit_bytes)}")
    return conn


@dataclass(frozen=True, slots=True)
class _Write:
    """One writer's work: ``run`` executes inside the group transaction."""

    run: Callable[[sqlite3.Connection], Any]
    # ``run`` returns the events it logged (an append): publish them once committed.
    logs_events: bool = False


class SqliteEventLog:
    """EventLog on one SQLite file (WAL)."""

    def __init__(
        self,
        path: Path,
        *,
        on_logged: OnLogged | None = None,
        wal_limit_bytes: int = WAL_LIMIT_BYTES,
        checkpoint_every_s: float = CHECKPOINT_EVERY_S,
    ) -> None:
        self._path = path
        self._wal_limit = wal_limit_bytes
        self.wal = WalKeeper([path], limit_bytes=wal_limit_bytes, every_s=checkpoint_every_s)
        self._on_logged = on_logged
        self._conn: sqlite3.Connection | None = None
        self._writes: GroupCommit[_Write, Any] | None = None
        self._readers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="dossier-read")
        self._local = threading.local()
        self._all_readers: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def set_on_logged(self, on_logged: OnLogged) -> None:
        self._on_logged = on_logged

    # -- lifecycle
    async def start(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        conn = _connect(self._path, self._wal_limit)
        conn.executescript(_SCHEMA)
        conn.execute("PRAGMA wal_autocheckpoint=0")  # the WAL keeper's thread does it
        self._conn = conn
        self._writes = GroupCommit(self._commit, max_batch_ops=_MAX_GROUP_OPS)
        self.wal.start()

    async def close(self) -> None:
        if self._writes is not None:
            await self._writes.close()  # commits what is queued
            self._writes = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self.wal.stop()
        self._readers.shutdown(wait=True)
        with self._lock:
            for conn in self._all_readers:
                conn.close()
            self._all_readers.clear()

    async def ping(self) -> None:
        await self._read(lambda c: c.execute("SELECT 1").fetchone())

    # -- writer side (on the loop)
    async def _commit(self, batch: Sequence[Op[_Write, Any]]) -> None:
        # No await in here: the whole batch runs in one step of the loop.
        conn = self._conn
        if conn is None:
            raise Unavailable("event log is closed")
        try:
            conn.execute("BEGIN IMMEDIATE")
            for op in batch:
                conn.execute("SAVEPOINT op")
                try:
                    result = op.work.run(conn)
                    conn.execute("RELEASE op")
                except Exception as exc:  # one bad op must not sink the group
                    conn.execute("ROLLBACK TO op")
                    conn.execute("RELEASE op")
                    op.fail(exc)
                else:
                    op.succeed(result)
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            log.exception("event log commit failed")
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise Unavailable(f"event log write failed: {exc}") from exc
        # Before the engine wakes the appenders: they resume with their events published.
        publish(
            self._on_logged, [e for op in batch if op.ok and op.work.logs_events for e in op.result]
        )

    async def _write(
        self, run: Callable[[sqlite3.Connection], Any], logs_events: bool = False
    ) -> Any:
        if self._writes is None:
            raise Unavailable("event log is not started")
        return await self._writes.submit(_Write(run, logs_events))

    # -- reader side
    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = _connect(self._path, self._wal_limit)
            self._local.conn = conn
            with self._lock:
                self._all_readers.append(conn)
        return conn

    async def _read(self, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, lambda: fn(self._reader()))

    # -- EventLog
    async def append(self, session_id: str, events: Sequence[NewEvent]) -> list[Event]:
        if not events:
            return []
        batch = list(events)

        def run(conn: sqlite3.Connection) -> list[Event]:
            row = conn.execute(
                "SELECT num, last_seq, closed_seq FROM sessions WHERE session_id = ?",
                (session_id,),
            ).fetchone()
            if row is None:
                raise NotFound(f"unknown session {session_id}")
            num, last, closed = int(row[0]), int(row[1]), row[2] is not None
            keys = [e.dedup for e in batch if e.dedup is not None]
            existing: list[str] = []
            for i in range(0, len(keys), 500):
                chunk = keys[i : i + 500]
                marks = ",".join("?" * len(chunk))
                existing += [
                    r[0]
                    for r in conn.execute(
                        f"SELECT dedup FROM events WHERE id >> 32 = ? AND dedup IN ({marks})",
                        (num, *chunk),
                    )
                ]
            pairs = assign_seqs(session_id, last, batch, existing, closed=closed)
            if not pairs:
                return []
            base = num << _SEQ_BITS
            conn.executemany(
                "INSERT INTO events (id, workflow, dedup, envelope) VALUES (?, ?, ?, ?)",
                [(base + e.seq, e.workflow, key, e.envelope) for e, key in pairs],
            )
            closing = [e.seq for e, _ in pairs if e.type == EventType.SESSION_COMPLETED]
            conn.execute(
                "UPDATE sessions SET last_seq = ?, closed_seq = coalesce(closed_seq, ?) "
                "WHERE num = ?",
                (pairs[-1][0].seq, closing[0] if closing else None, num),
            )
            return [e for e, _ in pairs]

        result: list[Event] = await self._write(run, logs_events=True)
        return result

    async def read_after(
        self, session_id: str, after_seq: int, *, limit: int = 1000, workflow: str | None = None
    ) -> list[Event]:
        def run(conn: sqlite3.Connection) -> list[Event]:
            num = _session_num(conn, session_id)
            if num is None:
                return []
            low, high = (num << _SEQ_BITS) + max(0, after_seq), (num + 1) << _SEQ_BITS
            if workflow is None:
                rows = conn.execute(
                    "SELECT envelope FROM events WHERE id > ? AND id < ? ORDER BY id LIMIT ?",
                    (low, high, limit),
                ).fetchall()
            else:
                rows = conn.execute(
                    "SELECT envelope FROM events WHERE id > ? AND id < ? "
                    "AND (workflow = ? OR workflow IS NULL) ORDER BY id LIMIT ?",
                    (low, high, workflow, limit),
                ).fetchall()
            return [Event.from_envelope(r[0]) for r in rows]

        result: list[Event] = await self._read(run)
        return result

    async def last_seq(self, session_id: str) -> int:
        row = await self._read(
            lambda c: c.execute(
                "SELECT last_seq FROM sessions WHERE session_id = ?", (session_id,)
            ).fetchone()
        )
        if row is None:
            raise NotFound(f"unknown session {session_id}")
        return int(row[0])

    async def terminal_seq(self, session_id: str, workflow: str | None = None) -> int | None:
        def run(conn: sqlite3.Connection) -> int | None:
            if workflow is None:
                row = conn.execute(
                    "SELECT closed_seq FROM sessions WHERE session_id = ?", (session_id,)
                ).fetchone()
                return None if row is None or row[0] is None else int(row[0])
            num = _session_num(conn, session_id)
            # A workflow's end always carries its one end key.
            row = conn.execute(
                "SELECT id FROM events WHERE id >> 32 = ? AND dedup = ?",
                (num, keys.workflow_end(workflow)),
            ).fetchone()
            return None if row is None else int(row[0]) & ((1 << _SEQ_BITS) - 1)

        result: int | None = await self._read(run)
        return result

    async def create_session(self, record: SessionRecord) -> None:
        def run(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    "INSERT INTO sessions (session_id, account_key, vendor_hash, account, vendor, "
                    "status, cached, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    record_to_row(record),
                )
            except sqlite3.IntegrityError as exc:
                raise Conflict(f"a session for {record.account.name} is already running") from exc
            conn.executemany(
                "INSERT OR IGNORE INTO session_owners (session_id, principal) VALUES (?, ?)",
                [(record.session_id, p) for p in record.owners],
            )

        await self._write(run)

    async def get_session(self, session_id: str) -> SessionRecord | None:
        def run(conn: sqlite3.Connection) -> SessionRecord | None:
            row = conn.execute(
                f"SELECT {RECORD_COLS} FROM sessions s WHERE s.session_id = ?", (session_id,)
            ).fetchone()
            if row is None:
                return None
            owners, members = (
                [
                    r[0]
                    for r in conn.execute(
                        f"SELECT principal FROM {table} WHERE session_id = ?", (session_id,)
                    )
                ]
                for table in ("session_owners", "session_members")
            )
            return row_to_record(row, owners, members)

        result: SessionRecord | None = await self._read(run)
        return result

    async def find_running(self, account_key: str, vendor_hash: str) -> SessionRecord | None:
        row = await self._read(
            lambda c: c.execute(
                "SELECT session_id FROM sessions WHERE account_key = ? AND vendor_hash = ? "
                "AND status = ? ORDER BY created_at DESC LIMIT 1",
                (account_key, vendor_hash, SessionStatus.RUNNING.value),
            ).fetchone()
        )
        return None if row is None else await self.get_session(str(row[0]))

    async def list_sessions(
        self, *, owner: str | None, account_key: str | None, limit: int
    ) -> list[SessionRecord]:
        def run(conn: sqlite3.Connection) -> list[SessionRecord]:
            sql, args = list_sessions_sql(
                sessions="sessions",
                owners="session_owners",
                members="session_members",
                mark="?",
                owner=owner,
                account_key=account_key,
                limit=limit,
            )
            return [row_to_record(r) for r in conn.execute(sql, args).fetchall()]

        result: list[SessionRecord] = await self._read(run)
        return result

    async def set_status(self, session_id: str, status: SessionStatus) -> None:
        await self._write(
            lambda c: c.execute(
                "UPDATE sessions SET status = ? WHERE session_id = ?", (status.value, session_id)
            )
        )

    async def add_owner(self, session_id: str, principal: str) -> None:
        await self._write(
            lambda c: c.execute(
                "INSERT OR IGNORE INTO session_owners (session_id, principal) VALUES (?, ?)",
                (session_id, principal),
            )
        )

    async def add_member(self, session_id: str, principal: str) -> None:
        await self._write(
            lambda c: c.execute(
                "INSERT OR IGNORE INTO session_members (session_id, principal) VALUES (?, ?)",
                (session_id, principal),
            )
        )

    async def remove_member(self, session_id: str, principal: str) -> None:
        await self._write(
            lambda c: c.execute(
                "DELETE FROM session_members WHERE session_id = ? AND principal = ?",
                (session_id, principal),
            )
        )

    async def expire_sessions(self, cutoff: str, *, keep: Collection[str] = ()) -> list[str]:
        candidates: list[str] = await self._read(lambda c: sqlite_candidates(c, cutoff))
        expired: list[str] = []
        for session_id in candidates:
            if session_id in keep:
                continue
            # One short write each: the writer is the event loop.
            if await self._write(partial(sqlite_expire_one, session_id=session_id, cutoff=cutoff)):
                expired.append(session_id)
        return expired


def _session_num(conn: sqlite3.Connection, session_id: str) -> int | None:
    row = conn.execute("SELECT num FROM sessions WHERE session_id = ?", (session_id,)).fetchone()
    return None if row is None else int(row[0])
