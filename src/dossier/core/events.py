"""The event envelope and its wire formats (the only place that frames SSE).

Every session has one append-only log of these. ``seq`` is assigned only by
``EventLog.append`` (gap-free, monotonic per session); everything else is set by whoever
emits the event. An event is encoded once, when it is logged, and the same bytes go to
every subscriber.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import JsonValue

from dossier.core.types import iso_ms, utcnow

JsonObject = dict[str, JsonValue]


class EventType(StrEnum):
    SESSION_CREATED = "session.created"
    SESSION_JOINED = "session.joined"
    SESSION_COMPLETED = "session.completed"
    SESSION_ERROR = "session.error"
    WORKFLOW_STARTED = "workflow.started"
    WORKFLOW_COMPLETED = "workflow.completed"
    WORKFLOW_FAILED = "workflow.failed"
    WORKFLOW_CANCELLED = "workflow.cancelled"
    STEP_STARTED = "step.started"
    STEP_PROGRESS = "step.progress"
    STEP_RETRYING = "step.retrying"
    STEP_COMPLETED = "step.completed"
    STEP_FAILED = "step.failed"
    STEP_SKIPPED = "step.skipped"
    FINDING = "finding"
    ANALYSIS_STARTED = "analysis.started"
    ANALYSIS_DELTA = "analysis.delta"
    ANALYSIS_CITATION = "analysis.citation"
    ANALYSIS_COMPLETED = "analysis.completed"
    CHAT_QUESTION = "chat.question"
    ANSWER_START = "answer.start"
    ANSWER_END = "answer.end"
    ANSWER_REVISED = "answer.revised"
    STEER_ACK = "steer.ack"
    SUGGESTIONS = "suggestions"


WORKFLOW_TERMINAL = frozenset(
    {EventType.WORKFLOW_COMPLETED, EventType.WORKFLOW_FAILED, EventType.WORKFLOW_CANCELLED}
)
# The session's stream ends after this event (unless the client asked to follow chat).
SESSION_TERMINAL = EventType.SESSION_COMPLETED


def dumps(value: Any) -> str:
    """Compact JSON, UTF-8 kept as is (the one JSON encoder of the event path)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_default)


def _default(value: object) -> object:
    if isinstance(value, datetime):
        return iso_ms(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event before it is logged. ``dedup`` makes an append idempotent: an event whose
    key is already in the session's log is skipped (a re-run step re-emits nothing)."""

    type: str
    data: JsonObject = field(default_factory=dict)
    workflow: str | None = None
    step: str | None = None
    dedup: str | None = None
    ts: str = field(default_factory=lambda: iso_ms(utcnow()))


class Event:
    """A logged event: envelope fields plus its pre-encoded SSE frame.

    ``data`` is parsed lazily: the SSE replay path only needs ``frame``.
    """

    __slots__ = ("_data", "_frame", "envelope", "seq", "session", "step", "ts", "type", "workflow")

    def __init__(
        self,
        *,
        seq: int,
        type: str,
        ts: str,
        session: str,
        workflow: str | None,
        step: str | None,
        envelope: str,
        data: JsonObject | None = None,
    ) -> None:
        self.seq = seq
        self.type = type
        self.ts = ts
        self.session = session
        self.workflow = workflow
        self.step = step
        self.envelope = envelope
        self._data = data
        self._frame: bytes | None = None

    @classmethod
    def build(cls, seq: int, session: str, new: NewEvent) -> Event:
        envelope = dumps(
            {
                "seq": seq,
                "type": new.type,
                "ts": new.ts,
                "session": session,
                "workflow": new.workflow,
                "step": new.step,
                "data": new.data,
            }
        )
        return cls(
            seq=seq,
            type=new.type,
            ts=new.ts,
            session=session,
            workflow=new.workflow,
            step=new.step,
            envelope=envelope,
            data=new.data,
        )

    @classmethod
    def from_envelope(cls, envelope: str) -> Event:
        """Rebuild from the stored JSON envelope (raises ValueError if it is not one)."""
        obj = json.loads(envelope)
        if not isinstance(obj, dict) or not isinstance(obj.get("seq"), int):
            raise ValueError("not an event envelope")
        return cls(
            seq=obj["seq"],
            type=obj["type"],
            ts=obj["ts"],
            session=obj["session"],
            workflow=obj.get("workflow"),
            step=obj.get("step"),
            envelope=envelope,
            data=obj.get("data") or {},
        )

    @property
    def data(self) -> JsonObject:
        if self._data is None:
            parsed = json.loads(self.envelope).get("data") or {}
            self._data = parsed
        return self._data

    def to_dict(self) -> JsonObject:
        return {
            "seq": self.seq,
            "type": self.type,
            "ts": self.ts,
            "session": self.session,
            "workflow": self.workflow,
            "step": self.step,
            "data": self.data,
        }

    @property
    def frame(self) -> bytes:
        """The SSE frame, encoded once (the log's writer thread does it off the loop)."""
        if self._frame is None:
            self._frame = encode_sse(self)
        return self._frame

    def __repr__(self) -> str:
        return f"Event(seq={self.seq}, type={self.type!r}, step={self.step!r})"


def encode_sse(event: Event) -> bytes:
    """``id:``/``event:``/``data:`` frame. The envelope is one line of JSON (``dumps``
    never emits a raw newline), so it is always a single ``data:`` field."""
    return f"id: {event.seq}\nevent: {event.type}\ndata: {event.envelope}\n\n".encode()


def encode_sse_many(events: Iterable[Event]) -> bytes:
    return b"".join(e.frame for e in events)


def encode_sse_comment(text: str) -> bytes:
    """A comment line (``: text``): keeps proxies and clients from timing out."""
    safe = " ".join(text.splitlines())
    return f": {safe}\n\n".encode()


def encode_sse_message(event_type: str, data: JsonValue, *, event_id: str | None = None) -> bytes:
    """A frame that is not a logged event (e.g. the HTTP chat answer stream)."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event_type}\ndata: {dumps(data)}\n\n".encode()
