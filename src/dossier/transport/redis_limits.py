"""Rate limits shared by every replica, kept in Redis (scale-out with ``redis_url``).

The same token bucket as :class:`~dossier.transport.limits.LocalRateLimiter`, taken in
one Lua script so that concurrent requests on different replicas cannot both spend the
last token. The script reads the time from Redis (``TIME``): replicas' clocks may
disagree, the server's is one. A bucket is a hash ``<prefix><limit>:<client key>`` that
expires once it would have refilled anyway, so idle clients cost nothing.

Redis down or failing: each replica falls back to its own in-process buckets, and says
so once (then a summary a minute, then once when Redis is back). Why fail open to
local, not closed, nor wide open: the limit protects us from a greedy client, it is not
what makes an answer right. Refusing everyone because Redis is away would turn a
degraded replica (still ready: the cache and the event fan-out degrade the same way)
into an outage; dropping the limit would leave us unprotected exactly when we are
weakest. Local buckets keep a limit, N times looser with N replicas, as before Redis
was configured. While Redis is down one check a second tries it again, so requests do
not each wait for a connection to fail.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Callable

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from dossier import metrics
from dossier.outage import Outage
from dossier.transport.limits import LocalRateLimiter, burst_of, limited

log = logging.getLogger(__name__)

PREFIX = "dossier:rate:"
# A check runs before the request's work: a Redis slower than this is as good as down.
_TIMEOUT_S = 0.5
_RETRY_EVERY_S = 1.0

# KEYS[1]: the bucket. ARGV: tokens per second, burst, idle expiry (ms), now (s; '' = the
# server's clock). Returns the ms to wait for a token, 0 when one was taken. Calling TIME
# before writing is fine from Redis 5 (scripts replicate their effects), which the event
# bus's streams need already. Floats are written with all their digits: the default
# conversion keeps 14, too few for a Unix time with microseconds.
_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[4])
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local held = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(held[1]) or burst
local at = tonumber(held[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait_ms = 0
if tokens < 1 then
  wait_ms = math.ceil((1 - tokens) / rate * 1000)
else
  tokens = tokens - 1
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens),
  'at', string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return wait_ms
"""


class RedisBuckets:
    """The Redis side of every shared limit: one client, the script, one outage state.

    Args:
        url: the Redis to share (``redis_url``).
        prefix: the start of every bucket key (one per deployment sharing a Redis).
        retry_every_s: while Redis is failing, how often a check tries it again.
        clock: tests only: the time given to the script, instead of the server's.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = PREFIX,
        retry_every_s: float = _RETRY_EVERY_S,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._redis: aioredis.Redis = aioredis.Redis.from_url(
            url,
            protocol=2,
            socket_timeout=_TIMEOUT_S,
            socket_connect_timeout=_TIMEOUT_S,
            # One immediate retry: a pooled connection may have died with a restarted
            # server. The client's default (ten, backing off) would hold every request.
            retry=Retry(NoBackoff(), 1),
        )
        # EVALSHA; on NOSCRIPT (a restarted or failed-over server) it loads the script
        # and runs it again.
        self._take = self._redis.register_script(_TAKE)
        self._prefix = prefix
        self._retry_every_s = retry_every_s
        self._clock = clock
        self._retry_at = 0.0
        self.outage = Outage("Redis (rate limits; each replica limits alone meanwhile)", log)

    def limiter(self, name: str, rate_per_min: int) -> RedisRateLimiter:
        """The limit ``name`` (part of the key), shared by every replica using ``name``."""
        return RedisRateLimiter(self, name, rate_per_min)

    async def take(self, name: str, key: str, rate_per_min: int) -> float | None:
        """Spend a token of the shared bucket: 0.0 if spent, else the seconds until one
        is; None when Redis cannot answer (the caller decides alone)."""
        if self.outage.down:
            now_s = time.monotonic()
            if now_s < self._retry_at:
                return None
            # This check tries Redis again; the others stay local for retry_every_s, so
            # a Redis that hangs costs one request a timeout, not every request.
            self._retry_at = now_s + self._retry_every_s
        rate_s = rate_per_min / 60.0
        burst = burst_of(rate_per_min)
        # Empty buckets refill in burst / rate seconds; after that, a missing key and a
        # kept one say the same thing.
        expire_ms = math.ceil(burst / rate_s * 1000) + 1000
        now = "" if self._clock is None else repr(self._clock())
        try:
            wait_ms = await self._take(
                keys=[f"{self._prefix}{name}:{key}"], args=[rate_s, burst, expire_ms, now]
            )
        except (RedisError, OSError) as exc:
            self.outage.failed(exc)
            self._retry_at = time.monotonic() + self._retry_every_s
            return None
        self.outage.ok()
        return int(wait_ms) / 1000.0

    async def close(self) -> None:
        with contextlib.suppress(RedisError, OSError):
            await self._redis.aclose()


class RedisRateLimiter:
    """One shared limit; this process's own buckets stand in while Redis is away."""

    def __init__(self, buckets: RedisBuckets, name: str, rate_per_min: int) -> None:
        self._buckets = buckets
        self._name = name
        self._rate_per_min = rate_per_min
        self._local = LocalRateLimiter(rate_per_min)

    async def hit(self, key: str) -> None:
        wait_s = await self._buckets.take(self._name, key, self._rate_per_min)
        if wait_s is None:
            metrics.RATE_LIMIT_FALLBACKS.inc(limiter=self._name)
            await self._local.hit(key)
        elif wait_s > 0:
            raise limited(wait_s)
