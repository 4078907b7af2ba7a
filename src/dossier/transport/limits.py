"""Per-client rate limits: the RateLimiter port and the in-process token bucket.

Every limit is a token bucket per client key: ``rate_per_min`` tokens a minute, holding
at most a burst of a fifth of that (3 at least), so a client may click a few times in a
row but not keep it up. One process keeps its buckets itself (:class:`LocalRateLimiter`).
N replicas behind a balancer would each grant the whole budget, N times the limit, so
with Redis configured the buckets live there and every replica draws on the same one
(``redis_limits.py``, same arithmetic).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from dossier.errors import RateLimited

_FORGET_AFTER_S = 600.0
_MAX_BUCKETS = 10_000


class RateLimiter(Protocol):
    """One limit (session creations, questions), kept per client key."""

    async def hit(self, key: str) -> None:
        """Spend one request of ``key``'s budget.

        Raises:
            RateLimited: the budget is spent; ``retry_after_s`` says when one more
                request would be allowed.
        """


def burst_of(rate_per_min: int) -> float:
    """How many requests a rested client may make at once."""
    return max(3.0, rate_per_min / 5.0)


def limited(wait_s: float) -> RateLimited:
    """The error every limiter raises (one wording, whichever kept the bucket)."""
    return RateLimited("too many requests; slow down", retry_after_s=wait_s)


@dataclass
class _Bucket:
    tokens: float
    at: float


class LocalRateLimiter:
    """Token buckets in this process (one replica, or Redis unreachable)."""

    def __init__(self, rate_per_min: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate_s = rate_per_min / 60.0
        self._burst = burst_of(rate_per_min)
        self._buckets: dict[str, _Bucket] = {}
        self._clock = clock

    async def hit(self, key: str) -> None:
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self._burst, now)
            if len(self._buckets) > _MAX_BUCKETS:  # forget idle clients
                self._buckets = {
                    k: b for k, b in self._buckets.items() if now - b.at < _FORGET_AFTER_S
                }
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.at) * self._rate_s)
        bucket.at = now
        if bucket.tokens < 1.0:
            raise limited((1.0 - bucket.tokens) / self._rate_s)
        bucket.tokens -= 1.0
