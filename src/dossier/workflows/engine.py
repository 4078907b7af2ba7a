"""DBOS Transact set-up and the WorkflowEngine the session service uses.

Lessons baked in: ``application_version`` is pinned (a new build must recover the old
build's workflows); every process has a unique, stable ``executor_id`` (recovery is per
executor, and a dead worker's workflows are only taken over when recovery is called for
its id: see ``takeover.py``); DBOS is launched from inside the running event
loop, so recovered async workflows run on *our* loop; SQLite runs in WAL mode with
``synchronous=NORMAL`` (safe against a process kill, and ~1.5 ms per durable step instead
of ~3-4 ms); DBOS's INFO logs are quieted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from dbos import DBOS, DBOSConfig, SetWorkflowID

from dossier.collectors.parsing import parse_datetime
from dossier.collectors.replay import demo_accounts
from dossier.core import keys
from dossier.core.coverage import Outcome, build_coverage, gap_of
from dossier.core.events import EventType, NewEvent
from dossier.core.records import WORKFLOW_KINDS, SessionRecord, WorkflowKind, workflow_id
from dossier.core.session_end import SessionEnd
from dossier.core.states import SessionStatus
from dossier.core.types import Account, Finding, iso_ms
from dossier.core.verdict import SessionVerdict
from dossier.eventlog.wal import WAL_LIMIT_BYTES
from dossier.settings import Settings
from dossier.workflows import runtime
from dossier.workflows.cached import (
    cached_analysis_events,
    cached_source_events,
    fresh_analysis,
    fresh_hits,
)
from dossier.workflows.dbos_internals import (
    CANCEL_NOISE,
    quiet_cancellations,
    run_recovered_work,
    running_workflow_tasks,
)
from dossier.workflows.outcome import DERIVED_LABEL, derived_outcomes, workflow_summary
from dossier.workflows.plan import wanted_types
from dossier.workflows.research import research_session
from dossier.workflows.takeover import Takeover

log = logging.getLogger(__name__)


def _sqlite_engine(url: str) -> sa.Engine:
    engine = sa.create_engine(url, pool_size=8, max_overflow=8)

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA journal_mode=WAL")
        dbapi_conn.execute("PRAGMA synchronous=NORMAL")
        dbapi_conn.execute("PRAGMA busy_timeout=30000")
        dbapi_conn.execute("PRAGMA foreign_keys=ON")
        # A restarted WAL is cut back to this; app.py's WalKeeper truncates it when over.
        dbapi_conn.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")

    return engine


# DBOS's system-database pool on PostgreSQL. Every durable step is two transactions on it
# (read the checkpoint; lock the workflow row and insert the result), 8 round trips; DBOS's
# defaults add a pre-ping round trip to each checkout (10). Measured with
# bench/step_overhead.py on loopback (2 shared cores; medians of 4-5 interleaved runs, two
# sessions): DBOS's defaults 4.1 / 5.3 ms a step, these settings 3.7 / 4.9, with
# synchronous_commit off as well 2.9 / 4.3 (SQLite: 2.1 / 2.8).
_PG_POOL_SIZE = 20  # DBOS's default: a checkout lasts one transaction (~1 ms)
# Without pre-ping a connection the server closed (restart, failover, idle kill) fails on
# its next use; SQLAlchemy then invalidates the whole pool and DBOS retries the call on a
# fresh connection (db_retry treats an invalidated connection as retriable). Recycling
# bounds how long any connection lives regardless.
_PG_POOL_RECYCLE_S = 300


def _postgres_engine_kwargs(settings: Settings) -> dict[str, Any]:
    # (DBOS adds its connect_timeout: the URL's, else 10 s)
    connect_args: dict[str, Any] = {"application_name": f"dossier-dbos {settings.executor_id}"[:63]}
    if not settings.step_synchronous_commit and settings.role != "api":
        # The api role's writes are hand-offs a client was already answered about (an
        # enqueued research): those always wait for the disk.
        # (these options replace the URL's own, so those are kept in front)
        url_options = sa.make_url(settings.database_url or "").query.get("options")
        prefix = f"{url_options} " if isinstance(url_options, str) else ""
        connect_args["options"] = f"{prefix}-c synchronous_commit=off"
    return {
        "pool_size": _PG_POOL_SIZE,
        "max_overflow": 0,
        "pool_timeout": 30,
        "pool_pre_ping": False,
        "pool_recycle": _PG_POOL_RECYCLE_S,
        # The most recently used connection first: a few hot connections serve the steps
        # (psycopg prepares a statement on its 5th use on a connection; FIFO spreads the
        # uses over all 20) and the rest stay idle.
        "pool_use_lifo": True,
        "connect_args": connect_args,
    }


def dbos_config(settings: Settings) -> DBOSConfig:
    config: DBOSConfig = {
        "name": "dossier",
        "application_version": settings.app_version,
        "executor_id": settings.executor_id,
        "log_level": "WARNING",
    }
    if settings.database_url:
        config["system_database_url"] = settings.database_url
        config["db_engine_kwargs"] = _postgres_engine_kwargs(settings)
    else:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{settings.dbos_db_path}"
        config["system_database_url"] = url
        config["system_database_engine"] = _sqlite_engine(url)
    return config


RESEARCH_QUEUE = "dossier-research"


async def launch(settings: Settings) -> None:
    """Create and launch the DBOS singleton from inside the running loop (so recovered
    async workflows run on it). An ``api`` process dequeues nothing, not even recovered
    workflows (DBOS's internal queue): workers do."""
    logging.getLogger("dbos").setLevel(logging.WARNING)
    quiet_cancellations()
    DBOS(config=dbos_config(settings))
    if settings.role == "api":
        DBOS.listen_queues([])
    # In scale-out, recovered work is picked up within a quarter second of a takeover.
    run_recovered_work(
        settings.role != "api", polling_interval_s=0.25 if settings.database_url else None
    )
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
    tasks = running_workflow_tasks()
    if not tasks:
        return
    logging.getLogger("dbos").setLevel(logging.ERROR)  # the cancellations are expected
    for task in tasks:
        task.cancel()
    await asyncio.wait(tasks, timeout=timeout_s)


# A workflow in one of these states will never move again.
_FINISHED = frozenset({"SUCCESS", "ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"})


class DbosEngine:
    """WorkflowEngine on DBOS (``takeover``: executor liveness, in scale-out)."""

    def __init__(self, settings: Settings, takeover: Takeover | None = None) -> None:
        self._settings = settings
        self._takeover = takeover

    async def ensure_running(self, record: SessionRecord) -> bool:
        """Whether the session's workflows will go on (running, queued, or just handed on
        from an executor that is gone); False when nothing will ever finish them."""
        ids = [record.session_id, *record.workflow_ids.values()]
        statuses = await DBOS.list_workflows_async(
            workflow_ids=ids, load_input=False, load_output=False
        )
        parent = next((w for w in statuses if w.workflow_id == record.session_id), None)
        if parent is None:
            # Opened but not handed to DBOS yet; after that long, its opener died first.
            created = parse_datetime(record.created_at)
            age = time.time() - created.timestamp() if created else 0.0
            return age < self._settings.takeover_after_s
        if parent.status in _FINISHED:
            return False  # (it ended without closing the session)
        if self._takeover is not None:
            await self._takeover.revive(ids)
        return True

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
        # (running steps stop when the session's end is logged: the steering board hears it)
        for wf_id in (session_id, *(workflow_id(session_id, k) for k in WORKFLOW_KINDS)):
            CANCEL_NOISE.cancelling(wf_id)  # DBOS would report each as an error
            try:
                await DBOS.cancel_workflow_async(wf_id)
            except Exception:  # not started yet / already done: nothing to cancel
                log.debug("cancel %s: nothing to cancel", wf_id, exc_info=True)
        log.info("session %s cancelled: its workflows stop at their next step", session_id)

    async def cached_events(self, record: SessionRecord) -> list[NewEvent] | None:
        """The whole session from cache, if both workflows' last analyses and every
        source answer they stood on are fresh (only complete researches are stored)."""
        events: list[NewEvent] = []
        summaries: dict[str, dict[str, Any]] = {}
        oldest: float | None = None
        for kind in WORKFLOW_KINDS:
            rendered = await self._cached_workflow(record, kind)
            if rendered is None:
                return None
            workflow_events, summary, stored_at = rendered
            events += workflow_events
            summaries[kind] = summary
            oldest = stored_at if oldest is None else min(oldest, stored_at)
        customer = summaries[WorkflowKind.CUSTOMER_INTELLIGENCE]
        if customer["verdict"] != SessionVerdict.COMPLETED:
            return None  # a research with gaps is never served as a cached session
        cached_at = iso_ms(datetime.fromtimestamp(oldest or time.time(), UTC))
        status = SessionStatus(customer["verdict"])
        events.append(
            SessionEnd.of_workflows(status, summaries, duration_ms=0, cached_at=cached_at).event()
        )
        return events

    async def _cached_workflow(
        self, record: SessionRecord, kind: str
    ) -> tuple[list[NewEvent], dict[str, Any], float] | None:
        """A workflow's events from cache: its last analysis, and every source answer that
        analysis stood on, all still fresh (else None: run it for real)."""
        rt = runtime.current()
        account, vendor = record.account, record.vendor
        subject = account
        if kind == WorkflowKind.VENDOR_CONTEXT:
            subject = Account(name=vendor.name or "Our company", domain=vendor.domain)
        hit = await fresh_analysis(rt.cache, kind, subject, vendor)
        if hit is None or not isinstance(hit.payload, dict):
            return None
        analysis: dict[str, Any] = dict(hit.payload)
        sources = [s for s in analysis.get("sources") or [] if isinstance(s, dict)]
        if any(s.get("name") not in rt.collectors for s in sources):
            return None
        collectors = [rt.collectors.get(str(s["name"])) for s in sources]
        hits = await fresh_hits(rt.cache, collectors, subject)
        if hits is None:
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
                dedup=keys.workflow_started(kind),
            )
        ]
        outcomes: list[Outcome] = []
        for source in sources:
            name = str(source["name"])
            data_types = [str(t) for t in source.get("data_types") or []]
            source_events, outcome = cached_source_events(
                kind,
                name,
                hits[name],
                announce=True,
                data_types=data_types,
                label=rt.collectors.get(name).label,
            )
            events += source_events
            outcome["data_types"] = data_types
            outcomes.append(outcome)
        events += cached_analysis_events(kind, analysis)
        raw = analysis.get("uncovered") or {}
        gaps = (
            {str(t): g for t, v in raw.items() if (g := gap_of(v))} if isinstance(raw, dict) else {}
        )
        derived = [Finding.model_validate(f) for f in analysis.get("derived") or []]
        everything = [*outcomes, *derived_outcomes(derived)]
        coverage = build_coverage(
            wanted_types(kind), everything, gaps, {**rt.collectors.labels, **DERIVED_LABEL}
        )
        summary = workflow_summary(
            kind,
            coverage,
            everything,
            {"answered": 1},
            account=subject.name,
            demo_accounts=demo_accounts(rt.settings),
        )
        summary["cached"] = True
        events.append(
            NewEvent(
                type=EventType.WORKFLOW_COMPLETED,
                data=summary,
                workflow=kind,
                dedup=keys.workflow_end(kind),
            )
        )
        stored_at = min([hit.stored_at, *(h.stored_at for h in hits.values())])
        return events, summary, stored_at
