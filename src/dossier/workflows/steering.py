"""In-process steering flags, read by running steps and by the HTTP path.

One channel: the session log. ``skip``/``focus``/``stop_and_summarize`` are logged as
``steer.ack`` events and a cancel as the session's end; every process hears them through
its FeedHub (the Redis bus carries them across processes) and a process that starts a step
of a session later re-reads them from the log (:func:`~dossier.workflows.collect.
restore_steering`). They are mirrored here:

- ``skip`` (a data type or a source): a collector not started yet never starts; one in
  flight is cancelled at once and nothing more of it is logged (``muted``);
- ``focus``: the data type's waiting and paced requests go first (``priority``);
- ``stop_and_summarize``: no new request starts (``stopping``); a request in flight may
  finish within the grace, its findings kept; then the analysis is written.

Running steps wait on :meth:`SteeringBoard.next_change` instead of polling. A session's
flags are freed when it has ended and no step of it runs here (:meth:`SteeringBoard.running`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from dossier.collectors.scope import FOCUS_PRIORITY, NORMAL_PRIORITY
from dossier.core.events import Event, EventType
from dossier.core.states import SessionStatus


@dataclass
class SessionSteering:
    skipped: dict[str, str | None] = field(default_factory=dict)  # target -> when (ISO)
    focus: set[str] = field(default_factory=set)  # data types or collector names
    stop: bool = False
    cancelled: bool = False
    changed: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    steps: int = 0  # steps of the session running in this process
    ended: bool = False


class SteeringBoard:
    def __init__(self) -> None:
        self._sessions: dict[str, SessionSteering] = {}
        self._restored: set[str] = set()

    def needs_restore(self, session_id: str) -> bool:
        """True once per session: the first step of it this process runs reads the log."""
        if session_id in self._restored:
            return False
        self._restored.add(session_id)
        return True

    def of(self, session_id: str) -> SessionSteering:
        return self._sessions.setdefault(session_id, SessionSteering())

    def apply(
        self, session_id: str, action: str, target: str | None, at: str | None = None
    ) -> None:
        state = self.of(session_id)
        if action == "skip" and target:
            state.skipped.setdefault(target, at)
        elif action == "focus" and target:
            state.focus.add(target)
        elif action == "stop_and_summarize":
            state.stop = True
        elif action == "cancel":
            state.cancelled = True
        # wake whoever waits for a change (each waiter waits on the event it was given)
        woken, state.changed = state.changed, asyncio.Event()
        woken.set()

    async def next_change(self, session_id: str) -> None:
        """Returns at the session's next steering change."""
        await self.of(session_id).changed.wait()

    @contextmanager
    def running(self, session_id: str) -> Iterator[None]:
        """Around a step of the session: its flags live at least as long as the step."""
        state = self.of(session_id)
        state.steps += 1
        try:
            yield
        finally:
            state.steps -= 1
            if state.ended and state.steps <= 0:
                self.forget(session_id)

    def ended(self, session_id: str) -> None:
        """The session ended: free its flags now, or when its last step here finishes."""
        state = self._sessions.get(session_id)
        if state is None or state.steps <= 0:
            self.forget(session_id)
        else:
            state.ended = True

    def skipped(self, session_id: str, collector: str, data_types: frozenset[str]) -> bool:
        """The user skipped this collector (by name, or every data type it serves here)."""
        state = self._sessions.get(session_id)
        if state is None:
            return False
        if state.cancelled or collector in state.skipped:
            return True
        return bool(data_types) and data_types <= set(state.skipped)

    def skipped_at(self, session_id: str, collector: str, data_types: frozenset[str]) -> str | None:
        state = self._sessions.get(session_id)
        if state is None:
            return None
        for target in (collector, *sorted(data_types)):
            if state.skipped.get(target):
                return state.skipped[target]
        return None

    def stopping(self, session_id: str) -> bool:
        state = self._sessions.get(session_id)
        return state is not None and (state.stop or state.cancelled)

    def priority(self, session_id: str, collector: str, data_types: frozenset[str]) -> int:
        state = self._sessions.get(session_id)
        if state is not None and (collector in state.focus or state.focus & data_types):
            return FOCUS_PRIORITY
        return NORMAL_PRIORITY

    def observe(self, events: Sequence[Event]) -> None:
        """Apply ``steer.ack`` events and session ends as they are logged (a FeedHub
        observer)."""
        for event in events:
            if event.type == EventType.STEER_ACK:
                self.apply_event(event)
            elif event.type == EventType.SESSION_COMPLETED:
                if event.data.get("status") == SessionStatus.CANCELLED:
                    self.apply(event.session, "cancel", None, event.ts)
                self.ended(event.session)

    def apply_event(self, event: Event) -> None:
        data = event.data
        action, target = data.get("action"), data.get("target")
        if isinstance(action, str):
            self.apply(event.session, action, target if isinstance(target, str) else None, event.ts)

    def forget(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)
        self._restored.discard(session_id)

    def __len__(self) -> int:
        """Sessions with flags held here (for tests: freed when sessions end)."""
        return len(self._sessions)
