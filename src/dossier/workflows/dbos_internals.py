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
- :data:`CANCEL_NOISE`: DBOS reports a workflow it was told to cancel as a failure (a
  WARNING that it "was cancelled during execution", then an ERROR with the traceback of
  ``DBOSAwaitedWorkflowCancelledError`` when the run waits for its own outcome; the
  parent, awaiting cancelled children, says it is "no longer owned"). Cancelling is how a
  session is stopped, so those lines are dropped; the engine says it once, at INFO
  (pinned by ``tests/integration/test_cancel_logs.py``).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict
from typing import Any

import dbos._dbos as dbos_module
from dbos import DBOS
from dbos._error import DBOSAwaitedWorkflowCancelledError, DBOSWorkflowCancelledError
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


_WORKFLOW_LINE = re.compile(r"^Workflow (\S+) ")
_CANCELLED_LINE = "was cancelled during execution"
_REMEMBERED = 4096


class CancelledWorkflowNoise(logging.Filter):
    """Drops DBOS's reports of workflows that were cancelled (see the module docstring).

    Whatever cancelled them (this process, another one, shutdown), a cancelled workflow's
    awaited outcome is a cancellation, never an error. The "no longer owned" warning is
    dropped only for workflows this process cancelled: elsewhere it can mean a takeover.
    """

    def __init__(self) -> None:
        super().__init__("dbos")
        self._cancelled: OrderedDict[str, None] = OrderedDict()

    def cancelling(self, workflow_id: str) -> None:
        self._cancelled[workflow_id] = None
        while len(self._cancelled) > _REMEMBERED:
            self._cancelled.popitem(last=False)

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, (DBOSAwaitedWorkflowCancelledError, DBOSWorkflowCancelledError)):
            return False
        message = record.getMessage()
        if _CANCELLED_LINE in message:
            return False
        match = _WORKFLOW_LINE.match(message)
        return match is None or match.group(1) not in self._cancelled


CANCEL_NOISE = CancelledWorkflowNoise()


def quiet_cancellations() -> None:
    """Install :data:`CANCEL_NOISE` on DBOS's logger (idempotent)."""
    logging.getLogger("dbos").addFilter(CANCEL_NOISE)
