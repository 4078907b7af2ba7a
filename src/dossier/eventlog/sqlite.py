"""SQLite EventLog: the embedded default.

One writer thread owns the only write connection and commits in groups: every append,
session update and owner change waiting in its queue goes into one transaction (PRODUCT:
one commit per event cannot reach the SSE target; one per burst can). Committed events are
handed to the event loop in seq order through one ``call_soon_threadsafe`` per group.
Reads run on a small pool of reader threads with their own connections (WAL lets them
read while the writer writes). ``synchronous=NORMAL`` in WAL mode survives a process
kill; only an OS crash can lose the last commits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dossier.core.events import Event, NewEvent
from dossier.core.records import SessionRecord
from dossier.core.states import SessionStatus
from dossier.errors import NotFound, Unavailable
from dossier.eventlog.base import OnLogged, assign_seqs, record_to_row, row_to_record

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
  session_id  TEXT PRIMARY KEY,
  account_key TEXT NOT NULL,
  vendor_hash TEXT NOT NULL,
  account     TEXT NOT NULL,
  vendor      TEXT NOT NULL,
  status      TEXT NOT NULL,
  cached      INTEGER NOT NULL DEFAULT 0,
  created_at  TEXT NOT NULL,
  last_seq    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS sessions_by_account ON sessions(account_key, vendor_hash, status);
CREATE TABLE IF NOT EXISTS session_owners (
  session_id TEXT NOT NULL,
  principal  TEXT NOT NULL,
  PRIMARY KEY (session_id, principal)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
  session_id TEXT NOT NULL,
  seq        INTEGER NOT NULL,
  type       TEXT NOT NULL,
  ts         TEXT NOT NULL,
  workflow   TEXT,
  step       TEXT,
  dedup      TEXT,
  envelope   TEXT NOT NULL,
  PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS events_dedup ON events(session_id, dedup)
  WHERE dedup IS NOT NULL;
"""

_MAX_GROUP_OPS = 256
_RECORD_COLS = "session_id, account, vendor, status, cached, created_at"
_EVENT_COLS = "seq, type, ts, workflow, step, envelope"


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


@dataclass
class _Op:
    """One unit of work for the writer; ``run`` executes inside the group transaction."""

    run: Callable[[sqlite3.Connection], Any]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop
    result: Any = None
    error: BaseException | None = None
    logged: list[Event] = field(default_factory=list)


class SqliteEventLog:
    """EventLog on one SQLite file (WAL)."""

    def __init__(self, path: Path, *, on_logged: OnLogged | None = None) -> None:
        self._path = path
        self._on_logged = on_logged
        self._queue: queue.SimpleQueue[_Op | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._readers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="dossier-read")
        self._local = threading.local()
        self._all_readers: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def set_on_logged(self, on_logged: OnLogged) -> None:
        self._on_logged = on_logged

    # -- lifecycle
    async def start(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        conn = _connect(self._path)
        conn.executescript(_SCHEMA)
        self._writer = threading.Thread(
            target=self._write_loop, args=(conn,), name="dossier-eventlog-writer", daemon=True
        )
        self._writer.start()

    async def close(self) -> None:
        if self._writer is not None:
            self._queue.put(None)
            await asyncio.to_thread(self._writer.join, 10)
            self._writer = None
        self._readers.shutdown(wait=True)
        with self._lock:
            for conn in self._all_readers:
                conn.close()
            self._all_readers.clear()

    async def ping(self) -> None:
        await self._read(lambda c: c.execute("SELECT 1").fetchone())

    # -- writer side
    def _write_loop(self, conn: sqlite3.Connection) -> None:
        try:
            while True:
                first = self._queue.get()
                if first is None:
                    return
                group = [first]
                while len(group) < _MAX_GROUP_OPS:
                    try:
                        nxt = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if nxt is None:
                        self._queue.put(None)
                        break
                    group.append(nxt)
                self._commit_group(conn, group)
        finally:
            conn.close()

    def _commit_group(self, conn: sqlite3.Connection, group: list[_Op]) -> None:
        try:
            conn.execute("BEGIN IMMEDIATE")
            for op in group:
                conn.execute("SAVEPOINT op")
                try:
                    op.result = op.run(conn)
                    conn.execute("RELEASE op")
                except Exception as exc:  # one bad op must not sink the group
                    conn.execute("ROLLBACK TO op")
                    conn.execute("RELEASE op")
                    op.error = exc
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            log.exception("event log commit failed")
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            for op in group:
                op.error = Unavailable(f"event log write failed: {exc}")
        by_loop: dict[asyncio.AbstractEventLoop, list[_Op]] = {}
        for op in group:
            by_loop.setdefault(op.loop, []).append(op)
        for loop, ops in by_loop.items():
            # RuntimeError: the loop is closed (shutdown); nobody is waiting any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._deliver, ops)

    def _deliver(self, ops: list[_Op]) -> None:
        """On the loop: publish what was logged (in order), then wake the appenders."""
        logged = [e for op in ops if op.error is None for e in op.logged]
        if logged and self._on_logged is not None:
            try:
                self._on_logged(logged)
            except Exception:
                log.exception("event delivery hook failed")
        for op in ops:
            if op.future.done():
                continue
            if op.error is not None:
                op.future.set_exception(op.error)
            else:
                op.future.set_result(op.result)

    async def _write(
        self, run: Callable[[sqlite3.Connection], Any], op_logged: bool = False
    ) -> Any:
        if self._writer is None:
            raise Unavailable("event log is not started")
        loop = asyncio.get_running_loop()
        op = _Op(run=run, future=loop.create_future(), loop=loop)
        if op_logged:
            original = run

            def run_and_keep(conn: sqlite3.Connection) -> Any:
                events = original(conn)
                op.logged = events
                return events

            op.run = run_and_keep
        self._queue.put(op)
        return await op.future

    # -- reader side
    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = _connect(self._path)
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
                "SELECT last_seq FROM sessions WHERE session_id = ?", (session_id,)
            ).fetchone()
            if row is None:
                raise NotFound(f"unknown session {session_id}")
            keys = [e.dedup for e in batch if e.dedup is not None]
            existing: list[str] = []
            for i in range(0, len(keys), 500):
                chunk = keys[i : i + 500]
                marks = ",".join("?" * len(chunk))
                existing += [
                    r[0]
                    for r in conn.execute(
                        f"SELECT dedup FROM events WHERE session_id = ? AND dedup IN ({marks})",
                        (session_id, *chunk),
                    )
                ]
            pairs = assign_seqs(session_id, int(row[0]), batch, existing)
            if not pairs:
                return []
            for event, _ in pairs:
                _ = event.frame  # encode here, off the event loop
            conn.executemany(
                "INSERT INTO events (session_id, seq, type, ts, workflow, step, dedup, envelope)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (session_id, e.seq, e.type, e.ts, e.workflow, e.step, key, e.envelope)
                    for e, key in pairs
                ],
            )
            conn.execute(
                "UPDATE sessions SET last_seq = ? WHERE session_id = ?",
                (pairs[-1][0].seq, session_id),
            )
            return [e for e, _ in pairs]

        result: list[Event] = await self._write(run, op_logged=True)
        return result

    async def read_after(
        self, session_id: str, after_seq: int, *, limit: int = 1000, workflow: str | None = None
    ) -> list[Event]:
        def run(conn: sqlite3.Connection) -> list[Event]:
            if workflow is None:
                rows = conn.execute(
                    f"SELECT {_EVENT_COLS} FROM events WHERE session_id = ? AND seq > ? "
                    "ORDER BY seq LIMIT ?",
                    (session_id, after_seq, limit),
                ).fetchall()
            else:
                rows = conn.execute(
                    f"SELECT {_EVENT_COLS} FROM events WHERE session_id = ? AND seq > ? "
                    "AND (workflow = ? OR type = 'session.completed') ORDER BY seq LIMIT ?",
                    (session_id, after_seq, workflow, limit),
                ).fetchall()
            return [_from_row(session_id, r) for r in rows]

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
        if workflow is None:
            sql = "SELECT min(seq) FROM events WHERE session_id = ? AND type = 'session.completed'"
            args: tuple[str, ...] = (session_id,)
        else:
            sql = (
                "SELECT min(seq) FROM events WHERE session_id = ? AND workflow = ? AND type IN "
                "('workflow.completed', 'workflow.failed', 'workflow.cancelled')"
            )
            args = (session_id, workflow)
        row = await self._read(lambda c: c.execute(sql, args).fetchone())
        return None if row is None or row[0] is None else int(row[0])

    async def create_session(self, record: SessionRecord) -> None:
        def run(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO sessions (session_id, account_key, vendor_hash, account, vendor, "
                "status, cached, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                record_to_row(record),
            )
            conn.executemany(
                "INSERT OR IGNORE INTO session_owners (session_id, principal) VALUES (?, ?)",
                [(record.session_id, p) for p in record.owners],
            )

        await self._write(run)

    async def get_session(self, session_id: str) -> SessionRecord | None:
        def run(conn: sqlite3.Connection) -> SessionRecord | None:
            row = conn.execute(
                f"SELECT {_RECORD_COLS} FROM sessions WHERE session_id = ?", (session_id,)
            ).fetchone()
            if row is None:
                return None
            owners = [
                r[0]
                for r in conn.execute(
                    "SELECT principal FROM session_owners WHERE session_id = ?", (session_id,)
                )
            ]
            return row_to_record(row, owners)

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
            sql = f"SELECT {', '.join('s.' + c.strip() for c in _RECORD_COLS.split(','))} "
            sql += "FROM sessions s"
            args: list[Any] = []
            where: list[str] = []
            if owner is not None:
                sql += " JOIN session_owners o ON o.session_id = s.session_id"
                where.append("o.principal = ?")
                args.append(owner)
            if account_key is not None:
                where.append("s.account_key = ?")
                args.append(account_key)
            if where:
                sql += " WHERE " + " AND ".join(where)
            sql += " ORDER BY s.created_at DESC LIMIT ?"
            args.append(limit)
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


def _from_row(session_id: str, row: Sequence[Any]) -> Event:
    seq, etype, ts, workflow, step, envelope = row
    # ``data`` is parsed lazily: replay only needs the frame.
    return Event(
        seq=int(seq),
        type=str(etype),
        ts=str(ts),
        session=session_id,
        workflow=workflow,
        step=step,
        envelope=str(envelope),
    )
