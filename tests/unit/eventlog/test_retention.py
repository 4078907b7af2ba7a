"""Retention: finished sessions whose last event is older than the cutoff are deleted
whole (events, chat, owners); running, recently used or busy ones stay. On every log."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from dossier.core.events import EventType, NewEvent
from dossier.core.ports import EventLog
from dossier.core.retention import expire_old_sessions
from dossier.core.states import SessionStatus
from tests.unit.eventlog.test_event_log import log, record

__all__ = ["log"]  # the contract fixture: SQLite, PostgreSQL and the fake

OLD = "2026-01-10T09:00:00.000Z"
RECENT = "2026-11-30T09:00:00.000Z"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


async def session(event_log: EventLog, session_id: str, *, last_at: str, done: bool) -> None:
    await event_log.create_session(
        dataclasses.replace(
            record(session_id, name=session_id), created_at=OLD, owners={"local", "p_other"}
        )
    )
    events = [NewEvent(type="finding", data={"n": 1}, ts=OLD)]
    if done:
        events.append(NewEvent(type=EventType.SESSION_COMPLETED, data={}, ts=OLD))
    events.append(NewEvent(type=EventType.CHAT_QUESTION, data={"text": "hi"}, ts=last_at))
    await event_log.append(session_id, events)
    if done:
        await event_log.set_status(session_id, SessionStatus.COMPLETED)


async def test_old_finished_sessions_are_deleted_whole_and_nothing_else(log: EventLog) -> None:
    await session(log, "s_old", last_at=OLD, done=True)
    await session(log, "s_chatted", last_at=RECENT, done=True)  # old, but used yesterday
    await session(log, "s_running", last_at=OLD, done=False)
    await session(log, "s_busy", last_at=OLD, done=True)  # a stream is reading it

    expired = await expire_old_sessions(log, 30, keep={"s_busy"}, now=lambda: NOW)

    assert expired == ["s_old"]
    assert await log.get_session("s_old") is None
    assert await log.read_after("s_old", 0) == []
    assert "s_old" not in [
        r.session_id for r in await log.list_sessions(owner="p_other", account_key=None, limit=50)
    ]
    for kept in ("s_chatted", "s_running", "s_busy", "s_1"):
        assert await log.get_session(kept) is not None
        assert len(await log.read_after(kept, 0)) == (
            0 if kept == "s_1" else 2 + (kept != "s_running")
        )
    # Nothing left to expire: a second pass deletes nothing.
    assert await expire_old_sessions(log, 30, keep={"s_busy"}, now=lambda: NOW) == []
    # An expired id is free again (a new session may take it; seqs start over).
    await log.create_session(record("s_old", name="New Co"))
    assert [e.seq for e in await log.append("s_old", [NewEvent(type="x")])] == [1]


async def test_nothing_expires_within_the_retention(log: EventLog) -> None:
    await session(log, "s_old", last_at=OLD, done=True)
    assert await expire_old_sessions(log, 400, now=lambda: NOW) == []
    assert await log.get_session("s_old") is not None
