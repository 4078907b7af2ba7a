"""Joining never attaches to a session nothing will finish (its workflows' executor died
and nobody can take it over, or they ended without closing it): that session is closed
as failed and a new one starts, so the account is never blocked."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dossier.core.events import EventType
from dossier.core.feed import FeedHub
from dossier.core.live import LiveStates
from dossier.core.sessions import CreateSession, SessionService
from dossier.core.states import SessionStatus
from dossier.core.types import Vendor
from dossier.eventlog.sqlite import SqliteEventLog
from tests.fakes import FakeEngine

Wired = tuple[SessionService, FakeEngine, SqliteEventLog]


@pytest.fixture
async def wired(tmp_path: Path) -> AsyncIterator[Wired]:
    log = SqliteEventLog(tmp_path / "log.sqlite")
    await log.start()
    hub = FeedHub(log, window=100, heartbeat_s=60)
    log.set_on_logged(hub.deliver)
    runner = asyncio.create_task(hub.run())
    engine = FakeEngine()
    service = SessionService(
        log, engine, LiveStates(hub, log), default_vendor=Vendor(name="Acme"), auth_enabled=False
    )
    yield service, engine, log
    runner.cancel()
    await log.close()


def request(name: str, **extra: object) -> CreateSession:
    return CreateSession.model_validate({"account": {"name": name}, **extra})


async def test_a_session_nothing_will_finish_is_ended_and_a_new_one_starts(wired: Wired) -> None:
    service, engine, log = wired
    stuck = await service.open(request("Stripe"), "local")
    engine.stuck.add(stuck.session_id)
    fresh = await service.open(request("Stripe, Inc.", refresh=True), "local")
    assert not fresh.joined and fresh.session_id != stuck.session_id
    assert engine.started == [stuck.session_id, fresh.session_id]
    ended = await service.record(stuck.session_id, "local")
    assert ended.status is SessionStatus.FAILED
    [end] = [e for e in await log.read_after(stuck.session_id, 0) if e.type == "session.completed"]
    assert end.data["status"] == "failed" and "nothing was left to run them" in end.data["error"]
    again = await service.open(request("stripe"), "local")  # the new one is live: joined
    assert again.joined and again.session_id == fresh.session_id


async def test_a_live_session_is_joined(wired: Wired) -> None:
    service, _, log = wired
    first = await service.open(request("Stripe"), "local")
    again = await service.open(request("Stripe"), "local")
    assert again.joined and again.session_id == first.session_id
    types = [e.type for e in await log.read_after(first.session_id, 0)]
    assert EventType.SESSION_COMPLETED not in types
