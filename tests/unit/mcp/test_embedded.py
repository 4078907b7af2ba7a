"""The embedded backend's own behaviour: waking on changes (not beats), and a cancelled
call still ending its answer on the log."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, cast

import anyio

from dossier.core.events import Event, EventType, NewEvent
from dossier.mcp.embedded import ServicesBackend, SessionChanges
from dossier.transport.deps import Services
from dossier.transport.limits import LocalRateLimiter


def event(seq: int, kind: str, data: dict[str, Any]) -> Event:
    return Event.build(seq, "s_1", NewEvent(type=kind, data=data, workflow="w", step="collect.hn"))


class StubSessions:
    def __init__(self) -> None:
        self.logged: list[Event] = []

    async def record(self, session_id: str, principal: str) -> None:
        return None

    async def events_after(self, session_id: str, after: int, limit: int) -> list[Event]:
        return [e for e in self.logged if e.seq > after]

    def viewer(self, record: None, principal: str) -> None:
        return None  # one principal: every answer is theirs


class StubChat:
    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.cancelled: list[str] = []

    def listen(self, session_id: str, callback: Any, viewer: Any = None) -> Any:
        return lambda: None

    async def answer(
        self, session_id: str, qid: str, content: str, emit: Any, *, asker: str
    ) -> dict[str, Any]:
        self.started.set()
        await asyncio.Event().wait()  # a slow analyst
        raise AssertionError

    async def log_cancelled(self, session_id: str, qid: str, content: str, *, asker: str) -> None:
        await asyncio.sleep(0)  # an await the caller's cancellation would hit
        self.cancelled.append(qid)


def backend(changes: SessionChanges | None = None) -> tuple[ServicesBackend, SimpleNamespace]:
    services = SimpleNamespace(
        sessions=StubSessions(), chat=StubChat(), question_limiter=LocalRateLimiter(1000)
    )
    made = ServicesBackend(cast(Services, services), changes or SessionChanges(), "local", "k")
    return made, services


async def test_a_waiter_wakes_on_a_change_not_on_a_liveness_beat() -> None:
    changes = SessionChanges()
    waiting, _ = backend(changes)
    task = asyncio.create_task(waiting.wait_for_change("s_1", 3, 30))
    await asyncio.sleep(0.01)
    changes.observe([event(4, EventType.STEP_PROGRESS, {"beat": True})])
    await asyncio.sleep(0.01)
    assert not task.done()
    changes.observe([event(5, EventType.STEP_PROGRESS, {"done": 1, "total": 2})])
    assert await asyncio.wait_for(task, 5) is True


async def test_a_change_logged_before_the_wait_began_is_not_missed() -> None:
    waiting, services = backend()
    services.sessions.logged = [event(4, EventType.FINDING, {})]
    assert await waiting.wait_for_change("s_1", 3, 30) is True
    assert await waiting.wait_for_change("s_1", 4, 0.01) is False


async def test_a_cancelled_ask_still_ends_its_answer_on_the_log() -> None:
    asking, services = backend()

    async def emit(frame: dict[str, Any]) -> None:
        return None

    async with anyio.create_task_group() as group:  # cancelled the way the SDK cancels
        group.start_soon(asking.ask, "s_1", "Who?", 0.0, emit)
        await services.chat.started.wait()
        group.cancel_scope.cancel()
    assert len(services.chat.cancelled) == 1
