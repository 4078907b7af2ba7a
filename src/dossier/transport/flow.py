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
  ``send`` there: what is not sent stays in the log, not in memory (and cap the socket's
  kernel send buffer, which would otherwise grow to megabytes per silent client);
* read how much is buffered, to stop producing while over budget;
* abort the connection when the stall watchdog gives up on it: the buffers (ours and the
  kernel's) are freed at once, the client sees a reset, and uvicorn sees a disconnect
  (no half-finished response left behind).

uvicorn's ``send`` is a bound method of its per-request cycle, which holds the transport
(httptools and h11 alike; pinned by ``tests/integration/test_sse_limits.py``). Under any
other server there is no handle and a stream falls back to plain ASGI behaviour.
"""

from __future__ import annotations

import contextlib
import socket
import struct
from typing import Any, Protocol

from starlette.types import Send

_RESET_ON_CLOSE = struct.pack("ii", 1, 0)  # SO_LINGER: on, 0 s
KERNEL_SEND_BUFFER_BYTES = 64 * 1024
# Once the client has shown it reads: measured on loopback, a single fast reader moved
# 84k events/s with 64 KiB and 141k with 256 KiB, while 2,000 silent readers cost 63 KiB
# each with 64 KiB and 90 KiB with 256 KiB. A client earns the larger buffer by reading;
# one that never reads keeps the small one.
KERNEL_SEND_BUFFER_READER_BYTES = 256 * 1024
# "It reads" = its kernel acknowledged this much. Our own buffer draining proves nothing
# (the kernel takes a write into its buffers whether or not the client reads), and a
# client's kernel acknowledges what fits in its receive buffer without the application
# reading: Linux starts that at 128 KiB and grows it only as the application reads.
READER_ACKED_BYTES = 1024 * 1024
_TCPI_BYTES_ACKED = struct.Struct("=Q")  # struct tcp_info's tcpi_bytes_acked (Linux 4.1+)
_TCPI_BYTES_ACKED_AT = 120


class _Transport(Protocol):
    def get_write_buffer_size(self) -> int: ...

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None: ...

    def abort(self) -> None: ...

    def is_closing(self) -> bool: ...

    def get_extra_info(self, name: str, default: Any = None) -> Any: ...


class Connection:
    """The send side of one streaming response."""

    __slots__ = ("_grown", "_transport")

    def __init__(self, transport: _Transport) -> None:
        self._transport = transport
        self._grown = False

    def drained(self) -> None:
        """Our buffer drained after a wait: if the client has shown it reads, give it the
        larger kernel send buffer (once)."""
        if self._grown:
            return
        sock: Any = self._transport.get_extra_info("socket")
        if sock is None or acked_bytes(sock) < READER_ACKED_BYTES:
            return
        self._grown = True
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, KERNEL_SEND_BUFFER_READER_BYTES)

    def buffered(self) -> int:
        """Bytes written but not yet taken by the socket."""
        return self._transport.get_write_buffer_size()

    def abort(self) -> None:
        """Drop the connection now, unsent bytes included (the client resumes by id).

        A plain close would still be graceful in the kernel: its FIN waits behind the
        bytes the client is not reading, so the client never learns the connection is
        gone and the kernel holds the buffer. Lingering zero seconds makes the close a
        reset: both are over at once."""
        sock: Any = self._transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET_ON_CLOSE)
        self._transport.abort()


def acked_bytes(sock: Any) -> int:
    """How many bytes the peer's kernel acknowledged on this TCP socket; 0 when the
    platform does not say (the connection then keeps the small buffer)."""
    tcp_info = getattr(socket, "TCP_INFO", None)
    if tcp_info is None:
        return 0
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, tcp_info, 256)
    except OSError:  # not TCP (a Unix socket), or no such option
        return 0
    if len(info) < _TCPI_BYTES_ACKED_AT + _TCPI_BYTES_ACKED.size:
        return 0
    return int(_TCPI_BYTES_ACKED.unpack_from(info, _TCPI_BYTES_ACKED_AT)[0])


def connection_of(send: Send, budget_bytes: int) -> Connection | None:
    """The connection behind uvicorn's ``send``, its high-water mark set to the budget
    (the server then resumes the stream once a quarter of it is left); None elsewhere."""
    cycle: Any = getattr(send, "__self__", None)
    transport: Any = getattr(cycle, "transport", None)
    needed = (
        "get_write_buffer_size",
        "set_write_buffer_limits",
        "abort",
        "is_closing",
        "get_extra_info",
    )
    if transport is None or not all(callable(getattr(transport, n, None)) for n in needed):
        return None
    if transport.is_closing():
        return None
    transport.set_write_buffer_limits(high=budget_bytes, low=budget_bytes // 4)
    sock: Any = transport.get_extra_info("socket")
    if sock is not None:
        # The kernel's share too: loopback and LAN sockets autotune their send buffer up
        # to megabytes, which a client that never reads would hold for as long as the
        # watchdog lets it. This is plenty for a reader that keeps up (Linux doubles it).
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, KERNEL_SEND_BUFFER_BYTES)
    return Connection(transport)
