"""The chat side of the client: one answer's frames out of a chat stream.

Both transports (the WebSocket, and ``POST /questions`` answering as SSE) become a
``receive()`` that returns the next frame as a dict (``None`` when the stream ends), and
one state machine, :func:`answer_frames`, picks out the frames of one question and
decides when its answer is over.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal

from dossier.client._errors import APIError, ConnectionFailed
from dossier.client._sse import SSEMessage, SSEParser

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

Frame = dict[str, Any]  # one chat frame: {"type": "answer.delta", "id": ..., "text": ...}
Receive = Callable[[], Awaitable[Frame | None]]
ChatTransport = Literal["auto", "websocket", "http"]
_ANSWER_TYPES = frozenset(
    {"answer.start", "answer.delta", "answer.citation", "answer.end", "answer.revised"}
)
_FIRST_TOKEN_S = 60.0  # the longest wait for a slow provider's first frame


async def answer_frames(
    receive: Receive,
    qid: str,
    *,
    wait_for_revision: bool,
    revision_timeout_s: float,
    timeout_s: float,
) -> AsyncIterator[Frame]:
    """The frames of answer ``qid``, until the answer is over.

    Over means: after ``answer.end`` and the ``suggestions`` that follow it, or, when the
    answer waited for data and ``wait_for_revision``, after its ``answer.revised`` (or
    ``revision_timeout_s`` without one: the answer then stands as it is). Frames of other
    questions and the suggestions sent on connect are skipped. Raises APIError for an
    ``error`` frame about this question (or about none), ConnectionFailed when the stream
    ends or stalls before ``answer.end``.
    """
    ended: Frame | None = None
    while True:
        waiting_for_revision = ended is not None and wait_for_revision and ended.get("pending")
        if ended is None:
            wait_s = max(timeout_s, _FIRST_TOKEN_S)
        else:
            wait_s = revision_timeout_s if waiting_for_revision else timeout_s
        try:
            async with asyncio.timeout(wait_s):
                frame = await receive()
        except TimeoutError:
            if ended is not None:
                return
            raise ConnectionFailed(
                f"no answer within {wait_s:g} s", code="answer_timeout"
            ) from None
        if frame is None:
            if ended is not None:
                return
            raise ConnectionFailed("the chat closed before the answer ended", code="stream_lost")
        kind = frame.get("type")
        if kind == "error" and frame.get("id") in (None, qid):
            raise APIError.from_frame(frame)
        if kind in _ANSWER_TYPES and frame.get("id") == qid:
            yield frame
            if kind == "answer.revised":
                return
            if kind == "answer.end":
                ended = frame
        elif kind == "suggestions" and ended is not None:
            yield frame
            if not (wait_for_revision and ended.get("pending")):
                return


@contextlib.asynccontextmanager
async def chat_socket(
    url: str, token: str | None, *, timeout_s: float, proxy: bool, transport: ChatTransport
) -> AsyncIterator[ClientConnection | None]:
    """The chat WebSocket at ``url`` (ws:// or wss://), or None when the HTTP answer
    stream should be used instead: ``transport="http"``, or ``auto`` and either the
    ``websockets`` package is missing or the upgrade was refused (a proxy that does not
    pass WebSockets). Raises ConnectionFailed when the server cannot be reached."""
    if transport == "http":
        yield None
        return
    try:
        from websockets.asyncio.client import connect
        from websockets.exceptions import InvalidHandshake, InvalidURI
    except ImportError:
        if transport == "websocket":
            raise
        yield None
        return
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    refused: Exception | None = None
    try:
        socket = await connect(
            url,
            additional_headers=headers,
            open_timeout=timeout_s,
            proxy=True if proxy else None,
            max_size=4 * 1024 * 1024,
        )
    except (InvalidHandshake, InvalidURI) as exc:
        refused = exc
    except (OSError, TimeoutError) as exc:
        raise ConnectionFailed(f"cannot reach {url}: {exc}", code="unreachable") from exc
    if refused is not None:
        if transport == "websocket":
            raise ConnectionFailed(
                f"the chat WebSocket was refused: {refused}", code="websocket_refused"
            ) from refused
        yield None
        return
    async with socket:
        yield socket


def socket_receiver(socket: ClientConnection) -> Receive:
    async def receive() -> Frame | None:
        with contextlib.suppress(Exception):  # closed, or not JSON: either way, the end
            frame = json.loads(await socket.recv())
            return frame if isinstance(frame, dict) else {}
        return None

    return receive


def sse_receiver(chunks: AsyncIterator[bytes]) -> Receive:
    """Frames from an SSE answer stream: ``event:`` is the type, ``data:`` the rest."""
    parser = SSEParser()
    ready: list[SSEMessage] = []

    async def receive() -> Frame | None:
        while not ready:
            chunk = await anext(chunks, None)
            if chunk is None:
                return None
            ready.extend(parser.feed(chunk))
        message = ready.pop(0)
        try:
            data = message.json()
        except ValueError:
            data = None
        return {"type": message.event, **(data if isinstance(data, dict) else {})}

    return receive
