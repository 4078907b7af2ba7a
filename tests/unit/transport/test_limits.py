"""The in-process token bucket: a burst, then a refusal saying when to retry, then refill."""

from __future__ import annotations

import pytest

from dossier.errors import RateLimited
from dossier.transport.limits import LocalRateLimiter, burst_of


def test_the_burst_is_a_fifth_of_the_rate_and_at_least_three() -> None:
    assert burst_of(1) == 3.0
    assert burst_of(15) == 3.0
    assert burst_of(30) == 6.0
    assert burst_of(120) == 24.0


async def test_a_rested_client_gets_the_burst_then_a_refusal_with_the_wait() -> None:
    now = [100.0]
    limiter = LocalRateLimiter(60, clock=lambda: now[0])  # a token a second, burst 12
    for _ in range(12):
        await limiter.hit("alice")
    with pytest.raises(RateLimited) as refused:
        await limiter.hit("alice")
    assert refused.value.retry_after_s == pytest.approx(1.0)
    assert refused.value.code == "rate_limited"
    await limiter.hit("bob")  # another client has a budget of its own


async def test_the_bucket_refills_with_time_and_never_beyond_the_burst() -> None:
    now = [0.0]
    limiter = LocalRateLimiter(30, clock=lambda: now[0])  # a token per 2 s, burst 6
    for _ in range(6):
        await limiter.hit("k")
    now[0] += 0.5
    with pytest.raises(RateLimited) as refused:
        await limiter.hit("k")
    assert refused.value.retry_after_s == pytest.approx(1.5)
    now[0] += 1.5
    await limiter.hit("k")  # one token came back
    now[0] += 3600.0  # a long rest fills the burst, no more
    for _ in range(6):
        await limiter.hit("k")
    with pytest.raises(RateLimited):
        await limiter.hit("k")
