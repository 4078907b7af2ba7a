"""DBOS Transact set-up and the WorkflowEngine the session service uses.

Lessons baked in: ``application_version`` is pinned (a new build must recover the old
build's workflows); every process has a unique, stable ``executor_id`` (recovery is per
executor, and a dead worker's workflows are only taken over when recovery is called for
its id: see :meth:`DbosEngine.take_over`); DBOS is launched from inside the running event
loop, so recovered async workflows run on *our* loop; SQLite runs in WAL mode with
``synchronous=NORMAL`` (safe against a process kill, and ~1.5 ms per durable step instead
of ~3-4 ms); DBOS's INFO logs are quieted.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import dbos._dbos as dbos_module
import sqlalchemy as sa
from dbos import DBOS, DBOSConfig, SetWorkflowID

from dossier.core.events import EventType, NewEvent
from dossier.core.records import WORKFLOW_KINDS, SessionRecord, workflow_id
from dossier.core.types import Account
from dossier.settings import Settings
from dossier.workflows import runtime
from dossier.workflows.cached import (
    cached_analysis_events,
    cached_source_events,
    fresh_analysis,
    fresh_hits,
)
from dossier.workflows.plan import NO_SOURCE, coverage_of, wanted_types
from dossier.workflows.research import research_session

log = logging.getLogger(__name__)


def _sqlite_engine(url: str) -> sa.Engine:
    engine = sa.create_engine(url, pool_size=8, max_overflow=8)

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA journal_mode=WAL")
        dbapi_conn.execute("PRAGMA synchronous=NORMAL")
        dbapi_conn.execute("PRAGMA busy_timeout=30000")
        dbapi_conn.execute("PRAGMA foreign_keys=ON")

    return engine


def dbos_config(settings: Settings) -> DBOSConfig:
    config: DBOSConfig = {
        "name": "dossier",
        "application_version": settings.app_version,
        "executor_id": settings.executor_id,
        "log_level": "WARNING",
    }
    if settings.database_url:
        config["system_database_url"] = settings.database_url
    else:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{settings.dbos_db_path}"
        config["system_database_url"] = url
        config["system_database_engine"] = _sqlite_engine(url)
    return config


RESEARCH_QUEUE = "dossier-research"


async def launch(settings: Settings) -> None:
    """Create and launch the DBOS singleton from inside the running loop (so recovered
    async workflows run on it). An ``api`` process dequeues nothing: workers do."""
    logging.getLogger("dbos").setLevel(logging.WARNING)
    DBOS(config=dbos_config(settings))
    if settings.role == "api":
        DBOS.listen_queues([])
    DBOS.launch()
    await DBOS.register_queue_async(
        RESEARCH_QUEUE,
        worker_concurrency=settings.worker_concurrency,
        polling_interval_sec=0.2,
    )


def shutdown() -> None:
    DBOS.destroy(workflow_completion_timeout_sec=0)


async def stop_running_workflows(timeout_s: float = 5.0) -> None:
    """Cancel this process's in-flight workflow tasks before DBOS goes away.

    They resume from their last completed step on the next start (or on another
    executor); left alone they would be swept later by the loop's shutdown, each with a
    warning and after the services they use are closed.
    """
    instance = getattr(dbos_module, "_dbos_global_instance", None)
    tasks = [t for t in getattr(instance, "_workflow_tasks", ()) if not t.done()]
    if not tasks:
        return
    logging.getLogger("dbos").setLevel(logging.ERROR)  # the cancellations are expected
    for task in tasks:
        task.cancel()
    await asyncio.wait(tasks, timeout=timeout_s)


async def takeover_loop(settings: Settings) -> None:
    """Beat for this executor; take over the workflows of executors that went silent.

    DBOS recovers a process's own pending workflows when it restarts with the same
    executor id; a process that never comes back needs someone to call recovery for its
    id. Every workflow-running process does this; a conditional claim makes sure only
    one of them takes each dead executor.
    """
    from dossier.eventlog.postgres import PostgresHeartbeats

    assert settings.database_url
    heartbeats = PostgresHeartbeats(settings.database_url)
    await heartbeats.start()
    me = settings.executor_id
    period = max(0.5, settings.takeover_after_s / 3)
    try:
        while True:
            try:
                await heartbeats.beat(me, settings.role)
                if settings.role != "api":
                    for dead in await heartbeats.stale(settings.takeover_after_s, exclude=me):
                        pending = await DBOS.list_workflows_async(
                            status="PENDING", executor_id=dead, load_input=False, load_output=False
                        )
                        if pending and await heartbeats.claim(dead, me, settings.takeover_after_s):
                            log.warning(
                                "executor %s is silent; taking over %d workflows",
                                dead,
                                len(pending),
                            )
                            # Internal DBOS API: the documented way to recover another
                            # executor's workflows outside DBOS Conductor.
                            await asyncio.to_thread(DBOS._recover_pending_workflows, [dead])
            except Exception:
                log.warning("takeover check failed; retrying", exc_info=True)
            await asyncio.sleep(period)
    finally:
        await heartbeats.close()


class DbosEngine:
    """WorkflowEngine on DBOS."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    async def start(self, record: SessionRecord, *, refresh: bool) -> None:
        args = (
            record.session_id,
            record.account.model_dump_json(),
            record.vendor.model_dump_json(),
            refresh,
        )
        with SetWorkflowID(record.session_id):
            if self._settings.role == "api":
                # Workers pick it up from the durable queue (within its polling interval).
                await DBOS.enqueue_workflow_async(RESEARCH_QUEUE, research_session, *args)
            else:
                await DBOS.start_workflow_async(research_session, *args)

    async def cancel(self, session_id: str) -> None:
        runtime.current().steering.apply(session_id, "cancel", None)
        for wf_id in (session_id, *(workflow_id(session_id, k) for k in WORKFLOW_KINDS)):
            try:
                await DBOS.cancel_workflow_async(wf_id)
            except Exception:  # not started yet / already done: nothing to cancel
                log.debug("cancel %s: nothing to cancel", wf_id, exc_info=True)

    async def steer(self, session_id: str, action: str, target: str | None) -> None:
        runtime.current().steering.apply(session_id, action, target)
        for kind in WORKFLOW_KINDS:
            try:
                await DBOS.send_async(
                    workflow_id(session_id, kind),
                    {"action": action, "target": target},
                    topic="steer",
                )
            except Exception:
                log.debug("steer %s: workflow gone", session_id, exc_info=True)

    async def cached_events(self, record: SessionRecord) -> list[NewEvent] | None:
        events: list[NewEvent] = []
        summaries: dict[str, dict[str, Any]] = {}
        for kind in WORKFLOW_KINDS:
            rendered = await self._cached_workflow(record, kind)
            if rendered is None:
                return None
            workflow_events, summary = rendered
            events += workflow_events
            summaries[kind] = summary
        coverage = summaries["customer_intelligence"]["coverage"]
        failed = [n for s in summaries.values() for n in s["failed"]]
        events.append(
            NewEvent(
                type=EventType.SESSION_COMPLETED,
                data={
                    "status": "partial" if failed or _missing(coverage) else "completed",
                    "cached": True,
                    "coverage": coverage,
                    "missing": [
                        t
                        for t, e in coverage.items()
                        if isinstance(e, dict) and e.get("status") == "missing"
                    ],
                    "found": sum(s["found"] for s in summaries.values()),
                    "cache_hits": sum(s["cache_hits"] for s in summaries.values()),
                    "requests": 0,
                    "calls_saved": sum(s["saved_requests"] for s in summaries.values()),
                    "time_saved_ms": sum(s["saved_ms"] for s in summaries.values()),
                    "duration_ms": 0,
                    "failed_workflows": [],
                },
                dedup="session:completed",
            )
        )
        return events

    async def _cached_workflow(
        self, record: SessionRecord, kind: str
    ) -> tuple[list[NewEvent], dict[str, Any]] | None:
        """A workflow's events from cache: its last analysis, and every source answer that
        analysis stood on, all still fresh (else None: run it for real)."""
        rt = runtime.current()
        account, vendor = record.account, record.vendor
        subject = account
        if kind == "vendor_context":
            subject = Account(name=vendor.name or "Our company", domain=vendor.domain)
        analysis = await fresh_analysis(rt.cache, kind, subject, vendor)
        if analysis is None:
            return None
        sources = [s for s in analysis.get("sources") or [] if isinstance(s, dict)]
        answered = [s for s in sources if s.get("status") in ("completed", "cached")]
        collectors = [
            rt.collectors.get(str(s["name"])) for s in answered if s["name"] in rt.collectors
        ]
        hits = await fresh_hits(rt.cache, collectors, subject)
        if hits is None or len(collectors) != len(answered):
            return None
        events = [
            NewEvent(
                type=EventType.WORKFLOW_STARTED,
                data={
                    "workflow_id": workflow_id(record.session_id, kind),
                    "account": subject.name,
                    "cached": True,
                },
                workflow=kind,
                dedup=f"{kind}:started",
            )
        ]
        outcomes: list[dict[str, Any]] = []
        for source in sources:
            name = str(source["name"])
            if name in hits:
                source_events, outcome = cached_source_events(
                    kind,
                    name,
                    hits[name],
                    announce=True,
                    data_types=[str(t) for t in source.get("data_types") or []],
                )
                events += source_events
            else:  # it failed last time; the cached result says so rather than hiding it
                outcome = {
                    "name": name,
                    "status": source.get("status"),
                    "found": 0,
                    "found_by_type": {},
                    "findings": [],
                    "saved_requests": 0,
                    "saved_ms": 0,
                }
            outcome["data_types"] = list(source.get("data_types") or [])
            outcomes.append(outcome)
        events += cached_analysis_events(kind, analysis)
        raw = analysis.get("uncovered") or {}
        uncovered = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
        coverage = coverage_of(wanted_types(kind), outcomes, uncovered)
        summary: dict[str, Any] = {
            "found": len({f["id"] for o in outcomes for f in o["findings"]}),
            "coverage": coverage,
            "cached": True,
            "cache_hits": len(hits),
            "requests": 0,
            "saved_requests": sum(o["saved_requests"] for o in outcomes),
            "saved_ms": sum(o["saved_ms"] for o in outcomes),
            "failed": [o["name"] for o in outcomes if o["status"] == "failed"],
            "skipped": [],
        }
        events.append(
            NewEvent(
                type=EventType.WORKFLOW_COMPLETED, data=summary, workflow=kind, dedup=f"{kind}:end"
            )
        )
        return events, summary


def _missing(coverage: dict[str, Any]) -> bool:
    return any(
        isinstance(e, dict) and e.get("status") == "missing" and e.get("reason") != NO_SOURCE
        for e in coverage.values()
    )
