"""The Redis layer on the real local server (scale-out: replicas share the cache)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis

from dossier.cache.layers import LayeredCache, build_cache

URL = "redis://127.0.0.1:6379/14"


@pytest.fixture
async def two_replicas(tmp_path: Path) -> AsyncIterator[tuple[LayeredCache, LayeredCache]]:
    redis.Redis.from_url(URL).flushdb()
    one, two = build_cache(tmp_path / "a", URL), build_cache(tmp_path / "b", URL)
    yield one, two
    await one.close()
    await two.close()
    redis.Redis.from_url(URL).flushdb()


async def test_what_one_replica_caches_another_reads(
    two_replicas: tuple[LayeredCache, LayeredCache],
) -> None:
    one, two = two_replicas
    assert one.names == ["memory", "disk", "redis"]
    await one.set("dossier:v1:jobs:stripe:-:greenhouse", {"findings": [1, 2]}, ttl_s=60)
    assert await two.get("dossier:v1:jobs:stripe:-:greenhouse") == {"findings": [1, 2]}
    server = redis.Redis.from_url(URL)
    (stored,) = server.keys("*dossier:v1:jobs:stripe:-:greenhouse")  # cashews adds a prefix
    assert 0 < server.ttl(stored) <= 60


async def test_a_broken_layer_is_a_miss_not_an_outage(tmp_path: Path) -> None:
    cache = build_cache(tmp_path / "c", "redis://127.0.0.1:1/0")  # nothing listens there
    await cache.set("k", {"v": 1}, ttl_s=60)
    assert await cache.get("k") == {"v": 1}  # memory and disk still answer
    await cache.close()
