"""How one group of appends is written to PostgreSQL, inside the caller's transaction.

Sharing a transaction only pays when the group costs fewer round trips than its appends
would alone: PostgreSQL already shares a WAL flush between transactions that commit
together, so a group replaying each append's statements in a savepoint of its own was
measured slower than one transaction per append over the pool. So the group is read and
written whole: one locking read of its sessions, one read of the dedup keys already
logged, one insert of every event, one update of every session it touched, whatever the
number of appends. Seqs, dedup and the closed-log rule are applied append by append in
submission order, exactly as a run of single appends would apply them. Should the
database refuse anything (a NUL byte in a key, say), the group is rolled back to a
savepoint and written one append per savepoint, so the failure stays with its append.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
from psycopg.rows import TupleRow

from dossier.core.events import Event, EventType, NewEvent
from dossier.errors import NotFound
from dossier.eventlog.base import assign_seqs
from dossier.eventlog.group_commit import Op

_Conn = psycopg.AsyncConnection[TupleRow]

_INSERT_EVENT = (
    "INSERT INTO dossier_events (session_id, seq, type, ts, workflow, step, dedup, envelope) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
)
_UPDATE_SESSION = (
    "UPDATE dossier_sessions SET last_seq = %s, closed_seq = coalesce(closed_seq, %s) "
    "WHERE session_id = %s"
)


@dataclass(frozen=True, slots=True)
class Append:
    """One caller's append: events for one session."""

    session_id: str
    events: list[NewEvent]


@dataclass(slots=True)
class _Session:
    last_seq: int
    closed_seq: int | None
    logged_keys: set[str]
    touched: bool = False


async def write_appends(conn: _Conn, batch: Sequence[Op[Append, list[Event]]]) -> None:
    """Write the group in ``conn``'s open transaction; give every op its outcome.

    An unknown session fails its appends with NotFound; an append the database refuses
    fails alone. Raises when the transaction cannot go on (or, for a group of one,
    whatever the database refused): then nothing of the group is written.
    """
    if len(batch) == 1:
        # Alone in its transaction (as an append always was): its error is the transaction's.
        await _write_group(conn, batch)
        return
    try:
        async with conn.transaction():  # a savepoint
            await _write_group(conn, batch)
    except psycopg.Error:
        # Something was refused: find whose, one append per savepoint. In session order
        # (stable, so each session's appends keep theirs), as the group's lock was taken.
        for op in sorted(batch, key=lambda op: op.work.session_id):
            try:
                async with conn.transaction():
                    await _write_group(conn, [op])
            except Exception as exc:
                op.fail(exc)


async def _write_group(conn: _Conn, batch: Sequence[Op[Append, list[Event]]]) -> None:
    sessions = await _lock_sessions(conn, {op.work.session_id for op in batch})
    await _read_logged_keys(conn, sessions, [op.work for op in batch])
    rows: list[tuple[object, ...]] = []
    for op in batch:
        session = sessions.get(op.work.session_id)
        if session is None:
            op.fail(NotFound(f"unknown session {op.work.session_id}"))
            continue
        try:
            pairs = assign_seqs(
                op.work.session_id,
                session.last_seq,
                op.work.events,
                session.logged_keys,
                closed=session.closed_seq is not None,
            )
        except Exception as exc:  # an event that cannot be built fails its own append
            op.fail(exc)
            continue
        for event, key in pairs:
            rows.append(_row(event, key))
            if key is not None:
                session.logged_keys.add(key)
            if event.type == EventType.SESSION_COMPLETED and session.closed_seq is None:
                session.closed_seq = event.seq
        if pairs:
            session.last_seq = pairs[-1][0].seq
            session.touched = True
        op.succeed([event for event, _ in pairs])
    if rows:
        async with conn.cursor() as cursor:
            await cursor.executemany(_INSERT_EVENT, rows)
            await cursor.executemany(
                _UPDATE_SESSION,
                [(s.last_seq, s.closed_seq, sid) for sid, s in sessions.items() if s.touched],
            )


async def _lock_sessions(conn: _Conn, session_ids: set[str]) -> dict[str, _Session]:
    # Row locks serialise appenders across processes. Taken in one order (code point
    # order, as Python sorts), two processes' groups spanning the same sessions cannot
    # wait on each other in a cycle (a deadlock, which PostgreSQL breaks by failing one).
    cursor = await conn.execute(
        "SELECT session_id, last_seq, closed_seq FROM dossier_sessions "
        'WHERE session_id = ANY(%s) ORDER BY session_id COLLATE "C" FOR UPDATE',
        (sorted(session_ids),),
    )
    return {
        str(session_id): _Session(int(last_seq), None if closed is None else int(closed), set())
        for session_id, last_seq, closed in await cursor.fetchall()
    }


async def _read_logged_keys(
    conn: _Conn, sessions: dict[str, _Session], appends: Sequence[Append]
) -> None:
    wanted = {
        (append.session_id, e.dedup)
        for append in appends
        if append.session_id in sessions
        for e in append.events
        if e.dedup is not None
    }
    if not wanted:
        return
    session_ids, keys = zip(*sorted(wanted), strict=True)
    cursor = await conn.execute(
        "SELECT e.session_id, e.dedup FROM dossier_events e "
        "JOIN unnest(%s::text[], %s::text[]) AS k(session_id, dedup) USING (session_id, dedup)",
        (list(session_ids), list(keys)),
    )
    for session_id, key in await cursor.fetchall():
        sessions[session_id].logged_keys.add(key)


def _row(event: Event, key: str | None) -> tuple[object, ...]:
    return (
        event.session,
        event.seq,
        event.type,
        event.ts,
        event.workflow,
        event.step,
        key,
        event.envelope,
    )
