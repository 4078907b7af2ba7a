"""``DOSSIER_RETENTION_DAYS``: a server started with it deletes old finished sessions."""

from __future__ import annotations

import asyncio
import dataclasses

from dossier.app import Overrides, open_services
from dossier.core.events import EventType, NewEvent
from dossier.core.states import SessionStatus
from dossier.eventlog.sqlite import SqliteEventLog
from dossier.settings import Settings
from tests.fakes import FakeEngine
from tests.unit.eventlog.test_event_log import record

LONG_AGO = "2020-01-01T00:00:00.000Z"


async def test_a_server_with_a_retention_deletes_old_finished_sessions(
    settings: Settings,
) -> None:
    settings.data_dir.mkdir(parents=True)
    before = SqliteEventLog(settings.state_db_path)
    await before.start()
    for session_id in ("s_old", "s_new"):
        await before.create_session(
            dataclasses.replace(record(session_id, name=session_id), created_at=LONG_AGO)
        )
    ended = NewEvent(type=EventType.SESSION_COMPLETED, data={}, ts=LONG_AGO)
    await before.append("s_old", [ended])
    await before.append("s_new", [NewEvent(type=EventType.SESSION_COMPLETED, data={})])
    for session_id in ("s_old", "s_new"):
        await before.set_status(session_id, SessionStatus.COMPLETED)
    await before.close()

    kept = settings.model_copy(update={"retention_days": 30})
    async with open_services(kept, Overrides(engine=FakeEngine())) as services:
        log = services.sessions.log
        for _ in range(500):  # a deadline for a hung test, not a timing assertion
            if await log.get_session("s_old") is None:
                break
            await asyncio.sleep(0.01)
        assert await log.get_session("s_old") is None
        assert await log.get_session("s_new") is not None
