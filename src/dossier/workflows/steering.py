"""In-process steering flags, read by running steps at their boundaries.

``skip``/``focus``/``stop_and_summarize`` arrive as ``steer.ack`` events on the session
log (so every process running a workflow of that session learns them), are recorded
durably as DBOS messages to the workflow, and are mirrored here so a collector in
flight can stop between two requests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from dossier.core.events import Event, EventType


@dataclass
class SessionSteering:
    skipped: set[str] = field(default_factory=set)  # data types or collector names
    focus: set[str] = field(default_factory=set)
    stop: bool = False
    cancelled: bool = False


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

    def apply(self, session_id: str, action: str, target: str | None) -> None:
        state = self.of(session_id)
        if action == "skip" and target:
            state.skipped.add(target)
        elif action == "focus" and target:
            state.focus.add(target)
        elif action == "stop_and_summarize":
            state.stop = True
        elif action == "cancel":
            state.cancelled = True

    def should_skip(self, session_id: str, collector: str, data_types: frozenset[str]) -> bool:
        state = self._sessions.get(session_id)
        if state is None:
            return False
        if state.stop or state.cancelled:
            return True
        if collector in state.skipped or state.skipped & data_types:
            return True
        return bool(state.focus) and not (state.focus & data_types) and collector not in state.focus

    def observe(self, events: Sequence[Event]) -> None:
        """Apply ``steer.ack`` events as they are logged (a FeedHub observer)."""
        for event in events:
            if event.type == EventType.STEER_ACK:
                self.apply_event(event)

    def apply_event(self, event: Event) -> None:
        data = event.data
        action, target = data.get("action"), data.get("target")
        if isinstance(action, str):
            self.apply(event.session, action, target if isinstance(target, str) else None)

    def forget(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)
