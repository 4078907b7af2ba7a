"""A stream's memory is bounded whatever its client does: a client that stops reading
holds at most the send budget (the rest stays in the log, and is sent from there exactly
once it reads again); one that stays silent past the stall timeout is disconnected, its
unsent bytes freed; and no principal or address holds more than its share of streams."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from starlette.types import Receive, Scope, Send

from dossier.app import Overrides, create_app
from dossier.core.events import EventType, NewEvent
from dossier.core.feed import Writer
from dossier.core.records import SessionRecord
from dossier.core.sessions import LOCAL_PRINCIPAL, principal_of
from dossier.core.states import SessionStatus
from dossier.core.types import Account, Vendor, iso_ms, utcnow
from dossier.settings import Settings
from dossier.transport.deps import Services
from dossier.transport.flow import (
    KERNEL_SEND_BUFFER_BYTES,
    KERNEL_SEND_BUFFER_READER_BYTES,
    READER_ACKED_BYTES,
    Connection,
    connection_of,
)
from tests.fakes import FakeEngine
from tests.sse import SSEParser, running_server

BUDGET = 4096
EVENTS = 600  # ~3 KiB each: a 1.9 MB stream, far more than the socket buffers take
CHUNKED = 16  # HTTP/1.1 chunk framing around one write


@dataclass
class Live:
    base: str
    services: Services


@contextlib.asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[Live]:
    app = create_app(settings, Overrides(engine=FakeEngine()))
    async with running_server(app, sndbuf=8192) as base:
        yield Live(base, app.state.services)


async def big_session(services: Services, owner: str = LOCAL_PRINCIPAL) -> str:
    log = services.sessions.log
    record = SessionRecord(
        session_id=f"s_big{owner[:6]}",
        account=Account(name="Big Corp"),
        vendor=Vendor(),
        status=SessionStatus.COMPLETED,
        created_at=iso_ms(utcnow()),
        owners={owner},
    )
    await log.create_session(record)
    text = "x" * 3000  # a frame under the budget: one write is at most the budget
    events = [NewEvent(type="finding", data={"i": i, "text": text}) for i in range(EVENTS - 1)]
    events.append(NewEvent(type=EventType.SESSION_COMPLETED, data={"status": "completed"}))
    for start in range(0, EVENTS, 100):
        await log.append(record.session_id, events[start : start + 100])
    return record.session_id


async def silent_reader(base: str, path: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A client that sends its request and then reads nothing (a small receive buffer)."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    reader, writer = await asyncio.open_connection(sock=sock)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
    await writer.drain()
    return reader, writer


async def until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(1000):  # a deadline for a hung test, not a timing assertion
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"never happened: {what}")


def the_writer(services: Services, session_id: str) -> Writer:
    feed = services.hub.feeds[session_id]
    (writer,) = feed.writers
    return writer


def connection(writer: Writer) -> Connection:
    assert writer.abort is not None, "uvicorn's transport was not found"
    owner = writer.abort.__self__  # type: ignore[attr-defined]
    assert isinstance(owner, Connection)
    return owner


def budget_settings(settings: Settings, **more: Any) -> Settings:
    return settings.model_copy(
        update={"sse_send_budget_bytes": BUDGET, "live_window_events": 16, **more}
    )


@contextlib.asynccontextmanager
async def parked_silent_stream(
    live: Live,
) -> AsyncIterator[tuple[asyncio.StreamReader, Writer]]:
    """A silent client on a big session, once its stream is parked waiting for it to read:
    the client's reader and the server's writer of that stream."""
    session_id = await big_session(live.services)
    reader, writer = await silent_reader(live.base, f"/api/sessions/{session_id}/events")
    try:
        await until(lambda: session_id in live.services.hub.feeds, "the stream opened")
        stream = the_writer(live.services, session_id)
        # It stops producing: parked in a send that waits for the client to read.
        await until(lambda: stream.sending_since > 0, "the stream waits for the client")
        yield reader, stream
    finally:
        writer.close()


async def test_a_silent_reader_holds_the_budget_and_then_gets_the_rest_from_the_log_exactly(
    settings: Settings,
) -> None:
    async with (
        serving(budget_settings(settings)) as live,
        parked_silent_stream(live) as (reader, stream),
    ):
        for _ in range(10):
            # It wrote while under the budget, at most a budget at a time.
            assert connection(stream).buffered() <= 2 * (BUDGET + CHUNKED)
            await asyncio.sleep(0.05)
        assert stream.sending_since > 0  # still parked: nothing more was produced
        # The client reads: every event, in order, once, from where it stopped.
        raw = await asyncio.wait_for(reader.read(-1), 30)
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    parser = SSEParser()
    events = parser.feed(_dechunk(body).decode())
    assert [e.seq for e in events] == list(range(1, EVENTS + 1))


def kernel_send_buffer(stream: Writer) -> int:
    sock = connection(stream)._transport.get_extra_info("socket")
    return int(sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF))


async def test_a_client_earns_the_larger_kernel_send_buffer_by_reading(
    settings: Settings,
) -> None:
    """A silent client keeps the small kernel buffer, though the kernel takes our writes
    into its buffers; one that reads gets the larger (Linux reports twice what was set)."""
    async with (
        serving(budget_settings(settings)) as live,
        parked_silent_stream(live) as (reader, stream),
    ):
        for _ in range(10):
            assert kernel_send_buffer(stream) <= 2 * KERNEL_SEND_BUFFER_BYTES
            await asyncio.sleep(0.05)
        await reader.readexactly(READER_ACKED_BYTES + 64 * 1024)  # it reads
        await until(
            lambda: kernel_send_buffer(stream) > 2 * KERNEL_SEND_BUFFER_BYTES,
            "the reader's buffer grew",
        )
        assert kernel_send_buffer(stream) <= 2 * KERNEL_SEND_BUFFER_READER_BYTES


async def test_the_watchdog_disconnects_a_silent_reader_and_frees_what_it_held(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    quick = budget_settings(settings, sse_stall_timeout_s=0.4, sse_heartbeat_s=0.2)
    server_log = logging.getLogger("uvicorn.error")  # it does not propagate to the root
    async with serving(quick) as live:
        server_log.addHandler(caplog.handler)  # after uvicorn configured its logging
        session_id = await big_session(live.services)
        reader, writer = await silent_reader(
            live.base, f"/api/sessions/{session_id}/events?follow=true"
        )
        try:
            await until(lambda: session_id in live.services.hub.feeds, "the stream opened")
            held = connection(the_writer(live.services, session_id))
            await until(lambda: live.services.streams.open_streams() == 0, "the stream ended")
            assert held.buffered() == 0  # the unsent bytes went with the connection
            # The client finds the connection gone (reset, or closed after what it held).
            with contextlib.suppress(ConnectionResetError):
                raw = await asyncio.wait_for(reader.read(-1), 10)
                assert raw.count(b"\nid: ") < EVENTS
        finally:
            writer.close()
            server_log.removeHandler(caplog.handler)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "without completing response" not in logged
    assert "Exception in ASGI application" not in logged


async def test_streams_per_address_are_limited_with_a_429(settings: Settings) -> None:
    limited = settings.model_copy(update={"sse_max_streams_per_client": 2})
    async with serving(limited) as live:
        session_id = await big_session(live.services)
        url = f"/api/sessions/{session_id}/events?follow=true&last_event_id={EVENTS}"
        async with contextlib.AsyncExitStack() as stack:
            http = await stack.enter_async_context(httpx.AsyncClient(base_url=live.base))
            for _ in range(2):
                response = await stack.enter_async_context(http.stream("GET", url))
                assert response.status_code == 200
            refused = await http.get(url)
            assert refused.status_code == 429
            assert refused.json()["error"]["code"] == "too_many_streams"
            assert "retry-after" in refused.headers
        # Closed streams are counted out: the address may open one again.
        await until(lambda: live.services.streams.open_streams() == 0, "the streams closed")
        async with (
            httpx.AsyncClient(base_url=live.base) as http,
            http.stream("GET", url) as response,
        ):
            assert response.status_code == 200


async def test_streams_per_token_are_limited_with_a_429(settings: Settings) -> None:
    limited = settings.model_copy(
        update={"api_token": SecretStr("tok-a,tok-b"), "sse_max_streams_per_principal": 1}
    )

    async with serving(limited) as live:
        a = await big_session(live.services, principal_of("tok-a"))
        b = await big_session(live.services, principal_of("tok-b"))
        query = f"follow=true&last_event_id={EVENTS}"
        async with httpx.AsyncClient(base_url=live.base) as http:
            headers_a = {"Authorization": "Bearer tok-a"}
            headers_b = {"Authorization": "Bearer tok-b"}
            url_a, url_b = f"/api/sessions/{a}/events?{query}", f"/api/sessions/{b}/events?{query}"
            async with http.stream("GET", url_a, headers=headers_a) as first:
                assert first.status_code == 200
                second = await http.get(url_a, headers=headers_a)
                assert second.status_code == 429
                assert second.json()["error"]["code"] == "too_many_streams"
                async with http.stream("GET", url_b, headers=headers_b) as other:
                    assert other.status_code == 200  # another token has its own share


async def test_uvicorn_hands_a_stream_its_transport(settings: Settings) -> None:
    """Pins the one server internal ``flow.py`` relies on (see its docstring)."""
    found: list[Connection | None] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        found.append(connection_of(send, BUDGET))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async with running_server(app) as base, httpx.AsyncClient() as http:
        assert (await http.get(base)).text == "ok"
    assert found and isinstance(found[0], Connection)


def _dechunk(body: bytes) -> bytes:
    out = bytearray()
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2 :]
    return bytes(out)
