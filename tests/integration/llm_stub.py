"""Local stand-ins for LLM endpoints: a bare asyncio HTTP/1.1 server and the wire formats.

The server listens on 127.0.0.1 (port 0), answers one request per connection with a
scripted responder and records each request. Streams use a chunked body, so a responder can
stall (keep the socket open, send nothing) or drop (abort before the final chunk) mid-answer.
Wire formats follow each provider's documented streaming format: OpenAI ``data:
{chat.completion.chunk}`` lines ending in ``data: [DONE]``; Anthropic named events
``message_start`` … ``content_block_delta`` … ``ping`` … ``message_stop`` and ``error``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

# -- the stub server ---------------------------------------------------------------------


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class Stall:
    """Stop sending, keep the connection open."""


class Drop:
    """Cut the connection without finishing the chunked body."""


Frame = bytes | Stall | Drop
Responder = Callable[[asyncio.StreamWriter], Awaitable[None]]


@dataclass
class Stub:
    """Answers the n-th request with ``responders[min(n, last)]``; records every request."""

    responders: Sequence[Responder]
    requests: list[Recorded] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            method, path, _ = request_line.split(" ", 2)
            headers = {
                name.strip().lower(): value.strip()
                for name, _, value in (line.partition(":") for line in header_lines if line)
            }
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.requests.append(Recorded(method, path, headers, json.loads(body or b"{}")))
            index = min(len(self.requests), len(self.responders)) - 1
            await self.responders[index](writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client gave up: its side of the story is what the test checks
        finally:
            writer.close()


@contextlib.asynccontextmanager
async def serve(*responders: Responder) -> AsyncIterator[Stub]:
    stub = Stub(list(responders))
    tasks: set[asyncio.Task[None]] = set()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        await stub.handle(reader, writer)

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    stub.port = server.sockets[0].getsockname()[1]
    try:
        yield stub
    finally:
        server.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


def json_reply(status: int, payload: dict[str, Any]) -> Responder:
    async def respond(writer: asyncio.StreamWriter) -> None:
        body = json.dumps(payload).encode()
        writer.write(
            f"HTTP/1.1 {status} Stub\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()

    return respond


def sse_reply(frames: Sequence[Frame]) -> Responder:
    async def respond(writer: asyncio.StreamWriter) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"cache-control: no-cache\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
        )
        for frame in frames:
            if isinstance(frame, Stall):
                await asyncio.sleep(3600)
            if isinstance(frame, Drop):
                writer.transport.abort()
                return
            if isinstance(frame, bytes):
                writer.write(b"%x\r\n%s\r\n" % (len(frame), frame))
                await writer.drain()
                await asyncio.sleep(0.002)  # separate reads, as from a real model
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    return respond


def stall_reply() -> Responder:
    async def respond(writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(3600)

    return respond


# -- wire formats ------------------------------------------------------------------------


def oai_chunk(content: str | None = None, *, finish: str | None = None) -> bytes:
    delta: dict[str, Any] = {} if content is None else {"content": content}
    payload = {
        "id": "chatcmpl-stub",
        "object": "chat.completion.chunk",
        "created": 1_764_000_000,
        "model": "stub-model",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }
    return f"data: {json.dumps(payload)}\n\n".encode()


OAI_ROLE = b'data: {"id":"chatcmpl-stub","object":"chat.completion.chunk","created":1764000000,"model":"stub-model","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n'  # noqa: E501
OAI_DONE = b"data: [DONE]\n\n"


def oai_answer(pieces: Sequence[str], *, finish: str = "stop") -> list[Frame]:
    return [OAI_ROLE, *(oai_chunk(p) for p in pieces), oai_chunk(finish=finish), OAI_DONE]


def ant_event(name: str, payload: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(payload)}\n\n".encode()


ANT_START = ant_event(
    "message_start",
    {
        "type": "message_start",
        "message": {
            "id": "msg_stub",
            "type": "message",
            "role": "assistant",
            "content": [],
            "model": "stub-claude",
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 42, "output_tokens": 1},
        },
    },
)
ANT_BLOCK_START = ant_event(
    "content_block_start",
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
)
ANT_PING = ant_event("ping", {"type": "ping"})
ANT_OVERLOADED = ant_event(
    "error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
)


def ant_delta(text: str) -> bytes:
    return ant_event(
        "content_block_delta",
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}},
    )


def ant_end(stop_reason: str = "end_turn") -> list[Frame]:
    return [
        ant_event("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ant_event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": 17},
            },
        ),
        ant_event("message_stop", {"type": "message_stop"}),
    ]
