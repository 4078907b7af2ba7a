"""SSE streams of a session's log (and of one workflow's share of it), as bare ASGI.

Bare ASGI rather than a StreamingResponse: one coroutine and one disconnect watcher per
connection, which keeps an idle stream near the measured floor (see bench/). Contract:

* a comment line at once; heartbeat comments (every ``sse_heartbeat_s``) while idle;
* ``id: <seq>`` / ``event: <type>`` / ``data: <envelope>`` frames, batched per write;
* resume from ``Last-Event-ID`` (header) or ``?last_event_id=``: exactly the events after
  it, in order, also across restarts (the log is durable, the window only a cache);
* a non-numeric, negative or future id is a 400; a finished stream resumed at (or past)
  its end is a 204, which tells EventSource to stop reconnecting;
* the stream ends after the terminal event (``session.completed``, or the workflow's end
  for ``/api/workflows/{id}/progress``) unless ``?follow=true``;
* a reader that falls out of the live window continues from the log; one that stops
  reading for ``sse_stall_timeout_s`` is disconnected (it resumes by id);
* with several principals, another principal's chat goes out as a bare ``id:`` line
  (``core/privacy.py``): every seq is accounted for, nothing of theirs is said;
* a stream holds at most ``sse_send_budget_bytes`` written but unsent: past it, it stops
  producing until the client reads, then goes on from its cursor (from the log if the
  window has moved on). The log is the buffer, not memory (``flow.py``);
* at most ``sse_max_streams_per_principal`` / ``sse_max_streams_per_client`` open streams
  (``stream_limits.py``): over either, 429.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from typing import Protocol
from urllib.parse import parse_qs

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from dossier import metrics
from dossier.core.events import SESSION_TERMINAL, WORKFLOW_TERMINAL, Event, encode_sse_comment
from dossier.core.feed import Lagged, Writer
from dossier.core.privacy import Viewer, frames_for
from dossier.core.sessions import LOCAL_PRINCIPAL
from dossier.errors import DossierError, InvalidInput
from dossier.transport.auth import check_token, token_from_scope
from dossier.transport.deps import Services
from dossier.transport.errors import error_response
from dossier.transport.flow import connection_of

SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]
_ID_RE = re.compile(r"^\d{1,18}$")
_BATCH = 256
_LOG_BATCH = 512  # most events read from the log at once (fewer when they are large)
_LOG_READ_BYTES = 64 * 1024  # what one log read aims at once the client keeps up
_LOG_FIRST_EVENTS = 8  # a first read: what the budget holds is not known before it
_KEEP_READ_AHEAD_S = 1.0  # a parked stream keeps what it read ahead this long
_CONNECTED = b": connected\n\n"
_HEARTBEAT = encode_sse_comment("heartbeat")


def parse_last_event_id(scope: Scope) -> int:
    raw: str | None = None
    for name, value in scope.get("headers", ()):
        if name == b"last-event-id":
            raw = value.decode("latin-1").strip()
    if raw is None:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        values = query.get("last_event_id")
        raw = values[0].strip() if values else None
    if raw is None or raw == "":
        return 0
    if not _ID_RE.match(raw):
        raise InvalidInput(
            "Last-Event-ID must be a non-negative integer", code="invalid_last_event_id"
        )
    return int(raw)


def _flag(scope: Scope, name: str) -> bool:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return (query.get(name) or ["false"])[0].lower() in ("1", "true", "yes")


class EventStream:
    """``GET /api/sessions/{session_id}/events`` or ``/api/workflows/{workflow_id}/progress``."""

    def __init__(self, *, by_workflow: bool) -> None:
        self.by_workflow = by_workflow

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        services: Services = scope["app"].state.services
        principal = str((scope.get("state") or {}).get("principal") or LOCAL_PRINCIPAL)
        client = scope.get("client")
        address = str(client[0]) if client else "unknown"
        try:
            # Counted before anything is read for it: a flood is refused cheaply.
            services.streams.acquire(principal, address)
        except DossierError as exc:
            await error_response(exc)(scope, receive, send)
            return
        try:
            try:
                opened = await self._open(scope, services)
            except DossierError as exc:
                await error_response(exc)(scope, receive, send)
                return
            if opened is None:
                await Response(status_code=204)(scope, receive, send)
                return
            session_id, workflow, after, follow, viewer = opened
            await self._stream(
                scope,
                receive,
                send,
                services,
                session_id,
                workflow,
                after,
                follow,
                viewer,
                principal,
            )
        finally:
            services.streams.release(principal, address)

    async def _open(
        self, scope: Scope, services: Services
    ) -> tuple[str, str | None, int, bool, Viewer | None] | None:
        principal = str((scope.get("state") or {}).get("principal") or LOCAL_PRINCIPAL)
        params = scope.get("path_params", {})
        workflow: str | None = None
        if self.by_workflow:
            record, workflow = await services.sessions.record_of_workflow(
                str(params.get("workflow_id", "")), principal
            )
        else:
            record = await services.sessions.record(str(params.get("session_id", "")), principal)
        after = parse_last_event_id(scope)
        follow = _flag(scope, "follow")
        if not await services.sessions.stream_has_more(record.session_id, workflow, after, follow):
            return None
        viewer = services.sessions.viewer(record, principal)
        return record.session_id, workflow, after, follow, viewer

    async def _stream(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        services: Services,
        session_id: str,
        workflow: str | None,
        after: int,
        follow: bool,
        viewer: Viewer | None,
        principal: str,
    ) -> None:
        settings = services.settings
        hub, sessions = services.hub, services.sessions
        feed = await hub.open(session_id)
        gone = False

        async def watch() -> None:
            nonlocal gone
            while (await receive())["type"] != "http.disconnect":
                pass
            gone = True
            feed.wake()

        watcher = asyncio.ensure_future(watch())
        budget = settings.sse_send_budget_bytes
        connection = connection_of(send, budget)
        writer = Writer(
            asyncio.current_task(), connection.abort if connection is not None else None
        )
        feed.writers.add(writer)
        # A member who leaves the session is let go at once (core/presence.py).
        unhold = sessions.presence.hold(session_id, principal, writer.give_up)
        metrics.SSE_CONNECTIONS.inc()
        pos = after
        # A reader behind the window reads from the log (``behind``), sent a budget at a
        # time while the client keeps up.
        piece: list[Event] = []
        events: list[Event] = []
        parked = False  # has waited for its client once
        behind = Backlog(budget)
        loop = asyncio.get_running_loop()
        half_beat = settings.sse_heartbeat_s / 2
        try:
            await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
            await send({"type": "http.response.body", "body": _CONNECTED, "more_body": True})
            last_write = time.monotonic()
            while not gone and not writer.stalled:
                if connection is not None and connection.buffered() > budget:
                    # Over budget: nothing more is produced until the client reads. The
                    # server holds this empty send until its buffer drains (the watchdog
                    # watches the wait); then the cursor goes on. What was read ahead from
                    # the log is kept for a client that is only slower than us, dropped
                    # for one that stays silent (re-read if it comes back): a parked
                    # stream then holds nothing but its cursor.
                    piece, events, body = [], [], b""
                    if not parked:
                        parked = True
                        services.memory.note()
                    release = loop.call_later(_KEEP_READ_AHEAD_S, behind.release)
                    try:
                        await self._write(send, b"", writer)
                    finally:
                        release.cancel()
                    if not gone and not writer.stalled:
                        connection.drained()  # a reader earns a larger buffer (flow.py)
                    continue
                if behind.events:
                    piece = behind.take(budget)
                    body, ended = self._select(piece, b"", workflow, follow, viewer)
                    upto = piece[-1].seq
                elif workflow is None and viewer is None:
                    # The session's whole stream: frames straight from the window.
                    stop_at = None if follow else feed.terminal_seq
                    try:
                        body, upto = feed.chunk(pos, _BATCH, stop_at=stop_at, max_bytes=budget)
                    except Lagged:
                        if await behind.read(sessions, session_id, pos):
                            continue
                        body, upto, ended = b"", pos, False
                    else:
                        ended = stop_at is not None and upto >= stop_at
                else:
                    try:
                        events = within(feed.events_after(pos, _BATCH), budget)
                    except Lagged:
                        if await behind.read(sessions, session_id, pos):
                            continue
                        events = []
                    upto = events[-1].seq if events else pos
                    body, ended = self._select(events, b"", workflow, follow, viewer)
                if upto > pos or body:
                    pos = upto
                    if body:
                        await self._write(send, body, writer)
                        last_write = time.monotonic()
                    if ended:
                        break
                    continue
                await feed.wait()
                if not gone and feed.last_seq <= pos and time.monotonic() - last_write >= half_beat:
                    await self._write(send, _HEARTBEAT, writer)
                    last_write = time.monotonic()
            if not gone and not writer.stalled:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            # A stalled one was aborted by the watchdog: the server saw a disconnect, and
            # its unsent bytes went with the connection. The client resumes by id.
        except asyncio.CancelledError:
            if not writer.stalled:
                raise
            # No transport to abort (not uvicorn): the watchdog cancelled the stuck write.
            current = asyncio.current_task()
            if current is not None:
                current.uncancel()
        except OSError:
            pass  # the client went away mid-write
        finally:
            if writer.stalled:
                metrics.SSE_DROPPED.inc()
            feed.writers.discard(writer)
            unhold()
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            hub.close(feed)
            metrics.SSE_CONNECTIONS.dec()
            services.memory.note()

    @staticmethod
    def _select(
        events: list[Event],
        frames: bytes,
        workflow: str | None,
        follow: bool,
        viewer: Viewer | None = None,
    ) -> tuple[bytes, bool]:
        """The bytes to send for this batch (as ``viewer`` may see it), and whether the
        stream ends with it."""
        if workflow is None:
            for i, event in enumerate(events):
                if event.type == SESSION_TERMINAL and not follow:
                    return frames_for(viewer, events[: i + 1]), True
            return frames_for(viewer, events, frames), False
        chosen: list[bytes] = []
        for event in events:
            if event.workflow == workflow or event.type == SESSION_TERMINAL:
                chosen.append(event.frame)
                if not follow and (
                    (event.workflow == workflow and event.type in WORKFLOW_TERMINAL)
                    or event.type == SESSION_TERMINAL
                ):
                    return b"".join(chosen), True
        return b"".join(chosen), False

    @staticmethod
    async def _write(send: Send, body: bytes, writer: Writer) -> None:
        writer.sending_since = time.monotonic()
        await send({"type": "http.response.body", "body": body, "more_body": True})
        writer.sending_since = 0.0


class _Log(Protocol):
    async def events_after(self, session_id: str, after: int, limit: int) -> list[Event]: ...


class Backlog:
    """A reader behind the live window: the events it read from the durable log and has
    not sent yet, and how much to read next time: about one send budget at first,
    doubling while the client keeps up, to ``_LOG_READ_BYTES``."""

    __slots__ = ("_budget", "_bytes", "_frame_bytes", "events")

    def __init__(self, budget: int) -> None:
        self._budget = budget
        self._bytes = budget
        self._frame_bytes = 0.0  # an event's frame, on average (unknown before a read)
        self.events: list[Event] = []

    def take(self, max_bytes: int) -> list[Event]:
        """The next events to send, about ``max_bytes`` of frames (at least one)."""
        piece = within(self.events, max_bytes)
        self.events = self.events[len(piece) :]
        return piece

    def release(self) -> None:
        """The client stopped reading: drop what was read ahead, and read little next."""
        self.events = []
        self._bytes = self._budget

    async def read(self, sessions: _Log, session_id: str, pos: int) -> bool:
        """Read the next events after ``pos``; False when the log has none yet."""
        metrics.SSE_LAGGED.inc()
        limit = (
            max(8, min(_LOG_BATCH, int(self._bytes / self._frame_bytes)))
            if self._frame_bytes
            else _LOG_FIRST_EVENTS
        )
        events = await sessions.events_after(session_id, pos, limit=limit)
        if events:
            self._frame_bytes = sum(len(e.frame) for e in events) / len(events)
            self._bytes = min(_LOG_READ_BYTES, self._bytes * 2)
        self.events = events
        return bool(events)


def within(events: list[Event], max_bytes: int) -> list[Event]:
    """The first events whose frames fit in ``max_bytes`` (at least one)."""
    total = 0
    for i, event in enumerate(events):
        total += len(event.frame)
        if total > max_bytes:
            return events[: max(1, i)]
    return events


_SESSION_STREAM = re.compile(r"^/api/sessions/([^/]{1,64})/events$")
_WORKFLOW_STREAM = re.compile(r"^/api/workflows/([^/]{1,200})/progress$")
_SESSION_EVENTS = EventStream(by_workflow=False)
_WORKFLOW_EVENTS = EventStream(by_workflow=True)


async def stream_fast_path(scope: Scope, receive: Receive, send: Send) -> bool:
    """Serve the SSE streams straight from the ASGI entry, if this is one.

    A stream's every write otherwise passes through each middleware's ``send`` wrapper;
    with 1,000 subscribers that is 50,000 wrapped writes a second for nothing (the stream
    answers its own errors and checks its own token). Returns False for anything else.
    """
    if scope["type"] != "http" or scope.get("method") != "GET":
        return False
    path = scope.get("path", "")
    match = _SESSION_STREAM.match(path)
    stream, key = (_SESSION_EVENTS, "session_id") if match else (_WORKFLOW_EVENTS, "workflow_id")
    if match is None:
        match = _WORKFLOW_STREAM.match(path)
        if match is None:
            return False
    services: Services = scope["app"].state.services
    try:
        principal = check_token(token_from_scope(scope), services.settings.api_tokens)
    except DossierError as exc:
        await error_response(exc)(scope, receive, send)
        return True
    scope.setdefault("state", {})["principal"] = principal
    scope["path_params"] = {key: match.group(1)}
    await stream(scope, receive, send)
    return True
