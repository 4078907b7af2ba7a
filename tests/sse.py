"""Test helpers: parse SSE streams and drive a real in-process uvicorn server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp

from dossier.settings import Settings
from dossier.transport.peers import uvicorn_proxy_options


@dataclass
class SSEEvent:
    id: str | None
    event: str | None
    data: str

    @property
    def json(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.data)
        return value

    @property
    def seq(self) -> int:
        return int(self.id or 0)


@dataclass
class SSEParser:
    """Incremental parser (spec line rules); comments are counted, not returned."""

    buffer: str = ""
    comments: list[str] = field(default_factory=list)

    def feed(self, text: str) -> list[SSEEvent]:
        self.buffer += text.replace("\r\n", "\n").replace("\r", "\n")
        events: list[SSEEvent] = []
        while "\n\n" in self.buffer:
            block, self.buffer = self.buffer.split("\n\n", 1)
            fields: dict[str, str] = {}
            for line in block.split("\n"):
                if line.startswith(":"):
                    self.comments.append(line[1:].strip())
                    continue
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                fields[name] = (
                    fields[name] + "\n" + value if name in fields and name == "data" else value
                )
            if "data" in fields or "event" in fields:
                events.append(
                    SSEEvent(fields.get("id"), fields.get("event"), fields.get("data", ""))
                )
        return events


async def read_stream(
    client: httpx.AsyncClient,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    stop_after: int | None = None,
    timeout_s: float = 30.0,
) -> tuple[list[SSEEvent], SSEParser]:
    """Read an SSE stream until it ends (or ``stop_after`` events), with a deadline."""
    parser = SSEParser()
    events: list[SSEEvent] = []
    async with asyncio.timeout(timeout_s):
        async with client.stream("GET", url, headers=headers) as response:
            response.raise_for_status()
            async for chunk in response.aiter_text():
                events += parser.feed(chunk)
                if stop_after is not None and len(events) >= stop_after:
                    break
    return events, parser


@contextlib.asynccontextmanager
async def running_server(
    app: ASGIApp, settings: Settings | None = None, *, sndbuf: int | None = None
) -> AsyncIterator[str]:
    """The app on a real socket (127.0.0.1, free port), served from this event loop, as
    ``dossier serve`` runs it: proxy headers believed only from ``settings.trusted_proxies``.

    ``sndbuf``: the kernel send buffer of every accepted connection (inherited from the
    listening socket), so a test sees the server's own buffering after a few KiB rather
    than after the megabytes loopback would otherwise take."""
    proxies = uvicorn_proxy_options(settings) if settings else {"proxy_headers": False}
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="on",
        ws="websockets-sansio",
        **proxies,
    )
    server = uvicorn.Server(config)
    sockets = None
    if sndbuf is not None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        listener.bind(("127.0.0.1", 0))
        sockets = [listener]
    task = asyncio.create_task(server.serve(sockets=sockets))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
