"""Synthetic sessions for ``make bench`` (``DOSSIER_BENCH=1`` only).

A synthetic session's real event log receives exactly N events (seq 1..N: N-1 ``finding``
events, then ``session.completed``) at R events/s (0 = as fast as possible), starting once
S subscribers are attached to its stream (or after 10 s). It measures the product's own
log + fan-out + SSE path against the raw baseline, with the baseline's shape. Nothing here
runs in a server started without the flag.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass

from pydantic import JsonValue

from dossier.core.events import Event, EventType, NewEvent
from dossier.core.feed import FeedHub
from dossier.core.ports import EventLog
from dossier.core.records import SessionRecord, WorkflowKind
from dossier.core.sessions import new_session_id
from dossier.core.states import SessionStatus
from dossier.core.tasks import cancel_all
from dossier.core.types import Account, Vendor, iso_ms, utcnow

_STEPS = ("collect.news", "collect.jobs", "collect.sec", "collect.tech", "analyze")
_PAYLOAD: dict[str, JsonValue] = {
    "kind": "news_article",
    "title": "Acme Corp raises Series C",
    "source": "hn",
    "url": "https://example.com/a",
    "confidence": 0.9,
}
_CHUNK = 1000
_WAIT_FOR_SUBSCRIBERS_S = 10.0
_IN_FLIGHT = 4


@dataclass(frozen=True)
class SyntheticSpec:
    n: int
    rate: float = 0.0
    subscribers: int = 1


class SyntheticSessions:
    """Starts synthetic sessions and owns their producers until :meth:`close`."""

    def __init__(self, log: EventLog, hub: FeedHub) -> None:
        self._log = log
        self._hub = hub
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, spec: SyntheticSpec, principal: str) -> str:
        record = SessionRecord(
            session_id=new_session_id(),
            account=Account(name="Bench Corp"),
            vendor=Vendor(),
            status=SessionStatus.RUNNING,
            created_at=iso_ms(utcnow()),
            owners={principal},
        )
        await self._log.create_session(record)
        task = asyncio.create_task(self._produce(record.session_id, spec))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return record.session_id

    async def close(self) -> None:
        await cancel_all(list(self._tasks))

    async def _produce(self, session_id: str, spec: SyntheticSpec) -> None:
        deadline = time.monotonic() + _WAIT_FOR_SUBSCRIBERS_S
        while spec.subscribers and time.monotonic() < deadline:
            feed = self._hub.feeds.get(session_id)
            if feed is not None and feed.readers >= spec.subscribers:
                break
            await asyncio.sleep(0.005)
        appended = 0
        # A few appends in flight: the log's writer commits one while the next is built
        # (they are queued in order, so seqs follow the order of the calls).
        inflight: deque[asyncio.Task[list[Event]]] = deque()
        t0 = time.perf_counter()
        while appended < spec.n:
            if spec.rate <= 0:
                count = min(_CHUNK, spec.n - appended)
            else:
                due = min(spec.n, int((time.perf_counter() - t0) * spec.rate))
                if due <= appended:
                    wait = t0 + (appended + 1) / spec.rate - time.perf_counter()
                    await asyncio.sleep(max(0.0, wait))
                    continue
                count = due - appended
            batch = [_event(appended + i + 1, spec.n) for i in range(count)]
            inflight.append(asyncio.ensure_future(self._log.append(session_id, batch)))
            await asyncio.sleep(0)  # let the append reach the writer before building the next
            appended += count
            if len(inflight) >= _IN_FLIGHT or spec.rate > 0:
                await inflight.popleft()
        for task in inflight:
            await task
        await self._log.set_status(session_id, SessionStatus.COMPLETED)


def _event(seq: int, n: int) -> NewEvent:
    if seq == n:
        return NewEvent(type=EventType.SESSION_COMPLETED, data={"status": "completed"})
    return NewEvent(
        type=EventType.FINDING,
        data=_PAYLOAD,
        workflow=WorkflowKind.CUSTOMER_INTELLIGENCE,
        step=_STEPS[seq % len(_STEPS)],
    )
