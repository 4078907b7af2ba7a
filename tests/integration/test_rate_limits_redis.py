"""Rate limits shared through the real local Redis: replicas draw on one budget, and a
Redis that is away leaves each replica limiting alone (logged once, not per request)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import redis
from fastapi import FastAPI

from dossier import metrics
from dossier.app import Overrides, create_app
from dossier.errors import RateLimited
from dossier.eventlog.redis_bus import STREAM_KEY
from dossier.settings import Settings
from dossier.transport.redis_limits import RedisBuckets
from tests.e2e.conftest import free_port
from tests.fakes import FakeEngine

URL = "redis://127.0.0.1:6379/12"  # every test keeps to keys of its own (a prefix)
LOGGER = "dossier.transport.redis_limits"


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix no other test uses; its keys are deleted afterwards."""
    made = f"test-rate:{uuid.uuid4().hex}:"
    yield made
    server = redis.Redis.from_url(URL)
    keys = list(server.scan_iter(match=f"{made}*"))
    if keys:
        server.delete(*keys)
    server.close()


@pytest.fixture
async def replicas(prefix: str) -> AsyncIterator[tuple[RedisBuckets, RedisBuckets]]:
    """Two processes' worth of Redis limits (a client each), on one Redis."""
    one, two = RedisBuckets(URL, prefix=prefix), RedisBuckets(URL, prefix=prefix)
    yield one, two
    await one.close()
    await two.close()


async def test_two_replicas_share_one_budget(
    replicas: tuple[RedisBuckets, RedisBuckets],
) -> None:
    one, two = replicas
    on_one, on_two = one.limiter("session", 30), two.limiter("session", 30)  # burst 6
    for i in range(6):
        await (on_one if i % 2 else on_two).hit("203.0.113.9")
    for limiter in (on_one, on_two):
        with pytest.raises(RateLimited) as refused:
            await limiter.hit("203.0.113.9")
        # a token every 2 s, and the last one was just spent
        assert refused.value.retry_after_s is not None
        assert 1.0 < refused.value.retry_after_s <= 2.0
    await on_two.hit("198.51.100.1")  # another client: a budget of its own
    await two.limiter("question", 30).hit("203.0.113.9")  # another limit: the same


async def test_the_bucket_refills_by_the_scripts_clock(prefix: str) -> None:
    now = [1_700_000_000.25]
    replica = RedisBuckets(URL, prefix=prefix, clock=lambda: now[0])
    limiter = replica.limiter("question", 60)  # a token a second, burst 12
    try:
        for _ in range(12):
            await limiter.hit("k")
        now[0] += 0.25
        with pytest.raises(RateLimited) as refused:
            await limiter.hit("k")
        assert refused.value.retry_after_s == pytest.approx(0.75, abs=0.001)
        now[0] += 0.75
        await limiter.hit("k")  # exactly one token came back
        with pytest.raises(RateLimited):
            await limiter.hit("k")
        now[0] -= 30.0  # a clock stepping back mints nothing
        with pytest.raises(RateLimited):
            await limiter.hit("k")
        now[0] += 3600.0  # a long rest fills the burst, no more
        for _ in range(12):
            await limiter.hit("k")
        with pytest.raises(RateLimited):
            await limiter.hit("k")
    finally:
        await replica.close()


async def test_idle_buckets_expire_once_they_would_be_full(
    replicas: tuple[RedisBuckets, RedisBuckets], prefix: str
) -> None:
    await replicas[0].limiter("session", 30).hit("10.0.0.1")
    server = redis.Redis.from_url(URL)
    try:
        # burst 6 at a token per 2 s: full after 12 s, plus a second of slack
        assert 0 < server.pttl(f"{prefix}session:10.0.0.1") <= 13_000
    finally:
        server.close()


async def test_redis_unreachable_limits_locally_and_says_so_once(
    prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    nobody = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    replica = RedisBuckets(nobody, prefix=prefix, retry_every_s=0)  # try Redis every time
    limiter = replica.limiter("session", 30)  # burst 6
    before = metrics.RATE_LIMIT_FALLBACKS.value(limiter="session")
    try:
        for _ in range(6):
            await limiter.hit("203.0.113.9")
        with pytest.raises(RateLimited) as refused:
            await limiter.hit("203.0.113.9")
    finally:
        await replica.close()
    assert refused.value.retry_after_s is not None and refused.value.retry_after_s > 1.0
    assert metrics.RATE_LIMIT_FALLBACKS.value(limiter="session") - before == 7
    (line,) = [r for r in caplog.records if r.name == LOGGER]  # one line for seven hits
    assert "is unreachable" in line.getMessage()
    assert line.exc_info is None  # and no traceback


async def test_a_hanging_redis_costs_one_check_a_timeout_not_every_check(prefix: str) -> None:
    connections = 0

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await reader.read()  # accepts, reads, never answers: a Redis that hangs
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    replica = RedisBuckets(f"redis://127.0.0.1:{port}/0", prefix=prefix, retry_every_s=3600)
    limiter = replica.limiter("question", 6000)
    try:
        await limiter.hit("first")  # waits for the timeout, then decides locally
        tried = connections
        await asyncio.gather(*(limiter.hit(f"client-{i}") for i in range(20)))
    finally:
        await replica.close()
        server.close()
    assert replica.outage.down
    assert 1 <= tried <= 2  # (the client retries once on a new connection)
    assert connections == tried  # nobody else waited on it


class _PrivateRedis:
    """A Redis server of this test's own, to stop and start again (a fresh one forgets
    its scripts, as a restarted or failed-over server does)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is needed (CI starts the shared Redis with it)"
        options = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self._process = subprocess.Popen(
            [binary, "--port", str(self.port), *options],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        try:
            for _ in range(200):  # generous: up when it answers
                try:
                    if client.ping():
                        return
                except redis.ConnectionError:
                    time.sleep(0.05)
            raise AssertionError("the private Redis did not start")
        finally:
            client.close()

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=30)
            self._process = None


@pytest.fixture
def private_redis() -> Iterator[_PrivateRedis]:
    server = _PrivateRedis(free_port())
    server.start()
    yield server
    server.stop()


async def test_redis_coming_back_is_used_again_and_its_script_reloaded(
    private_redis: _PrivateRedis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    replica = RedisBuckets(private_redis.url, prefix="p:", retry_every_s=0)
    limiter = replica.limiter("question", 6000)  # plenty: this test is about where
    try:
        await limiter.hit("k")
        private_redis.stop()
        for _ in range(5):
            await limiter.hit("k")  # answered here, not refused
        assert replica.outage.down
        private_redis.start()  # empty: no keys, no script
        for _ in range(200):  # generous: reconnecting may take a few tries
            await limiter.hit("k")
            if not replica.outage.down:
                break
            await asyncio.sleep(0.05)
        assert not replica.outage.down
    finally:
        await replica.close()
    check = redis.Redis(port=private_redis.port)
    assert check.hexists("p:question:k", "tokens")  # the script ran on the new server
    check.close()
    said = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert len(said) == 2
    assert "is unreachable" in said[0] and "is reachable again" in said[1]


async def test_two_apps_sharing_redis_give_a_client_one_budget(
    settings: Settings, tmp_path: Path, prefix: str
) -> None:
    apps = [
        create_app(
            settings.model_copy(
                update={
                    "data_dir": tmp_path / name,
                    "executor_id": f"{prefix}{name}",
                    "redis_url": URL,
                    "rate_limit_prefix": prefix,
                    "session_rate_per_min": 3,  # a burst of 3
                }
            ),
            Overrides(engine=FakeEngine()),
        )
        for name in ("a", "b")
    ]
    try:
        async with contextlib.AsyncExitStack() as stack:
            first, second = [await stack.enter_async_context(_client_of(app)) for app in apps]
            used = [
                (await first.post("/api/sessions", json={"account": {"name": f"C{i}"}})).status_code
                for i in range(3)
            ]
            refused = await second.post("/api/sessions", json={"account": {"name": "Late"}})
    finally:
        _forget_published(origins={f"{prefix}a", f"{prefix}b"})
    assert used == [202, 202, 202]
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) >= 1


def _forget_published(origins: set[str]) -> None:
    """Remove what the apps' event bus published, only theirs (the stream is shared), and
    the stream if that emptied it; in one script, as another writer may be near."""
    server = redis.Redis.from_url(URL)
    try:
        server.eval(_FORGET, 1, STREAM_KEY, *sorted(origins))
    finally:
        server.close()


_FORGET = """
for _, entry in ipairs(redis.call('XRANGE', KEYS[1], '-', '+')) do
  local fields = entry[2]
  for i = 1, #fields, 2 do
    if fields[i] == 'o' then
      for _, origin in ipairs(ARGV) do
        if fields[i + 1] == origin then redis.call('XDEL', KEYS[1], entry[1]) end
      end
    end
  end
end
if redis.call('XLEN', KEYS[1]) == 0 then redis.call('DEL', KEYS[1]) end
"""


@contextlib.asynccontextmanager
async def _client_of(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
            yield http
