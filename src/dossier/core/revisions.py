"""Answers given while the data they need was still coming, revised when it lands.

Driven by the session's events, not a clock: the chat service hands every logged batch
to :meth:`Reviser.observe`, a step or workflow ending wakes the session's reviser, which
checks what its questions still wait for. Questions whose data landed (or whose research
ended) are revised together, so one composition serves every question about the same
thing. One task per session with pending questions, owned here and stopped by
:meth:`close`; it ends when nothing is pending.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from dossier.core.chat_context import pending_types
from dossier.core.events import Event, EventType
from dossier.core.intents import IntentName
from dossier.core.privacy import Viewer
from dossier.core.snapshot import SnapshotBuilder
from dossier.core.states import SessionStatus
from dossier.core.tasks import cancel_all

log = logging.getLogger(__name__)

# What can change what a question waits for.
_WAKE = frozenset(
    {
        EventType.STEP_COMPLETED,
        EventType.STEP_FAILED,
        EventType.STEP_SKIPPED,
        EventType.WORKFLOW_COMPLETED,
        EventType.WORKFLOW_FAILED,
        EventType.WORKFLOW_CANCELLED,
        EventType.SESSION_COMPLETED,
    }
)


class StateSource(Protocol):
    """Where a session's state is read (the SessionService)."""

    async def state(self, session_id: str) -> SnapshotBuilder: ...


@dataclass
class PendingQuestion:
    id: str
    question: str
    intent: IntentName
    waiting_for: set[str]
    asked_at: float = field(default_factory=time.monotonic)
    asker: str | None = None  # whose question (the revision is theirs too)


Revise = Callable[[str, PendingQuestion, str], Awaitable[None]]
Listener = Callable[[dict[str, Any]], Awaitable[None]]


class Listeners:
    """Who in this process listens for a session's revisions, and as whom: a revision
    goes only to listeners who may see its asker's chat (``core/privacy.py``)."""

    def __init__(self) -> None:
        self._by_session: dict[str, dict[Listener, Viewer | None]] = {}

    def add(self, session_id: str, callback: Listener, viewer: Viewer | None) -> Callable[[], None]:
        self._by_session.setdefault(session_id, {})[callback] = viewer

        def stop() -> None:
            listeners = self._by_session.get(session_id)
            if listeners is not None:
                listeners.pop(callback, None)
                if not listeners:
                    del self._by_session[session_id]

        return stop

    def viewers(self, session_id: str) -> list[tuple[Listener, Viewer | None]]:
        return list(self._by_session.get(session_id, {}).items())

    def __contains__(self, session_id: str) -> bool:
        return session_id in self._by_session

    def hearing(self, session_id: str, asker: str | None) -> list[Listener]:
        """The session's listeners who may see ``asker``'s chat."""
        return [
            listener
            for listener, viewer in self.viewers(session_id)
            if viewer is None or viewer.sees_asker(asker)
        ]


class Reviser:
    def __init__(self, states: StateSource, revise: Revise) -> None:
        self._states = states
        self._revise = revise
        self._pending: dict[str, dict[str, PendingQuestion]] = {}
        self._wakeups: dict[str, asyncio.Event] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def watch(self, session_id: str, question: PendingQuestion) -> None:
        """Revise ``question`` when what it waits for lands (or the research ends)."""
        self._pending.setdefault(session_id, {})[question.id] = question
        wakeup = self._wakeups.setdefault(session_id, asyncio.Event())
        wakeup.set()  # something may have landed between the answer and now
        task = self._tasks.get(session_id)
        if task is None or task.done():
            self._tasks[session_id] = asyncio.create_task(
                self._run(session_id), name=f"revise:{session_id}"
            )

    def observe(self, events: Sequence[Event]) -> None:
        """A FeedHub observer: wake the reviser of a session whose data moved."""
        for event in events:
            if event.type in _WAKE and event.session in self._pending:
                self._wakeups[event.session].set()

    async def _run(self, session_id: str) -> None:
        wakeup = self._wakeups[session_id]
        try:
            while self._pending.get(session_id):
                await wakeup.wait()
                wakeup.clear()
                builder = await self._states.state(session_id)
                due = self._due(session_id, builder)
                # Together: one slow revision does not hold up the others.
                await asyncio.gather(*(self._revise(session_id, q, why) for q, why in due))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("revising answers of %s failed", session_id)
        finally:
            self._pending.pop(session_id, None)
            self._wakeups.pop(session_id, None)
            self._tasks.pop(session_id, None)

    def _due(self, session_id: str, builder: SnapshotBuilder) -> list[tuple[PendingQuestion, str]]:
        finished = builder.status != SessionStatus.RUNNING
        due: list[tuple[PendingQuestion, str]] = []
        pending = self._pending[session_id]
        # once per wake-up, not per question: a burst of questions waits on the same data
        # (a question waits only for data types its intent wanted when it was answered)
        collecting = set(pending_types(builder, ()))
        for question in list(pending.values()):
            still = collecting & question.waiting_for
            if still and not finished:
                continue
            del pending[question.id]
            landed = sorted(question.waiting_for - still)
            due.append(
                (question, f"{', '.join(landed)} arrived" if landed else "the research finished")
            )
        return due

    async def close(self) -> None:
        await cancel_all(list(self._tasks.values()))
        self._tasks.clear()
