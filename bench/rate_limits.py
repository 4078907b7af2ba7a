"""What a rate-limit check costs a request: in-process buckets, the shared Redis buckets,
and Redis unreachable (each replica limiting alone). Latency per check, one at a time and
with many requests checking at once; every check is allowed (the rate is huge), so this
measures the check, not refusals.

    python bench/rate_limits.py [--redis redis://127.0.0.1:6379/12] [--checks 5000] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import socket
import statistics
import time
import uuid

import redis

from dossier.transport.limits import LocalRateLimiter, RateLimiter
from dossier.transport.redis_limits import RedisBuckets

RATE = 10_000_000  # per minute: never refuses


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def measure(limiter: RateLimiter, checks: int, concurrency: int) -> dict[str, float]:
    took_ms: list[float] = []

    async def one(i: int) -> None:
        start = time.perf_counter()
        await limiter.hit(f"client-{i % 100}")
        took_ms.append((time.perf_counter() - start) * 1000)

    started = time.perf_counter()
    for first in range(0, checks, concurrency):
        await asyncio.gather(*(one(i) for i in range(first, min(checks, first + concurrency))))
    elapsed_s = time.perf_counter() - started
    return {
        "checks_per_s": round(checks / elapsed_s),
        "p50_ms": round(statistics.median(took_ms), 3),
        "p99_ms": round(pct(took_ms, 99), 3),
    }


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--checks", type=int, default=5000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the outage line is expected here
    prefix = f"bench-rate:{uuid.uuid4().hex}:"
    shared = RedisBuckets(args.redis, prefix=prefix)
    down = RedisBuckets(f"redis://127.0.0.1:{closed_port()}/0", prefix=prefix)
    kinds: dict[str, RateLimiter] = {
        "local": LocalRateLimiter(RATE),
        "redis": shared.limiter("bench", RATE),
        "redis_down": down.limiter("bench", RATE),
    }
    results: dict[str, dict[str, float]] = {}
    try:
        for name, limiter in kinds.items():
            for concurrency in (1, 64):
                results[f"{name} c={concurrency}"] = await measure(
                    limiter, args.checks, concurrency
                )
    finally:
        await shared.close()
        await down.close()
        server = redis.Redis.from_url(args.redis)
        keys = list(server.scan_iter(match=f"{prefix}*"))
        if keys:
            server.delete(*keys)
        server.close()
    machine = f"{platform.machine()}, {platform.python_version()}, {os.cpu_count()} CPUs"
    if args.json:
        print(json.dumps({"machine": machine, "results": results}))
        return
    print(f"machine: {machine}; {args.checks} checks each")
    for name, row in results.items():
        print(
            f"{name:16} {row['checks_per_s']:>8}/s  p50 {row['p50_ms']} ms  p99 {row['p99_ms']} ms"
        )


if __name__ == "__main__":
    asyncio.run(main())
