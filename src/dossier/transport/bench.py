"""``POST /api/bench/sessions`` (only with ``DOSSIER_BENCH=1``): a synthetic session.

Its real event log receives exactly N events (seq 1..N: N-1 ``finding`` events, then
``session.completed``) at R events/s (0 = as fast as possible), starting once S
subscribers are attached to its stream (or after 10 s). It measures the product's own
log + fan-out + SSE path against the raw baseline, with the baseline's shape.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from dossier.core.events import Event, EventType, NewEvent
from dossier.core.records import SessionRecord, WorkflowKind
from dossier.core.sessions import new_session_id
from dossier.core.states import SessionStatus
from dossier.core.types import Account, Vendor, iso_ms, utcnow
from dossier.transport.deps import Services, principal_of_conn, services_of

router = APIRouter()

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


class BenchSession(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n: int = Field(ge=1, le=5_000_000)
    rate: float = Field(default=0.0, ge=0.0)
    subscribers: int = Field(default=1, ge=0, le=100_000)


@router.post("/api/bench/sessions", status_code=202, tags=["bench"])
async def create_bench_session(body: BenchSession, request: Request) -> JSONResponse:
    services = services_of(request)
    record = SessionRecord(
        session_id=new_session_id(),
        account=Account(name="Bench Corp"),
        vendor=Vendor(),
        status=SessionStatus.RUNNING,
        created_at=iso_ms(utcnow()),
        owners={principal_of_conn(request)},
    )
    await services.log.create_session(record)
    tasks: set[asyncio.Task[None]] = services.extras.setdefault("bench_tasks", set())
    task = asyncio.create_task(_produce(services, record.session_id, body))
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    return JSONResponse({"session_id": record.session_id, "status": "running"}, status_code=202)


def _event(seq: int, n: int) -> NewEvent:
    if seq == n:
        return NewEvent(type=EventType.SESSION_COMPLETED, data={"status": "completed"})
    return NewEvent(
        type=EventType.FINDING,
        data=_PAYLOAD,
        workflow=WorkflowKind.CUSTOMER_INTELLIGENCE,
        step=_STEPS[seq % len(_STEPS)],
    )


async def _produce(services: Services, session_id: str, spec: BenchSession) -> None:
    deadline = time.monotonic() + _WAIT_FOR_SUBSCRIBERS_S
    while spec.subscribers and time.monotonic() < deadline:
        feed = services.hub.feeds.get(session_id)
        if feed is not None and feed.readers >= spec.subscribers:
            break
        await asyncio.sleep(0.005)
    appended = 0
    # Up to 4 appends in flight: the log's writer commits one while the next is built
    # (they are queued in order, so seqs follow the order of the calls).
    inflight: deque[asyncio.Task[list[Event]]] = deque()
    t0 = time.perf_counter()
    while appended < spec.n:
        if spec.rate <= 0:
            count = min(_CHUNK, spec.n - appended)
        else:
            due = min(spec.n, int((time.perf_counter() - t0) * spec.rate))
            if due <= appended:
                await asyncio.sleep(max(0.0, t0 + (appended + 1) / spec.rate - time.perf_counter()))
                continue
            count = due - appended
        batch = [_event(appended + i + 1, spec.n) for i in range(count)]
        inflight.append(asyncio.ensure_future(services.log.append(session_id, batch)))
        await asyncio.sleep(0)  # let the append reach the writer before building the next
        appended += count
        if len(inflight) >= 4 or spec.rate > 0:
            await inflight.popleft()
    for task in inflight:
        await task
    await services.log.set_status(session_id, SessionStatus.COMPLETED)
