"""Server memory under silent SSE readers: before, while they hold on, after they are
dropped.

    silent_readers.py URL --pid PID [--conns K] [--stall-s S] [--rcvbuf B] [--json]

URL is a session's stream (``/api/sessions/{id}/events``). Reads it whole twice (its
size; the server's window, log reader and caches warm), notes the server's VmRSS, then opens K
connections that ask for ``?follow=true`` from the start and never read (receive buffer
B bytes each). Notes the peak RSS while they hold on (``during``, until the server starts
dropping them), waits until the server has closed every connection (its stall watchdog,
``S`` seconds, should), notes RSS (``after``), closes the clients and notes it once more
(``closed``); then a second wave the same way, to tell a high-water mark (the second
fits in what the first left) from a leak. Reports MB and KiB per connection. Targets:
<= 64 KiB per connection during, and memory returned after.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import select
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import httpx

MB = 1024 * 1024


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def settle(pid: int, *, quiet_s: float = 2.0, limit_s: float = 20.0) -> int:
    """RSS once it has stopped growing by more than 1% for ``quiet_s`` (the max seen)."""
    deadline = time.monotonic() + limit_s
    peak = rss_kib(pid)
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        now = rss_kib(pid)
        if now > peak * 1.01:
            quiet_since = time.monotonic()
        peak = max(peak, now)
        if time.monotonic() - quiet_since >= quiet_s:
            break
    return peak


async def open_silent(host: str, port: int, target: str, rcvbuf: int) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, (host, port))
    request = f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n\r\n"
    await loop.sock_sendall(sock, request.encode())
    return sock


def closed_by_server(socks: list[socket.socket]) -> int:
    """How many the server has closed or reset (without reading what they hold)."""
    poller = select.poll()
    for sock in socks:
        poller.register(sock.fileno(), select.POLLRDHUP | select.POLLERR | select.POLLHUP)
    hit = 0
    for _, mask in poller.poll(0):
        if mask & (select.POLLRDHUP | select.POLLERR | select.POLLHUP):
            hit += 1
    return hit


async def run(url: str, pid: int, conns: int, stall_s: float, rcvbuf: int) -> dict[str, Any]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, conns + 256)), hard))
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    async with httpx.AsyncClient(timeout=60) as http:
        # Twice: while it is written (from the live window), then from the start once
        # it is complete (from the log): what one-off caches that fills is not per
        # connection.
        for _ in range(2):
            size = 0
            async with http.stream("GET", url) as response:
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
    before = await settle(pid, quiet_s=1.0)
    started = time.monotonic()
    first = await wave(host, port, f"{parts.path}?follow=true", pid, conns, stall_s, rcvbuf)
    # Once more: what the first wave left is the allocator's high-water mark if the
    # second one fits in it (reused), a leak if it adds as much again.
    second = await wave(host, port, f"{parts.path}?follow=true", pid, conns, stall_s, rcvbuf)
    return {
        "ok": first["dropped"] == conns and second["dropped"] == conns,
        "conns": conns,
        "stream_mb": round(size / MB, 2),
        "rss_before_mb": round(before / 1024, 1),
        "rss_during_mb": round(first["during"] / 1024, 1),
        "rss_after_drop_mb": round(first["after"] / 1024, 1),
        "rss_after_close_mb": round(first["closed"] / 1024, 1),
        "rss_second_during_mb": round(second["during"] / 1024, 1),
        "rss_second_after_drop_mb": round(second["after"] / 1024, 1),
        "kib_per_conn": round((first["during"] - before) / conns, 1),
        "kib_per_conn_after_drop": round((first["after"] - before) / conns, 1),
        "kib_per_conn_second_wave": round((second["after"] - first["after"]) / conns, 1),
        "dropped_by_server": first["dropped"],
        "dropped_after_s": round(first["dropped_s"], 1),
        "seconds": round(time.monotonic() - started, 1),
    }


async def wave(
    host: str, port: int, target: str, pid: int, conns: int, stall_s: float, rcvbuf: int
) -> dict[str, float]:
    """K silent clients: RSS at their peak, once the server dropped them, once closed."""
    socks = list(
        await asyncio.gather(*(open_silent(host, port, target, rcvbuf) for _ in range(conns)))
    )
    held_at = time.monotonic()
    deadline = held_at + stall_s + 45
    # During: the peak while every client holds on (the server fills what the budget
    # allows, then waits), until the server starts dropping them.
    during = rss_kib(pid)
    dropped = 0
    while dropped < conns and time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        if dropped == 0:
            during = max(during, rss_kib(pid))
        dropped = closed_by_server(socks)
    dropped_s = time.monotonic() - held_at
    await asyncio.sleep(3)  # what was freed is handed back
    after = rss_kib(pid)
    for sock in socks:
        with contextlib.suppress(OSError):
            sock.close()
    await asyncio.sleep(2)
    return {
        "during": during,
        "after": after,
        "closed": rss_kib(pid),
        "dropped": dropped,
        "dropped_s": dropped_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--conns", type=int, default=2000)
    parser.add_argument("--stall-s", type=float, default=10.0)
    parser.add_argument("--rcvbuf", type=int, default=64 * 1024)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(run(args.url, args.pid, args.conns, args.stall_s, args.rcvbuf))
    print(json.dumps(result) if args.json else json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
