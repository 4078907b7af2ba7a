"""A stream's handle on its connection's send side: the one place that reaches into the
server (uvicorn) past ASGI.

ASGI has no flow-control or abort message. uvicorn takes every ``send``, writes it to
its transport, and pauses the *next* ``send`` once the transport's buffer is over the
transport's high-water mark (64 KiB by default, after the write that crossed it, however
large). When an app gives up on a stuck response, uvicorn ``close()``s the transport,
which waits for that buffer to drain: for a client that never reads, forever (the
connection stays open and its buffer stays in memory). So a stream takes the transport
to:

* set the high-water mark to its send budget, so the server pauses the stream's next
  ``send`` there: what is not sent stays in the log, not in memory;
* read how much is buffered, to stop producing while over budget;
* abort the connection when the stall watchdog gives up on it: the buffer is freed at
  once and uvicorn sees a disconnect (no half-finished response left behind).

uvicorn's ``send`` is a bound method of its per-request cycle, which holds the transport
(httptools and h11 alike; pinned by ``tests/unit/transport/test_flow.py``). Under any
other server there is no handle and a stream falls back to plain ASGI behaviour.
"""

from __future__ import annotations

from typing import Any, Protocol

from starlette.types import Send


class _Transport(Protocol):
    def get_write_buffer_size(self) -> int: ...

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None: ...

    def abort(self) -> None: ...

    def is_closing(self) -> bool: ...


class Connection:
    """The send side of one streaming response."""

    __slots__ = ("_transport",)

    def __init__(self, transport: _Transport) -> None:
        self._transport = transport

    def buffered(self) -> int:
        """Bytes written but not yet taken by the socket."""
        return self._transport.get_write_buffer_size()

    def abort(self) -> None:
        """Drop the connection now, unsent bytes included (the client resumes by id)."""
        self._transport.abort()


def connection_of(send: Send, budget_bytes: int) -> Connection | None:
    """The connection behind uvicorn's ``send``, its high-water mark set to the budget
    (the server then resumes the stream once a quarter of it is left); None elsewhere."""
    cycle: Any = getattr(send, "__self__", None)
    transport: Any = getattr(cycle, "transport", None)
    needed = ("get_write_buffer_size", "set_write_buffer_limits", "abort", "is_closing")
    if transport is None or not all(callable(getattr(transport, n, None)) for n in needed):
        return None
    if transport.is_closing():
        return None
    transport.set_write_buffer_limits(high=budget_bytes, low=budget_bytes // 4)
    return Connection(transport)
