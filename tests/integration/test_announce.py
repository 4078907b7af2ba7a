"""Durable before announced, with a real DBOS on SQLite: a step's end reaches the log only
after DBOS checkpointed the step, and a process that dies between the two leaves a step
that is not run again: the executor that resumes it announces the end, once.

(Before: the step logged ``step.completed`` and then returned, so a kill between the two
showed clients a completed step that the next executor ran again.)"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import pytest
from dbos import DBOS, DBOSConfig, SetWorkflowID, WorkflowHandleAsync

from dossier.core.events import Event, EventType, NewEvent
from dossier.core.records import SessionRecord
from dossier.core.states import SessionStatus
from dossier.core.types import Account, Vendor
from dossier.settings import Settings
from dossier.workflows import runtime
from dossier.workflows.announce import durable_step
from dossier.workflows.dbos_internals import recover_executor, running_workflow_tasks
from dossier.workflows.reporter import StepReporter
from tests.fakes import FakeEventLog

ran: list[str] = []


class GatedLog(FakeEventLog):
    """Holds any append carrying a step's end until ``gate`` opens (the process "dies"
    there), and says when one arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.arrived = asyncio.Event()

    async def append(self, session_id: str, events: Sequence[NewEvent]) -> list[Event]:
        if any(e.type == EventType.STEP_COMPLETED for e in events):
            self.arrived.set()
            await self.gate.wait()
        return await super().append(session_id, events)

    def completed(self, session_id: str) -> list[Event]:
        return [e for e in self.events[session_id] if e.type == EventType.STEP_COMPLETED]


LOG = GatedLog()


@durable_step("pin.announce.work")
async def work(session_id: str) -> str:
    ran.append(session_id)
    reporter = StepReporter(LOG, session_id, "customer_intelligence", "collect.pin")
    await reporter.start("working")
    await reporter.complete(found=0)
    assert not LOG.completed(session_id)  # held: the step has not returned yet
    return "worked"


@DBOS.workflow(name="pin.announce.flow")
async def flow(session_id: str) -> str:
    return await work(session_id)


def config(tmp_path: Path, executor: str) -> DBOSConfig:
    return {
        "name": "dossier-announce",
        "application_version": "announce-1",
        "executor_id": executor,
        "system_database_url": f"sqlite:///{tmp_path / 'dbos.sqlite'}",
        "log_level": "WARNING",
    }


def bind(tmp_path: Path) -> None:
    # Only the log is used by an announcement; the rest of the runtime is never touched.
    unused = cast(Any, None)
    settings = Settings(_env_file=None, data_dir=tmp_path)
    runtime.bind(runtime.Runtime(settings, LOG, unused, unused, unused, unused))


@pytest.mark.slow
async def test_a_step_killed_before_its_end_was_announced_is_not_run_again(
    tmp_path: Path,
) -> None:
    global LOG
    LOG = GatedLog()
    ran.clear()
    bind(tmp_path)
    session = "s_announce"
    await LOG.create_session(
        SessionRecord(
            session_id=session,
            account=Account(name="Acme"),
            vendor=Vendor(name="Us"),
            status=SessionStatus.RUNNING,
            created_at="2026-01-01T00:00:00.000Z",
            owners={"local"},
        )
    )
    DBOS(config=config(tmp_path, "dead"))
    DBOS.launch()
    try:
        with SetWorkflowID("wf-announce"):
            await DBOS.start_workflow_async(flow, session)
        await asyncio.wait_for(LOG.arrived.wait(), 10)
        # between the checkpoint and the announcement: the step is durable, not announced
        steps = await DBOS.list_workflow_steps_async("wf-announce")
        assert [s["function_name"] for s in steps] == ["pin.announce.work"]
        assert not LOG.completed(session) and ran == [session]
        tasks = running_workflow_tasks()  # the process dies here
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks, timeout=5)
    finally:
        DBOS.destroy(workflow_completion_timeout_sec=0)

    LOG.gate.set()
    DBOS(config=config(tmp_path, "alive"))
    DBOS.launch()
    try:
        await DBOS.list_workflows_async(executor_id="dead")
        assert await asyncio.to_thread(recover_executor, "dead") == 1
        handle: WorkflowHandleAsync[str] = await DBOS.retrieve_workflow_async("wf-announce")
        assert await asyncio.wait_for(handle.get_result(), 10) == "worked"
    finally:
        DBOS.destroy(workflow_completion_timeout_sec=0)
        runtime.bind(None)
    assert ran == [session]  # the step ran once
    [completed] = LOG.completed(session)  # and its end was announced once, after all
    assert completed.step == "collect.pin" and completed.data["found"] == 0
