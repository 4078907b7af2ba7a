"""How one group of appends is written to PostgreSQL, in one transaction of its own.

Sharing a transaction only pays when the group costs fewer round trips than its appends
would alone: PostgreSQL already shares a WAL flush between transactions that commit
together, so a group replaying each append's statements in a savepoint of its own was
measured slower than one transaction per append over the pool. So the group is read and
written whole: one locking read of its sessions, one read of the dedup keys already
logged, one insert of every event, one update of every session it touched, whatever the
number of appends. Seqs, dedup and the closed-log rule are applied append by append in
submission order, exactly as a run of single appends would apply them.

The statements go in pipeline mode, two round trips a group: ``BEGIN`` and both reads,
then the writes and ``COMMIT``; one at a time they took six. Measured with
bench/append_rate.py (2 shared cores, loopback; medians of 3 interleaved runs): one-event
appends back to back 405 -> 671 events/s, 16 sessions at once 4.2k -> 4.9k, 50-event
appends 13.4k -> 15.5k. What is left of a single append is mostly the WAL flush of its
commit. (The rows go by ``executemany``, pipelined too: one INSERT over ``unnest()``
arrays was measured slower, 17k -> 9k events/s in 50-event appends.)

Should the database refuse anything (a NUL byte in a key, say), the group is rolled back
and written again without the pipeline, one append per savepoint, so the failure stays
with its append.
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
_Cursor = psycopg.AsyncCursor[TupleRow]

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
    """Write the group in a transaction of its own on ``conn`` (an autocommit connection
    with no transaction open); give every op its outcome.

    An unknown session fails its appends with NotFound; an append the database refuses
    fails alone. Raises when the transaction cannot go on (or, for a group of one,
    whatever the database refused): then nothing of the group is written.
    """
    try:
        async with conn.pipeline():
            await conn.execute("BEGIN")
            await _write_group(conn, batch)
            await conn.execute("COMMIT")
        return
    except psycopg.Error:
        await conn.rollback()  # (the refused transaction stays open until then)
        if len(batch) == 1:
            # Alone in its transaction (as an append always was): its error is the
            # transaction's.
            raise
    # Something was refused: find whose, one append per savepoint. In session order
    # (stable, so each session's appends keep theirs), as the group's lock was taken.
    async with conn.transaction():
        for op in sorted(batch, key=lambda op: op.work.session_id):
            try:
                async with conn.transaction():
                    await _write_group(conn, [op])
            except Exception as exc:
                op.fail(exc)


async def _write_group(conn: _Conn, batch: Sequence[Op[Append, list[Event]]]) -> None:
    # Both reads are sent before either answer is awaited (one round trip in a pipeline).
    locking = await _send_lock_sessions(conn, {op.work.session_id for op in batch})
    reading_keys = await _send_read_logged_keys(conn, [op.work for op in batch])
    sessions = {
        str(session_id): _Session(int(last_seq), None if closed is None else int(closed), set())
        for session_id, last_seq, closed in await locking.fetchall()
    }
    if reading_keys is not None:
        for session_id, key in await reading_keys.fetchall():
            if session_id in sessions:
                sessions[session_id].logged_keys.add(key)
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


async def _send_lock_sessions(conn: _Conn, session_ids: set[str]) -> _Cursor:
    # Row locks serialise appenders across processes. Taken in one order (code point
    # order, as Python sorts), two processes' groups spanning the same sessions cannot
    # wait on each other in a cycle (a deadlock, which PostgreSQL breaks by failing one).
    return await conn.execute(
        "SELECT session_id, last_seq, closed_seq FROM dossier_sessions "
        'WHERE session_id = ANY(%s) ORDER BY session_id COLLATE "C" FOR UPDATE',
        (sorted(session_ids),),
    )


async def _send_read_logged_keys(conn: _Conn, appends: Sequence[Append]) -> _Cursor | None:
    """The (session, dedup key) pairs of the group already in the log (read after the
    lock, in the same transaction: nothing can be added meanwhile); None if no event of
    the group has a key."""
    wanted = {
        (append.session_id, e.dedup)
        for append in appends
        for e in append.events
        if e.dedup is not None
    }
    if not wanted:
        return None
    session_ids, keys = zip(*sorted(wanted), strict=True)
    return await conn.execute(
        "SELECT e.session_id, e.dedup FROM dossier_events e "
        "JOIN unnest(%s::text[], %s::text[]) AS k(session_id, dedup) USING (session_id, dedup)",
        (list(session_ids), list(keys)),
    )


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
