"""A small async Python client for a dossier server (HTTP, SSE and the WebSocket chat).

For embedding::

    async with Client("http://127.0.0.1:8000") as client:
        opened = await client.create_session("Stripe")
        async for event in client.events(opened["session_id"]):
            print(event.seq, event.type)
        async for frame in client.ask(opened["session_id"], "Who should I talk to?"):
            ...

It speaks only HTTP/WebSocket (never imports the server); events are
:class:`dossier.Event` values. Server errors are raised as :class:`APIError` (status,
code, message), network failures as :class:`ConnectionFailed`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from dossier.core.events import SESSION_TERMINAL, Event
from dossier.sse_parser import SSEMessage, SSEParser

__all__ = ["APIError", "Client", "ClientError", "ConnectionFailed", "SSEMessage", "SSEParser"]

Frame = dict[str, Any]  # one chat frame: {"type": "answer.delta", "id": ..., "text": ...}
ExportFormat = Literal["md", "json"]
ChatTransport = Literal["auto", "websocket", "http"]
_ANSWER_TYPES = frozenset(
    {"answer.start", "answer.delta", "answer.citation", "answer.end", "answer.revised"}
)
_RETRYABLE_STATUS = frozenset({429, 502, 503, 504})
# WebSocket ``error`` frames carry no status; the same codes map to these on HTTP.
_STATUS_OF_CODE = {
    "invalid_input": 422,
    "bad_request": 400,
    "malformed_json": 400,
    "payload_too_large": 413,
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "rate_limited": 429,
    "unavailable": 503,
}


class ClientError(Exception):
    """Base of every error the client raises.

    Attributes:
        status: the HTTP status when the server answered (``None`` for network failures).
        code: a stable machine code (the server's ``error.code``, or the client's own).
        message: one human-readable line.
    """

    def __init__(self, message: str, *, code: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


class APIError(ClientError):
    """The server answered with an error (``{"error": {"code", "message"}}``)."""

    @classmethod
    def from_response(cls, response: httpx.Response) -> APIError:
        """From an error response whose body has been read."""
        code, message = f"http_{response.status_code}", response.reason_phrase or "error"
        try:
            body = response.json()
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            code = str(error.get("code") or code)
            message = str(error.get("message") or message)
        return cls(message, code=code, status=response.status_code)

    @classmethod
    def from_frame(cls, frame: Frame) -> APIError:
        """From a chat ``error`` frame (WebSocket or the HTTP answer stream)."""
        code = str(frame.get("code") or "error")
        return cls(str(frame.get("message") or code), code=code, status=_STATUS_OF_CODE.get(code))


class ConnectionFailed(ClientError):
    """The server could not be reached, or a stream was lost and could not be resumed."""


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Client:
    """An async client of one dossier server; close it (or use ``async with``).

    Args:
        base_url: the server, e.g. ``http://127.0.0.1:8000``.
        token: the bearer token (``DOSSIER_API_TOKEN``) when the server requires one.
        timeout: seconds for connecting and for each plain request; streams use
            ``stream_idle_timeout_s`` between chunks (the server beats every 15 s).
        transport: an httpx transport to use instead of the network (tests).
        max_reconnects: consecutive failed reconnects of an event stream before giving up.
        backoff_s / max_backoff_s: first reconnect delay (doubling) and its cap; a
            ``retry:`` field from the server replaces the first delay.
    """

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        token: str | None = None,
        timeout: float = 30.0,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        stream_idle_timeout_s: float = 45.0,
        max_reconnects: int = 8,
        backoff_s: float = 0.2,
        max_backoff_s: float = 5.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._timeout = timeout
        self._stream_timeout = httpx.Timeout(timeout, read=stream_idle_timeout_s)
        self._max_reconnects = max_reconnects
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        # Sending loopback traffic through an HTTP(S)_PROXY from the environment never helps.
        self._loopback = _loopback(self.base_url)
        headers = {"User-Agent": "dossier-client"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=timeout,
            transport=transport,
            trust_env=not self._loopback,
        )

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- plain requests
    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise ConnectionFailed(
                f"cannot reach {self.base_url}: {exc or type(exc).__name__}", code="unreachable"
            ) from exc
        if response.status_code >= 400:
            raise APIError.from_response(response)
        return response

    async def create_session(
        self,
        name: str,
        domain: str | None = None,
        *,
        refresh: bool = False,
        vendor: dict[str, str] | None = None,
        **identifiers: object,
    ) -> dict[str, Any]:
        """Start (or join, or get from the cache) the research of an account.

        ``identifiers`` are the account's other known ids: ``cik``, ``ticker``, ``boards``
        (``{"greenhouse": "stripe"}``). Returns ``{session_id, status, joined, cached,
        links}``. Raises APIError (e.g. 422 for an empty name).
        """
        account: dict[str, object] = {"name": name, **identifiers}
        if domain is not None:
            account["domain"] = domain
        body: dict[str, object] = {"account": account, "refresh": refresh}
        if vendor is not None:
            body["vendor"] = vendor
        response = await self._request("POST", "/api/sessions", json=body)
        return dict(response.json())

    async def snapshot(self, session_id: str) -> dict[str, Any]:
        """The session's state folded from its log (stream from its ``last_seq``)."""
        response = await self._request("GET", f"/api/sessions/{session_id}")
        return dict(response.json())

    async def steer(
        self, session_id: str, action: str, target: str | None = None
    ) -> dict[str, Any]:
        """``focus`` / ``skip`` a data type or source, or ``stop_and_summarize``; applied
        at the next step boundary. Returns the acknowledgement."""
        body = {"action": action, "target": target}
        response = await self._request("POST", f"/api/sessions/{session_id}/steer", json=body)
        return dict(response.json())

    async def cancel(self, session_id: str) -> dict[str, Any]:
        """Cancel a running session. Raises APIError 409 when it already ended."""
        response = await self._request("POST", f"/api/sessions/{session_id}/cancel")
        return dict(response.json())

    async def export(self, session_id: str, format: ExportFormat = "md") -> str:
        """The dossier as a Markdown document or as JSON text (the snapshot)."""
        response = await self._request(
            "GET", f"/api/sessions/{session_id}/export", params={"format": format}
        )
        return response.text

    # -- the event stream
    async def events(
        self, session_id: str, after: int = 0, follow: bool = False
    ) -> AsyncIterator[Event]:
        """The session's events after seq ``after``, in order, resuming on its own.

        A dropped connection, a clean end before ``session.completed`` or a stream that
        went silent (no byte for ``stream_idle_timeout_s``) reconnects with
        ``Last-Event-ID`` = the last seq yielded, after a backoff: no event is yielded
        twice or skipped (an out-of-order seq also reconnects from the last good one).
        Ends after ``session.completed`` unless ``follow`` (then only when the caller
        stops), or at once when the server answers 204 (``after`` is the end of a finished
        stream). Raises APIError for a 4xx (unknown session, bad ``after``) and
        ConnectionFailed after ``max_reconnects`` failures in a row. Close the iterator
        (``contextlib.aclosing``) to drop the connection early.
        """
        last = after
        failures = 0
        first_delay_s = self._backoff_s
        path = f"/api/sessions/{session_id}/events"
        params = {"follow": "true"} if follow else None
        while True:
            headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
            if last:
                headers["Last-Event-ID"] = str(last)
            problem = "the stream ended early"
            retry_after_s: float | None = None
            try:
                async with self._http.stream(
                    "GET", path, headers=headers, params=params, timeout=self._stream_timeout
                ) as response:
                    if response.status_code == 204:
                        return
                    if response.status_code >= 400:
                        await response.aread()
                        error = APIError.from_response(response)
                        if response.status_code not in _RETRYABLE_STATUS:
                            raise error
                        problem, retry_after_s = error.message, _retry_after(response)
                    else:
                        parser = SSEParser()
                        async for chunk in response.aiter_bytes():
                            for message in parser.feed(chunk):
                                event = _event_of(message)
                                if event is None or event.seq <= last:
                                    continue  # not an event, or one already yielded
                                if event.seq != last + 1:
                                    raise _OutOfOrder(f"expected seq {last + 1}, got {event.seq}")
                                last, failures = event.seq, 0
                                yield event
                                if event.type == SESSION_TERMINAL and not follow:
                                    return
                            if parser.retry_ms is not None:
                                first_delay_s = parser.retry_ms / 1000
            except (httpx.TransportError, _OutOfOrder) as exc:
                problem = str(exc) or type(exc).__name__
            failures += 1
            if failures > self._max_reconnects:
                raise ConnectionFailed(
                    f"lost the event stream of {session_id} after seq {last}: {problem}",
                    code="stream_lost",
                )
            delay_s = min(self._max_backoff_s, first_delay_s * 2 ** (failures - 1))
            await asyncio.sleep(max(delay_s, retry_after_s or 0.0))

    # -- chat
    async def ask(
        self,
        session_id: str,
        question: str,
        *,
        question_id: str | None = None,
        wait_for_revision: bool = True,
        revision_timeout_s: float = 120.0,
        transport: ChatTransport = "auto",
    ) -> AsyncIterator[Frame]:
        """Ask while the research runs; yields this answer's frames as dicts.

        In order: ``answer.start`` {basis, pending}, ``answer.delta`` {text} and
        ``answer.citation`` {finding, url, title} interleaved (a citation follows the
        sentence it supports), ``answer.end`` {complete, pending, latency_ms, partial},
        then ``suggestions`` {items}; if the answer waited for data (``pending``) and
        ``wait_for_revision``, then ``answer.revised`` {text, citations, reason} when the
        data lands (or nothing more, after ``revision_timeout_s``).

        ``transport``: ``auto`` uses the WebSocket and falls back to the HTTP answer stream
        (``POST /questions``) when the ``websockets`` package is missing or the upgrade is
        refused. Raises APIError for an ``error`` frame (unknown session, empty question,
        rate limit) and ConnectionFailed when the answer stream breaks.
        """
        qid = question_id or "q_" + secrets.token_hex(4)
        if transport != "http":
            try:
                from websockets.asyncio.client import connect
                from websockets.exceptions import InvalidHandshake, InvalidURI
            except ImportError:
                if transport == "websocket":
                    raise
            else:
                scheme = "wss" if self.base_url.startswith("https") else "ws"
                url = f"{scheme}{self.base_url[self.base_url.index(':') :]}"
                headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
                try:
                    socket = await connect(
                        f"{url}/ws/sessions/{session_id}/chat",
                        additional_headers=headers,
                        open_timeout=self._timeout,
                        proxy=None if self._loopback else True,
                        max_size=4 * 1024 * 1024,
                    )
                except (InvalidHandshake, InvalidURI) as exc:
                    if transport == "websocket":
                        raise ConnectionFailed(
                            f"the chat WebSocket was refused: {exc}", code="websocket_refused"
                        ) from exc
                except (OSError, TimeoutError) as exc:
                    raise ConnectionFailed(
                        f"cannot reach {self.base_url}: {exc}", code="unreachable"
                    ) from exc
                else:
                    async with socket:
                        message = {"type": "question", "id": qid, "content": question}
                        await socket.send(json.dumps(message))

                        async def receive() -> Frame | None:
                            with contextlib.suppress(Exception):
                                frame = json.loads(await socket.recv())
                                return frame if isinstance(frame, dict) else {}
                            return None  # closed (or garbage): the stream is over

                        async for frame in self._answer(
                            receive, qid, wait_for_revision, revision_timeout_s
                        ):
                            yield frame
                    return
        async for frame in self._ask_http(
            session_id, question, qid, wait_for_revision, revision_timeout_s
        ):
            yield frame

    async def _ask_http(
        self, session_id: str, question: str, qid: str, wait: bool, revision_timeout_s: float
    ) -> AsyncIterator[Frame]:
        body = {"content": question, "id": qid, "wait_for_revision": wait}
        # The server may hold the stream open for the revision without a byte: no read limit
        # here; _answer bounds every wait itself.
        timeout = httpx.Timeout(self._timeout, read=None)
        path = f"/api/sessions/{session_id}/questions"
        try:
            async with self._http.stream("POST", path, json=body, timeout=timeout) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise APIError.from_response(response)
                chunks = response.aiter_bytes()
                parser = SSEParser()
                ready: list[SSEMessage] = []

                async def receive() -> Frame | None:
                    while not ready:
                        chunk = await anext(chunks, None)
                        if chunk is None:
                            return None
                        ready.extend(parser.feed(chunk))
                    message = ready.pop(0)
                    data = message.json()
                    return {"type": message.event, **(data if isinstance(data, dict) else {})}

                async for frame in self._answer(receive, qid, wait, revision_timeout_s):
                    yield frame
        except httpx.TransportError as exc:
            raise ConnectionFailed(
                f"the answer stream broke: {exc or type(exc).__name__}", code="stream_lost"
            ) from exc

    async def _answer(
        self,
        receive: Callable[[], Awaitable[Frame | None]],
        qid: str,
        wait_for_revision: bool,
        revision_timeout_s: float,
    ) -> AsyncIterator[Frame]:
        """The frames of answer ``qid`` from a chat stream, until the answer is over."""
        ended: Frame | None = None
        while True:
            if ended is None:
                wait_s = max(self._timeout, 60.0)  # a slow provider's first token
            elif not (wait_for_revision and ended.get("pending")):
                wait_s = self._timeout  # just the suggestions that follow the end
            else:
                wait_s = revision_timeout_s
            try:
                async with asyncio.timeout(wait_s):
                    frame = await receive()
            except TimeoutError:
                if ended is not None:
                    return  # no revision (or suggestions) in time: the answer stands
                raise ConnectionFailed(
                    f"no answer within {wait_s:g} s", code="answer_timeout"
                ) from None
            if frame is None:
                if ended is not None:
                    return
                raise ConnectionFailed("the chat closed before the answer", code="stream_lost")
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
                yield frame  # the ones computed after this answer (not those sent on connect)
                if not (wait_for_revision and ended.get("pending")):
                    return


class _OutOfOrder(Exception):
    """A stream sent a seq that does not follow the last one: reconnect from the last."""


def _event_of(message: SSEMessage) -> Event | None:
    try:
        return Event.from_envelope(message.data)
    except (ValueError, TypeError, KeyError):
        return None  # not an event envelope (nothing we know of sends one, but be lenient)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None
