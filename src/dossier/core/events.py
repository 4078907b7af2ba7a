"""The event envelope and its wire formats (the only place that frames SSE).

Every session has one append-only log of these. ``seq`` is assigned only by
``EventLog.append`` (gap-free, monotonic per session); everything else is set by whoever
emits the event. An event is encoded once, when it is logged, and the same bytes go to
every subscriber.
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime
from typing import Any, Final

import orjson
from pydantic import JsonValue

from dossier.core.types import iso_ms

# Payloads are JSON objects; typed loosely because JsonValue's recursive, invariant lists make
# every builder of a payload cast (validation happens where payloads enter: the models).
JsonObject = dict[str, Any]


class EventType:
    """Event type names (plain ``str`` constants: they are formatted into every SSE frame,
    and an Enum member's ``__format__`` is Python code on the hottest path)."""

    SESSION_CREATED: Final = "session.created"
    SESSION_JOINED: Final = "session.joined"
    SESSION_COMPLETED: Final = "session.completed"
    SESSION_ERROR: Final = "session.error"
    SESSION_RESUMED: Final = "session.resumed"  # its workflows moved to another executor
    WORKFLOW_STARTED: Final = "workflow.started"
    WORKFLOW_COMPLETED: Final = "workflow.completed"
    WORKFLOW_FAILED: Final = "workflow.failed"
    WORKFLOW_CANCELLED: Final = "workflow.cancelled"
    STEP_STARTED: Final = "step.started"
    STEP_PROGRESS: Final = "step.progress"
    STEP_RETRYING: Final = "step.retrying"
    STEP_COMPLETED: Final = "step.completed"
    STEP_FAILED: Final = "step.failed"
    STEP_SKIPPED: Final = "step.skipped"
    FINDING: Final = "finding"
    ANALYSIS_STARTED: Final = "analysis.started"
    ANALYSIS_DELTA: Final = "analysis.delta"
    ANALYSIS_CITATION: Final = "analysis.citation"
    ANALYSIS_COMPLETED: Final = "analysis.completed"
    CHAT_QUESTION: Final = "chat.question"
    ANSWER_START: Final = "answer.start"
    ANSWER_END: Final = "answer.end"
    ANSWER_REVISED: Final = "answer.revised"
    STEER_ACK: Final = "steer.ack"
    SUGGESTIONS: Final = "suggestions"


EVENT_TYPES: frozenset[str] = frozenset(
    value for name, value in vars(EventType).items() if name.isupper() and isinstance(value, str)
)

WORKFLOW_TERMINAL = frozenset(
    {EventType.WORKFLOW_COMPLETED, EventType.WORKFLOW_FAILED, EventType.WORKFLOW_CANCELLED}
)
# The session's stream ends after this event (unless the client asked to follow chat).
SESSION_TERMINAL = EventType.SESSION_COMPLETED


# orjson, not json: encoding the envelope was the largest per-event cost of the log path
# (measured 4.1 us with json.dumps vs 0.28 us, see bench/); output is the same compact JSON.
_ORJSON_OPTS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


def dumps(value: Any) -> str:
    """Compact JSON, UTF-8 kept as is (the one JSON encoder of the event path)."""
    try:
        return orjson.dumps(value, default=_default, option=_ORJSON_OPTS).decode()
    except TypeError:
        # orjson refuses integers beyond 64 bits; sources can send anything.
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_default)


def _default(value: object) -> object:
    if isinstance(value, datetime):
        return iso_ms(value)
    if isinstance(value, (set, frozenset)):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


_last_stamp: tuple[int, str] = (0, "")


def now_iso_ms() -> str:
    """``iso_ms(utcnow())``, cheaply: every event is stamped, so this is on the hot path
    (a burst of events within one millisecond reuses one string)."""
    global _last_stamp
    millis = int(time.time() * 1000)
    cached = _last_stamp
    if cached[0] != millis:
        second, ms = divmod(millis, 1000)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)) + f".{ms:03d}Z"
        cached = _last_stamp = (millis, stamp)
    return cached[1]


class NewEvent:
    """An event before it is logged. ``dedup`` makes an append idempotent: an event whose
    key is already in the session's log is skipped (a re-run step re-emits nothing).

    A plain slotted class rather than a dataclass: every event is built through here, and
    a frozen dataclass's ``__init__`` cost three times as much (see bench/).
    """

    __slots__ = ("data", "dedup", "step", "ts", "type", "workflow")

    def __init__(
        self,
        type: str,
        data: JsonObject | None = None,
        workflow: str | None = None,
        step: str | None = None,
        dedup: str | None = None,
        ts: str | None = None,
    ) -> None:
        self.type = type
        self.data: JsonObject = data if data is not None else {}
        self.workflow = workflow
        self.step = step
        self.dedup = dedup
        self.ts = ts or now_iso_ms()

    def __repr__(self) -> str:
        return f"NewEvent({self.type!r}, step={self.step!r}, dedup={self.dedup!r})"


# The header of an envelope as Event.build writes it (orjson keeps the key order); a field
# with a quote or a backslash in it is left to the full parse.
_HEAD = re.compile(
    r'\{"seq":(\d{1,18}),"type":"([^"\\]*)","ts":"([^"\\]*)","session":"([^"\\]*)",'
    r'"workflow":(null|"[^"\\]*"),"step":(null|"[^"\\]*"),"data":'
)


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
        """The logged event, envelope and SSE frame encoded once, here.

        The hottest function of the log (every event of every session passes once): the
        JSON is encoded straight to bytes and the frame assembled from them.
        """
        obj = {
            "seq": seq,
            "type": new.type,
            "ts": new.ts,
            "session": session,
            "workflow": new.workflow,
            "step": new.step,
            "data": new.data,
        }
        try:
            raw = orjson.dumps(obj, default=_default, option=_ORJSON_OPTS)
        except TypeError:
            raw = dumps(obj).encode()
        event = cls.__new__(cls)
        event.seq, event.type, event.ts, event.session = seq, new.type, new.ts, session
        event.workflow, event.step, event.envelope = new.workflow, new.step, raw.decode()
        event._data = new.data
        event._frame = b"id: %d\nevent: %s\ndata: %s\n\n" % (seq, new.type.encode(), raw)
        return event

    @classmethod
    def from_envelope(cls, envelope: str) -> Event:
        """Rebuild from the stored JSON envelope (raises ValueError if it is not one).

        An envelope this module wrote starts with its header fields in a fixed order, so
        they are read off its start and ``data`` is parsed only when asked for: a reader
        replaying the log wants frames, not a tree of small objects per event (2,000
        readers replaying at once left the heap that much larger). Anything else is parsed
        whole."""
        head = _HEAD.match(envelope)
        if head is not None:
            seq, type_, ts, session, workflow, step = head.groups()
            return cls(
                seq=int(seq),
                type=type_,
                ts=ts,
                session=session,
                workflow=None if workflow == "null" else workflow[1:-1],
                step=None if step == "null" else step[1:-1],
                envelope=envelope,
            )
        obj = orjson.loads(envelope)
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
            parsed = orjson.loads(self.envelope).get("data") or {}
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


def encode_sse_id(seq: int) -> bytes:
    """A bare ``id:`` line: moves the reader's last event id past an event it may not see
    (another principal's chat, ``core/privacy.py``) without dispatching anything."""
    return b"id: %d\n\n" % seq


def encode_sse_comment(text: str) -> bytes:
    """A comment line (``: text``): keeps proxies and clients from timing out."""
    safe = " ".join(text.splitlines())
    return f": {safe}\n\n".encode()


def encode_sse_message(event_type: str, data: JsonValue, *, event_id: str | None = None) -> bytes:
    """A frame that is not a logged event (e.g. the HTTP chat answer stream)."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event_type}\ndata: {dumps(data)}\n\n".encode()
