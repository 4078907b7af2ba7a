"""Cross-process fan-out of logged events over one Redis Stream (scale-out mode).

Every process appends what it logged to ``dossier:events`` (one stream entry per append
batch: origin executor, session, envelopes) and reads the stream from where it left off
(``XREAD BLOCK``; on reconnect it resumes by stream id, so nothing published while it was
away is skipped if still within ``MAXLEN``). Entries from itself are ignored (already
delivered locally). The durable truth stays in PostgreSQL: a process that receives
events out of order, or misses some, fills the gap from the log (``FeedHub``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from typing import cast

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from dossier import metrics
from dossier.core.events import Event
from dossier.core.feed import FeedHub
from dossier.outage import Outage

log = logging.getLogger(__name__)

STREAM_KEY = "dossier:events"
MAXLEN = 100_000
_BLOCK_MS = 2_000  # well under the client's socket timeout
_PUBLISH_QUEUE = 10_000


class RedisBus:
    def __init__(
        self, url: str, *, hub: FeedHub, executor_id: str, stream_key: str = STREAM_KEY
    ) -> None:
        self._redis: aioredis.Redis = aioredis.Redis.from_url(url, protocol=2)
        self._reader: aioredis.Redis = aioredis.Redis.from_url(
            url, protocol=2, socket_timeout=_BLOCK_MS / 1000 + 10
        )
        self._hub = hub
        self._origin = executor_id
        self._key = stream_key
        self._outbox: asyncio.Queue[list[Event]] = asyncio.Queue(maxsize=_PUBLISH_QUEUE)
        self.dropped = 0
        self.outage = Outage("Redis (event bus)", log)

    def publish_nowait(self, events: Sequence[Event]) -> None:
        """Queue events for the stream (called on the loop, right after they are logged)."""
        try:
            self._outbox.put_nowait(list(events))
        except asyncio.QueueFull:
            # Redis is down or slow: other replicas catch up from the log (gap fill / tick).
            self.dropped += 1
            metrics.BUS_DROPPED.inc()

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self._publish_loop())
            tg.create_task(self._read_loop())

    async def _publish_loop(self) -> None:
        while True:
            batches = [await self._outbox.get()]
            while not self._outbox.empty() and len(batches) < 256:
                batches.append(self._outbox.get_nowait())
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for batch in batches:
                        by_session: dict[str, list[str]] = {}
                        for event in batch:
                            by_session.setdefault(event.session, []).append(event.envelope)
                        for session_id, envelopes in by_session.items():
                            pipe.xadd(
                                self._key,
                                {"o": self._origin, "s": session_id, "e": json.dumps(envelopes)},
                                maxlen=MAXLEN,
                                approximate=True,
                            )
                    await pipe.execute()
                self.outage.ok()
            except RedisError as exc:
                # (other replicas fill the gap from the log; this batch is not retried)
                metrics.BUS_ERRORS.inc(op="publish")
                metrics.BUS_DROPPED.inc(len(batches))
                self.outage.failed(exc)
                await asyncio.sleep(1)

    async def _read_loop(self) -> None:
        last_id = "$"
        while True:
            try:
                answer = await self._reader.xread({self._key: last_id}, block=_BLOCK_MS, count=512)
            except RedisError as exc:
                metrics.BUS_ERRORS.inc(op="read")
                self.outage.failed(exc)
                await asyncio.sleep(1)
                continue
            self.outage.ok()
            # RESP2 shape: [[stream, [(entry id, {field: value}), ...]], ...]
            streams = cast(list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]], answer or [])
            for _key, entries in streams:
                for entry_id, fields in entries:
                    last_id = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
                    self._deliver(fields)

    def _deliver(self, fields: dict[bytes, bytes]) -> None:
        origin = fields.get(b"o", b"").decode()
        if origin == self._origin:
            return
        session_id = fields.get(b"s", b"").decode()
        if session_id not in self._hub.feeds and not self._hub.observers:
            return  # nobody here is watching that session
        try:
            envelopes = json.loads(fields[b"e"])
            events = [Event.from_envelope(env) for env in envelopes]
        except (KeyError, ValueError):
            log.warning("ignoring a malformed event stream entry")
            return
        self._hub.deliver(events)

    async def ping(self) -> None:
        """Raises if Redis cannot be reached (readiness)."""
        await self._redis.ping()

    async def close(self) -> None:
        for client in (self._redis, self._reader):
            with contextlib.suppress(RedisError):
                await client.aclose()
