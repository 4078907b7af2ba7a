"""``GET /ws/sessions/{id}/chat``: the chat protocol of PRODUCT.md over one WebSocket.

Client -> server: ``question`` {id, content}, ``steer`` {id, action, target}, ``cancel``
{id}, ``ping``, and ``auth`` {token} as the first frame when no token came with the
handshake. Server -> client: ``answer.start|delta|citation|end``, ``answer.revised``,
``steer.ack``, ``suggestions``, ``error`` {id?, code, message}, ``pong``.

Several questions may be in flight (each its own task); one slow answer never blocks the
reader, progress or other answers. A malformed, oversized or unknown frame gets an
``error`` frame and the socket stays usable. Frames out go through one bounded queue: a
client that stops reading is disconnected rather than growing server memory. A browser's
Origin must be a page on a name this server answers to (``transport/peers.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from typing import Any

from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from dossier import metrics
from dossier.core import frames
from dossier.core.chat import ChatService
from dossier.core.events import dumps
from dossier.core.privacy import Viewer
from dossier.core.sessions import LOCAL_PRINCIPAL, SteerCommand
from dossier.core.states import ConnectionState, transition
from dossier.errors import DossierError, Forbidden, InvalidInput, RateLimited, Unauthorized
from dossier.transport.auth import check_token, token_from_scope
from dossier.transport.deps import Services
from dossier.transport.peers import host_policy

log = logging.getLogger(__name__)

OUTBOX_FRAMES = 2048
AUTH_TIMEOUT_S = 10.0
_CLOSE_POLICY = 1008
_CLOSE_TOO_SLOW = 1013


_SURROGATE = re.compile("[\ud800-\udfff]")


class BadFrame(InvalidInput):
    """A frame the socket answers with an ``error`` (and then reads on)."""

    def __init__(self, message: str, *, code: str, question_id: str | None = None) -> None:
        super().__init__(message, code=code)
        self.question_id = question_id


def parse_frame(raw: str) -> dict[str, Any]:
    """A client frame as a JSON object, or BadFrame.

    Deep nesting (``[[[[…]]]]`` within the size limit) is malformed, not a RecursionError
    that drops the socket; a lone surrogate (``"\\ud800"``: valid JSON, not text) is
    refused as HTTP refuses it (422 ``invalid_input``), before anything is answered or
    logged (the log could not store it).
    """
    try:
        frame = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise BadFrame("frames must be JSON objects", code="malformed_json") from exc
    if not isinstance(frame, dict):
        raise BadFrame("frames must be JSON objects", code="malformed_json")
    for key, value in frame.items():
        if _SURROGATE.search(key) or (isinstance(value, str) and _SURROGATE.search(value)):
            qid = frame.get("id")
            raise BadFrame(
                f"{_SURROGATE.sub('?', key)}: not valid Unicode text (a lone surrogate)",
                code="invalid_input",
                question_id=qid if isinstance(qid, str) and not _SURROGATE.search(qid) else None,
            )
    return frame


class ChatConnection:
    """One socket's state: outbox, answers in flight, questions it asked."""

    def __init__(self, websocket: WebSocket, services: Services, chat: ChatService) -> None:
        self.ws = websocket
        self.services = services
        self.chat = chat
        self.state = ConnectionState.CONNECTING
        # frames to send; an int is a close code, None the end
        self.outbox: asyncio.Queue[dict[str, Any] | int | None] = asyncio.Queue(
            maxsize=OUTBOX_FRAMES
        )
        self.inflight: dict[str, asyncio.Task[None]] = {}
        self.cancelled: set[str] = set()
        self.asked: set[str] = set()
        self.last_suggestions: list[str] | None = None
        self.session_id = ""
        self.principal = LOCAL_PRINCIPAL
        # what of the session's chat this principal sees (None: one principal, all of it)
        self.viewer: Viewer | None = None

    async def send(self, frame: dict[str, Any]) -> None:
        try:
            self.outbox.put_nowait(frame)
        except asyncio.QueueFull:
            # The client stopped reading: let it go (it can reconnect) instead of buffering.
            await self.close(_CLOSE_TOO_SLOW)

    async def error(self, code: str, message: str, question_id: str | None = None) -> None:
        await self.send(frames.error(code, message, question_id))

    async def close(self, code: int) -> None:
        if self.state in (ConnectionState.OPEN, ConnectionState.CONNECTING):
            self.state = transition(self.state, ConnectionState.CLOSING)
            with contextlib.suppress(Exception):
                self.outbox.put_nowait(None)
            with contextlib.suppress(Exception):
                await self.ws.close(code)

    def let_go(self) -> None:
        """Its principal left the session: say so, then close (they are no longer a member).
        Both go through the outbox, so the frame is sent before the close."""
        frame = frames.error("forbidden", "you left this session; it runs on for its owner")
        with contextlib.suppress(asyncio.QueueFull):
            self.outbox.put_nowait(frame)
            self.outbox.put_nowait(_CLOSE_POLICY)

    async def writer(self) -> None:
        while True:
            frame = await self.outbox.get()
            if frame is None or self.ws.application_state != WebSocketState.CONNECTED:
                return
            if isinstance(frame, int):  # a close code, after what was queued before it
                await self.close(frame)
                return
            try:
                await self.ws.send_text(dumps(frame))
            except (WebSocketDisconnect, OSError):
                return  # the client left; the reader sees the disconnect and ends the rest

    async def reader(self, tg: asyncio.TaskGroup) -> None:
        max_bytes = self.services.settings.ws_max_frame_bytes
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            raw = message.get("text")
            if raw is None:
                raw_bytes = message.get("bytes") or b""
                if len(raw_bytes) > max_bytes:
                    await self.error("frame_too_large", f"frames are limited to {max_bytes} bytes")
                    continue
                raw = raw_bytes.decode("utf-8", errors="replace")
            if len(raw.encode()) > max_bytes:
                await self.error("frame_too_large", f"frames are limited to {max_bytes} bytes")
                continue
            try:
                frame = parse_frame(raw)
            except BadFrame as exc:
                await self.error(exc.code, exc.message, exc.question_id)
                continue
            await self.dispatch(frame, tg)

    async def dispatch(self, frame: dict[str, Any], tg: asyncio.TaskGroup) -> None:
        kind = frame.get("type")
        qid = frame.get("id")
        if qid is not None and (
            not isinstance(qid, str) or not qid or len(qid) > 64 or not qid.isprintable()
        ):
            # (as over HTTP, ``core/types.py check_id``: it is part of the question's key)
            await self.error("invalid_input", "id must be 1-64 printable characters")
            return
        if kind == "ping":
            await self.send(frames.pong())
        elif kind == "question":
            await self.question(qid, frame.get("content"), tg)
        elif kind == "cancel":
            task = self.inflight.get(qid or "")
            if task is None:
                await self.error("unknown_question", f"no answer {qid!r} in flight", qid)
                return
            self.cancelled.add(qid or "")
            task.cancel()
        elif kind == "steer":
            await self.steer(qid, frame)
        elif kind == "auth":
            await self.error("invalid_input", "already authenticated", qid)
        else:
            await self.error("unknown_type", f"unknown message type {kind!r}", qid)

    async def question(self, qid: str | None, content: object, tg: asyncio.TaskGroup) -> None:
        if qid is None:
            await self.error("invalid_input", "a question needs an id")
            return
        if not isinstance(content, str):
            await self.error("invalid_input", "a question needs a text content", qid)
            return
        if qid in self.inflight:
            await self.error("duplicate_id", f"question {qid!r} is already in flight", qid)
            return
        if len(self.inflight) >= self.services.settings.ws_max_inflight:
            await self.error("too_many_questions", "too many questions in flight; wait", qid)
            return
        try:
            await self.services.question_limiter.hit(self.principal + ":" + self.session_id)
        except RateLimited as exc:
            await self.error(exc.code, exc.message, qid)
            return
        self.asked.add(qid)
        self.inflight[qid] = tg.create_task(self.answer(qid, content), name=f"answer:{qid}")

    async def answer(self, qid: str, content: str) -> None:
        try:
            await self.chat.answer(self.session_id, qid, content, self.send, asker=self.principal)
            items = await self.chat.suggestions(self.session_id, self.viewer)
            await self.send(frames.suggestions(items))
        except asyncio.CancelledError:
            if qid not in self.cancelled:
                raise  # the connection is going away
            with contextlib.suppress(DossierError):
                await self.chat.log_cancelled(self.session_id, qid, content, asker=self.principal)
            await self.send(
                frames.answer_end(qid, complete=False, pending=[], latency_ms=None, cancelled=True)
            )
        except DossierError as exc:
            await self.error(exc.code, exc.message, qid)
        except Exception:
            log.exception("answering %s failed", qid)
            await self.error("internal", "the answer failed", qid)
        finally:
            self.inflight.pop(qid, None)
            self.cancelled.discard(qid)

    async def suggest(self) -> None:
        """Next questions, when they changed since this socket last heard them."""
        items = await self.chat.suggestions(self.session_id, self.viewer)
        if items != self.last_suggestions:
            self.last_suggestions = items
            await self.send(frames.suggestions(items))

    async def steer(self, qid: str | None, frame: dict[str, Any]) -> None:
        try:
            command = SteerCommand.model_validate(
                {"action": frame.get("action"), "target": frame.get("target"), "id": qid}
            )
        except ValueError:
            await self.error(
                "invalid_input", "steer needs action focus|skip|stop_and_summarize", qid
            )
            return
        try:
            ack = await self.services.sessions.steer(self.session_id, self.principal, command)
        except DossierError as exc:
            await self.error(exc.code, exc.message, qid)
            return
        await self.send(frames.steer_ack(qid, ack))

    async def on_revision(self, frame: dict[str, Any]) -> None:
        """Revisions of this socket's own questions (other tabs read the log), and new
        suggestions when the research ends."""
        if frame.get("type") == "suggestions":
            await self.suggest()
        elif frame.get("id") in self.asked:
            await self.send(frame)


async def _authenticate(websocket: WebSocket, services: Services) -> str:
    """The principal: from the handshake, or from an ``auth`` first frame."""
    state = websocket.scope.get("state") or {}
    tokens = services.settings.api_tokens
    if not tokens:
        return LOCAL_PRINCIPAL
    token = state.get("token")
    if token:
        return check_token(str(token), tokens)
    try:
        async with asyncio.timeout(AUTH_TIMEOUT_S):
            raw = await websocket.receive_text()
    except (TimeoutError, KeyError) as exc:
        raise Unauthorized('send {"type":"auth","token":…} first') from exc
    frame = parse_frame(raw)  # BadFrame: the error frame says what was wrong, then close
    if frame.get("type") != "auth":
        raise Unauthorized('send {"type":"auth","token":…} first')
    return check_token(str(frame.get("token") or ""), tokens)


async def chat_endpoint(websocket: WebSocket) -> None:
    services: Services = websocket.app.state.services
    chat = services.chat
    session_id = str(websocket.path_params.get("session_id", ""))
    if not host_policy(services.settings).origin_allowed(websocket.scope):
        await websocket.close(_CLOSE_POLICY, reason=Forbidden("origin not allowed").message)
        return
    await websocket.accept()
    conn = ChatConnection(websocket, services, chat)
    conn.state = transition(conn.state, ConnectionState.OPEN)
    conn.session_id = session_id
    metrics.WS_CONNECTIONS.inc()
    try:
        try:
            conn.principal = await _authenticate(websocket, services)
            record = await services.sessions.record(session_id, conn.principal)
            conn.viewer = services.sessions.viewer(record, conn.principal)
        except DossierError as exc:
            await websocket.send_text(json.dumps(frames.error(exc.code, exc.message)))
            await websocket.close(_CLOSE_POLICY)
            return
        stop_listening = chat.listen(session_id, conn.on_revision, conn.viewer)
        # A member who leaves the session is let go at once (core/presence.py).
        unhold = services.sessions.presence.hold(session_id, conn.principal, conn.let_go)
        async with asyncio.TaskGroup() as tg:
            writer = tg.create_task(conn.writer())
            await conn.suggest()
            try:
                await conn.reader(tg)
            finally:
                stop_listening()
                unhold()
                for task in conn.inflight.values():
                    task.cancel()
                try:
                    conn.outbox.put_nowait(None)  # the writer drains what is queued, then stops
                except asyncio.QueueFull:
                    writer.cancel()
    except* (WebSocketDisconnect, OSError):
        pass  # the client went away: nothing to report
    except* Exception:
        log.exception("chat socket for %s failed", session_id)
    finally:
        metrics.WS_CONNECTIONS.dec()
        if conn.state is ConnectionState.OPEN:
            conn.state = transition(conn.state, ConnectionState.CLOSING)
        if conn.state is not ConnectionState.CLOSED:
            conn.state = transition(conn.state, ConnectionState.CLOSED)


_CHAT_PATH = re.compile(r"^/ws/sessions/([A-Za-z0-9_.-]{1,64})/chat$")


async def chat_fast_path(scope: Scope, receive: Receive, send: Send) -> bool:
    """Serve the chat socket straight from the ASGI entry, if this is one.

    Every frame a chat sends otherwise passes through each middleware's ``send`` wrapper
    (errors, telemetry, body limits, exception handling): measured as a quarter of the
    server's time under 200 chatting clients. The socket needs none of them: it maps its
    own errors to ``error`` frames and does its own auth. Returns False for anything else.
    """
    if scope["type"] != "websocket":
        return False
    match = _CHAT_PATH.match(scope.get("path", ""))
    if match is None:
        return False
    scope["path_params"] = {"session_id": match.group(1)}
    scope.setdefault("state", {})["token"] = token_from_scope(scope)
    await chat_endpoint(WebSocket(scope, receive, send))
    return True
