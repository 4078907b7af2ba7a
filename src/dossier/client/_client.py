"""The :class:`Client`: HTTP requests, the resumable event stream, and asking."""

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

from dossier.client._chat import (
    ChatTransport,
    Frame,
    Receive,
    answer_frames,
    chat_socket,
    socket_receiver,
    sse_receiver,
)
from dossier.client._errors import APIError, ConnectionFailed
from dossier.client._sse import SSEMessage, SSEParser
from dossier.core.events import SESSION_TERMINAL, Event

_RETRYABLE_STATUS = frozenset({429, 502, 503, 504})
ExportFormat = Literal["md", "json"]


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
        # The backoff's clock (tests replace it).
        self._sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
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
        vendor: dict[str, object] | None = None,
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

    async def list_sessions(
        self, account: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        """The caller's sessions, newest first (of one account, when named)."""
        params: dict[str, str | int] = {"limit": limit}
        if account is not None:
            params["account"] = account
        response = await self._request("GET", "/api/sessions", params=params)
        return list(response.json()["sessions"])

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
        """Cancel a running session (``{session_id, status, detached}``; ``detached``: the
        session was one you joined, so only you left it and it runs on for its owner).
        Raises APIError 409 when it already ended."""
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
                        parser = SSEParser(bare_ids=True)
                        async for chunk in response.aiter_bytes():
                            for message in parser.feed(chunk):
                                if not message.event:
                                    # a bare id: an event of the log not ours to see
                                    last = _skip_to(message.last_event_id, last)
                                    continue
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
            await self._sleep(max(delay_s, retry_after_s or 0.0))

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

        def frames(receive: Receive) -> AsyncIterator[Frame]:
            return answer_frames(
                receive,
                qid,
                wait_for_revision=wait_for_revision,
                revision_timeout_s=revision_timeout_s,
                timeout_s=self._timeout,
            )

        url = "ws" + self.base_url.removeprefix("http") + f"/ws/sessions/{session_id}/chat"
        async with chat_socket(
            url, self._token, timeout_s=self._timeout, proxy=not self._loopback, transport=transport
        ) as socket:
            if socket is not None:
                message = json.dumps({"type": "question", "id": qid, "content": question})
                # The server may refuse the socket (bad token, unknown session) with an error
                # frame and a close that race this send: the frame, read next, says why.
                with contextlib.suppress(Exception):
                    await socket.send(message)
                async for frame in frames(socket_receiver(socket)):
                    yield frame
                return
        body = {"content": question, "id": qid, "wait_for_revision": wait_for_revision}
        # The server may hold this stream open for the revision without sending a byte:
        # no read limit here, answer_frames bounds every wait itself.
        timeout = httpx.Timeout(self._timeout, read=None)
        path = f"/api/sessions/{session_id}/questions"
        try:
            async with self._http.stream("POST", path, json=body, timeout=timeout) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise APIError.from_response(response)
                receive = sse_receiver(response.aiter_bytes())
                async for frame in frames(receive):
                    yield frame
        except httpx.TransportError as exc:
            raise ConnectionFailed(
                f"the answer stream broke: {exc or type(exc).__name__}", code="stream_lost"
            ) from exc


class _OutOfOrder(Exception):
    """A stream sent a seq that does not follow the last one: reconnect from the last."""


def _skip_to(event_id: str, last: int) -> int:
    """The seq a bare ``id:`` line moves the stream to (the next one, or it is a gap)."""
    seq = int(event_id) if event_id.isascii() and event_id.isdigit() else -1
    if seq <= last:
        return last
    if seq != last + 1:
        raise _OutOfOrder(f"expected seq {last + 1}, got id {event_id}")
    return seq


def _event_of(message: SSEMessage) -> Event | None:
    try:
        return Event.from_envelope(message.data)
    except (ValueError, TypeError, KeyError):
        return None  # not an event envelope (nothing we know of sends one, but be lenient)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None
