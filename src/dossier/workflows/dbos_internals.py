"""The DBOS internals dossier relies on, in one place (DBOS 3.4; pinned by
``tests/integration/test_dbos_internals.py``, which fails if an upgrade moves them).

- :func:`recover_executor`: DBOS recovers a process's own pending workflows when it
  restarts with the same executor id; a process that never comes back needs someone to
  recover its id. ``DBOS._recover_pending_workflows`` is what DBOS Conductor calls.
- :func:`run_recovered_work`: DBOS recovery puts a workflow that was started directly
  (not enqueued) back on DBOS's internal queue, and every launched process drains that
  queue whatever ``listen_queues`` says. An ``api`` replica gives it no capacity, so
  recovered research only ever runs on workers.
- :func:`running_workflow_tasks`: the asyncio tasks of this process's running workflows,
  so shutdown can cancel them before the services they use close (DBOS keeps strong
  references to them on its instance).
"""

from __future__ import annotations

import asyncio
from typing import Any

import dbos._dbos as dbos_module
from dbos import DBOS
from dbos._utils import INTERNAL_QUEUE_NAME


def recover_executor(executor_id: str) -> int:
    """Resume the pending workflows of ``executor_id`` here; returns how many. Blocking
    (call it in a thread)."""
    return len(DBOS._recover_pending_workflows([executor_id]))


def run_recovered_work(enabled: bool, *, polling_interval_s: float | None = None) -> None:
    """Before ``DBOS.launch()``: whether this process dequeues from DBOS's internal queue
    (recovered workflows, ``resume``). Without, other processes run them.

    The internal queue lives in DBOS's registry, which outlives a DBOS instance (tests
    launch several in one process), and is registered get-or-create at launch: so it is
    replaced here either way, with a worker concurrency of 0 (a poll with no room claims
    nothing) or with DBOS's defaults, polled every ``polling_interval_s`` if given (DBOS
    polls it every second: most of a takeover's delay once the dead executor is found).
    """
    instance = getattr(dbos_module, "_dbos_global_instance", None)
    if instance is None:
        raise RuntimeError("create DBOS before choosing what its internal queue runs")
    registry = instance._registry
    registry.internal_queue_map.pop(INTERNAL_QUEUE_NAME, None)
    if enabled and polling_interval_s is not None:
        registry._register_internal_queue(
            INTERNAL_QUEUE_NAME, polling_interval_sec=polling_interval_s
        )
    elif enabled:
        registry.get_internal_queue()
    else:
        registry._register_internal_queue(INTERNAL_QUEUE_NAME, worker_concurrency=0)


def running_workflow_tasks() -> list[asyncio.Task[Any]]:
    """This process's workflow tasks that have not finished (none without a DBOS)."""
    instance = getattr(dbos_module, "_dbos_global_instance", None)
    return [t for t in getattr(instance, "_workflow_tasks", ()) if not t.done()]
