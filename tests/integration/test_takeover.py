"""Takeover with a real DBOS on the local PostgreSQL: a join that finds a session's work on
an executor that is gone hands it on at once (the work resumes, the stream says so), and
a session whose workflows ended without closing it is reported as going nowhere."""

from __future__ import annotations

import asyncio
from pathlib import Path

import psycopg
import pytest
from dbos import DBOS, DBOSClient, DBOSConfig, SetWorkflowID, WorkflowHandleAsync

from dossier import metrics
from dossier.core.events import Event, EventType
from dossier.core.records import SessionRecord
from dossier.core.states import SessionStatus
from dossier.core.types import Account, Vendor
from dossier.eventlog.postgres import PostgresHeartbeats
from dossier.settings import Settings
from dossier.workflows.dbos_internals import run_recovered_work, running_workflow_tasks
from dossier.workflows.engine import DbosEngine
from dossier.workflows.takeover import Takeover
from tests.fakes import FakeEventLog

ran: list[str] = []
gate: asyncio.Event | None = None


@DBOS.step(name="pin.takeover.step")
async def first_step(label: str) -> str:
    ran.append(label)
    return label


@DBOS.workflow(name="pin.takeover.session")
async def session_workflow(label: str) -> str:
    await first_step(label)
    assert gate is not None
    await gate.wait()  # not durable: the first executor dies here
    return f"done {label}"


def config(pg_url: str, executor: str) -> DBOSConfig:
    return {
        "name": "dossier-takeover",
        "application_version": "takeover-1",
        "executor_id": executor,
        "system_database_url": pg_url,
        "log_level": "WARNING",
    }


def record(session_id: str) -> SessionRecord:
    return SessionRecord(
        session_id=session_id,
        account=Account(name="Acme"),
        vendor=Vendor(name="Us"),
        status=SessionStatus.RUNNING,
        created_at="2026-01-01T00:00:00.000Z",
        owners={"local"},
    )


async def resumed_events(log: FakeEventLog, session_id: str) -> list[Event]:
    for _ in range(200):
        found = [e for e in log.events[session_id] if e.type == EventType.SESSION_RESUMED]
        if found:
            return found
        await asyncio.sleep(0.05)
    return []


@pytest.mark.slow
async def test_joining_a_session_whose_executor_is_gone_hands_its_work_on(
    tmp_path: Path, pg_url: str
) -> None:
    global gate
    ran.clear()
    gate = asyncio.Event()
    session = "s_takeover"
    DBOS(config=config(pg_url, "dead"))
    run_recovered_work(True)
    DBOS.launch()
    try:
        with SetWorkflowID(session):
            await DBOS.start_workflow_async(session_workflow, "a")
        for _ in range(500):
            if ran:
                break
            await asyncio.sleep(0.01)
        tasks = running_workflow_tasks()  # the worker dies here
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks, timeout=5)
    finally:
        DBOS.destroy(workflow_completion_timeout_sec=0)

    heartbeats = PostgresHeartbeats(pg_url)
    await heartbeats.start()
    await heartbeats.beat("dead", "worker")
    with psycopg.connect(pg_url, autocommit=True) as conn:  # its last beat, an hour ago
        conn.execute("UPDATE dossier_executors SET last_seen = now() - interval '1 hour'")
    log = FakeEventLog()
    await log.create_session(record(session))
    settings = Settings(
        _env_file=None, data_dir=tmp_path, database_url=pg_url, executor_id="alive", role="api"
    )
    takeover = Takeover(settings, heartbeats, log)
    gate = asyncio.Event()
    gate.set()
    DBOS(config=config(pg_url, "alive"))
    run_recovered_work(True)  # (in this test the joining process also runs the work)
    DBOS.launch()
    try:
        engine = DbosEngine(settings, takeover)
        assert await engine.ensure_running(record(session))  # taken over, not joined as is
        handle: WorkflowHandleAsync[str] = await DBOS.retrieve_workflow_async(session)
        assert await asyncio.wait_for(handle.get_result(), 15) == "done a"
        assert ran == ["a"]  # the completed step was not run again
        [resumed] = await resumed_events(log, session)
        assert resumed.data["from_executor"] == "dead" and resumed.data["to_executor"] == "alive"
        assert resumed.data["reason"] == "executor_lost"
        # Its workflow is over but the session was never closed: nothing will finish it.
        assert not await engine.ensure_running(record(session))
    finally:
        await takeover.close()
        DBOS.destroy(workflow_completion_timeout_sec=0)
        await heartbeats.close()


@pytest.mark.slow
async def test_metrics_show_each_executors_heartbeat_age_and_each_queues_depth(
    tmp_path: Path, pg_url: str
) -> None:
    heartbeats = PostgresHeartbeats(pg_url)
    await heartbeats.start()
    settings = Settings(
        _env_file=None, data_dir=tmp_path, database_url=pg_url, executor_id="me", role="api"
    )
    takeover = Takeover(settings, heartbeats, FakeEventLog())
    try:
        await takeover.measure()  # no DBOS tables yet: no depth, no error
        assert metrics.QUEUE_DEPTH.value(queue="waiting") == 0
        await heartbeats.beat("me", "api")
        await heartbeats.beat("gone", "worker")
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(
                "UPDATE dossier_executors SET last_seen = now() - interval '90 seconds' "
                "WHERE executor_id = 'gone'"
            )
        DBOS(config=config(pg_url, "me"))  # DBOS makes its tables, then goes
        DBOS.launch()
        DBOS.destroy(workflow_completion_timeout_sec=0)
        client = DBOSClient(system_database_url=pg_url)  # enqueues; nobody runs them
        try:
            for _ in range(2):
                await client.enqueue_async({"queue_name": "waiting", "workflow_name": "x"})
        finally:
            client.destroy()
        await takeover.measure()
        age = metrics.HEARTBEAT_AGE.value
        assert age(executor="gone") >= 90 > age(executor="me")
        assert "\n".join(metrics.QUEUE_DEPTH.render()).endswith(
            'dossier_queue_depth{queue="waiting"} 2'
        )
    finally:
        await takeover.close()
        await heartbeats.close()
