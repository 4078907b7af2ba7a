"""Pins the DBOS internals ``workflows/dbos_internals.py`` relies on, with a real DBOS on
SQLite: a workflow left pending by an executor that went away is resumed by another
executor from its last completed step, and running workflow tasks are visible for
shutdown. An upgrade of DBOS that moves either breaks here, not in production."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from dbos import DBOS, DBOSConfig, SetWorkflowID, WorkflowHandleAsync

from dossier.workflows.dbos_internals import (
    recover_executor,
    run_recovered_work,
    running_workflow_tasks,
)

RAN: list[str] = []
GATE: asyncio.Event | None = None


@DBOS.step(name="pin.record")
async def record(label: str) -> str:
    RAN.append(label)
    return label


@DBOS.workflow(name="pin.waiting")
async def waiting(label: str) -> str:
    await record(label)
    assert GATE is not None
    await GATE.wait()  # not durable: the first executor dies here
    return f"done {label}"


def config(tmp_path: Path, executor: str) -> DBOSConfig:
    return {
        "name": "dossier-pin",
        "application_version": "pin-1",
        "executor_id": executor,
        "system_database_url": f"sqlite:///{tmp_path / 'dbos.sqlite'}",
        "log_level": "WARNING",
    }


async def _leave_pending(tmp_path: Path, executor: str, wf_id: str) -> None:
    """Start ``waiting`` on ``executor`` and stop that process after its first step."""
    global GATE
    GATE = asyncio.Event()
    DBOS(config=config(tmp_path, executor))
    DBOS.launch()
    try:
        with SetWorkflowID(wf_id):
            await DBOS.start_workflow_async(waiting, "a")
        for _ in range(200):
            if RAN:
                break
            await asyncio.sleep(0.01)
        tasks = running_workflow_tasks()
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks, timeout=5)
    finally:
        DBOS.destroy(workflow_completion_timeout_sec=0)


@pytest.mark.slow
async def test_a_process_kept_off_the_internal_queue_never_runs_recovered_work(
    tmp_path: Path,
) -> None:
    """An API replica may call recovery, but the work it puts back runs elsewhere."""
    global GATE
    RAN.clear()
    await _leave_pending(tmp_path, "dead", "wf-pin-2")
    GATE = asyncio.Event()
    GATE.set()
    DBOS(config=config(tmp_path, "api"))
    run_recovered_work(False)
    DBOS.launch()
    try:
        pending = await DBOS.list_workflows_async(status="PENDING", executor_id="dead")
        assert [w.workflow_id for w in pending] == ["wf-pin-2"]
        assert await asyncio.to_thread(recover_executor, "dead") == 1
        await asyncio.sleep(3)  # the internal queue is polled every second
        [status] = await DBOS.list_workflows_async(workflow_ids=["wf-pin-2"])
        assert (status.status, status.executor_id) == ("ENQUEUED", "dead")
    finally:
        DBOS.destroy(workflow_completion_timeout_sec=0)
    DBOS(config=config(tmp_path, "worker"))
    run_recovered_work(True)  # (the registry outlives a DBOS instance)
    DBOS.launch()
    try:
        handle: WorkflowHandleAsync[str] = await DBOS.retrieve_workflow_async("wf-pin-2")
        assert await asyncio.wait_for(handle.get_result(), 10) == "done a"
        [status] = await DBOS.list_workflows_async(workflow_ids=["wf-pin-2"])
        assert status.executor_id == "worker"
    finally:
        DBOS.destroy(workflow_completion_timeout_sec=0)


@pytest.mark.slow
async def test_another_executor_resumes_a_dead_executors_workflow(tmp_path: Path) -> None:
    global GATE
    RAN.clear()
    GATE = asyncio.Event()
    DBOS(config=config(tmp_path, "dead"))
    DBOS.launch()
    try:
        with SetWorkflowID("wf-pin-1"):
            await DBOS.start_workflow_async(waiting, "a")
        for _ in range(200):
            if RAN:
                break
            await asyncio.sleep(0.01)
        tasks = running_workflow_tasks()
        assert len(tasks) == 1  # what shutdown cancels
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks, timeout=5)
    finally:
        DBOS.destroy(workflow_completion_timeout_sec=0)
    assert running_workflow_tasks() == []  # no DBOS, nothing running

    GATE = asyncio.Event()
    GATE.set()
    DBOS(config=config(tmp_path, "alive"))
    DBOS.launch()
    try:
        pending = await DBOS.list_workflows_async(status="PENDING", executor_id="dead")
        assert [w.workflow_id for w in pending] == ["wf-pin-1"]
        assert await asyncio.to_thread(recover_executor, "dead") == 1
        handle: WorkflowHandleAsync[str] = await DBOS.retrieve_workflow_async("wf-pin-1")
        assert await asyncio.wait_for(handle.get_result(), 10) == "done a"
        assert RAN == ["a"]  # the completed step was not run again
    finally:
        DBOS.destroy(workflow_completion_timeout_sec=0)
