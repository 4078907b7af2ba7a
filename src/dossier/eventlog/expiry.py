"""Retention: deleting finished sessions whose last event is older than a cutoff.

A session goes whole (its events, chat included, its owners and members, its row) or not at all;
one transaction per session keeps each write short (on SQLite the writer is the event
loop). A running session is never expired, however old; neither is one a caller names
in ``keep`` (a stream is reading it right now). Timestamps are the log's own
(``iso_ms``: fixed width, UTC), so they compare as text.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from typing import TYPE_CHECKING

from dossier.core.states import SessionStatus

if TYPE_CHECKING:
    import psycopg
    from psycopg.rows import TupleRow

# One pass looks at this many candidates; the next pass (an hour later) takes the rest.
BATCH = 500
_RUNNING = SessionStatus.RUNNING.value
_SEQ_BITS = 32  # eventlog/sqlite.py's key layout: (session number << 32) | seq


# -- SQLite (sync: run on the log's reader thread and inside its writer)


def sqlite_candidates(conn: sqlite3.Connection, cutoff: str) -> list[str]:
    rows = conn.execute(
        "SELECT s.session_id FROM sessions s "
        f"LEFT JOIN events e ON e.id = (s.num << {_SEQ_BITS}) + s.last_seq "
        "WHERE s.status <> ? AND coalesce(json_extract(e.envelope, '$.ts'), s.created_at) < ? "
        "ORDER BY s.num LIMIT ?",
        (_RUNNING, cutoff, BATCH),
    ).fetchall()
    return [str(r[0]) for r in rows]


def sqlite_expire_one(conn: sqlite3.Connection, session_id: str, cutoff: str) -> bool:
    """Delete one session if it still qualifies (checked again inside the write)."""
    row = conn.execute(
        "SELECT s.num FROM sessions s "
        f"LEFT JOIN events e ON e.id = (s.num << {_SEQ_BITS}) + s.last_seq "
        "WHERE s.session_id = ? AND s.status <> ? "
        "AND coalesce(json_extract(e.envelope, '$.ts'), s.created_at) < ?",
        (session_id, _RUNNING, cutoff),
    ).fetchone()
    if row is None:
        return False
    num = int(row[0])
    conn.execute(
        "DELETE FROM events WHERE id >= ? AND id < ?",
        (num << _SEQ_BITS, (num + 1) << _SEQ_BITS),
    )
    conn.execute("DELETE FROM session_owners WHERE session_id = ?", (session_id,))
    conn.execute("DELETE FROM session_members WHERE session_id = ?", (session_id,))
    conn.execute("DELETE FROM sessions WHERE num = ?", (num,))
    return True


# -- PostgreSQL

_PG_QUALIFIES = (
    "s.status <> %s AND coalesce("
    "(SELECT e.ts FROM dossier_events e WHERE e.session_id = s.session_id "
    "AND e.seq = s.last_seq), s.created_at) < %s"
)


async def postgres_expire(
    conn: psycopg.AsyncConnection[TupleRow], cutoff: str, keep: Collection[str]
) -> list[str]:
    cursor = await conn.execute(
        f"SELECT s.session_id FROM dossier_sessions s WHERE {_PG_QUALIFIES} "
        "ORDER BY s.created_at LIMIT %s",
        (_RUNNING, cutoff, BATCH),
    )
    expired: list[str] = []
    for (session_id,) in await cursor.fetchall():
        if session_id in keep:
            continue
        async with conn.transaction():
            # Locked and checked again: an appender may have written to it meanwhile.
            locked = await conn.execute(
                f"SELECT s.session_id FROM dossier_sessions s WHERE s.session_id = %s "
                f"AND {_PG_QUALIFIES} FOR UPDATE",
                (session_id, _RUNNING, cutoff),
            )
            if await locked.fetchone() is None:
                continue
            await conn.execute("DELETE FROM dossier_events WHERE session_id = %s", (session_id,))
            await conn.execute(
                "DELETE FROM dossier_session_owners WHERE session_id = %s", (session_id,)
            )
            await conn.execute(
                "DELETE FROM dossier_session_members WHERE session_id = %s", (session_id,)
            )
            await conn.execute("DELETE FROM dossier_sessions WHERE session_id = %s", (session_id,))
        expired.append(str(session_id))
    return expired
