"""The DBOS internals dossier relies on, in one place (DBOS 3.4; pinned by
``tests/integration/test_dbos_internals.py``, which fails if an upgrade moves them).

- :func:`recover_executor`: DBOS recovers a process's own pending workflows when it
  restarts with the same executor id; a process that never comes back needs someone to
  recover its id. ``DBOS._recover_pending_workflows`` is what DBOS Conductor calls.
- :func:`running_workflow_tasks`: the asyncio tasks of this process's running workflows,
  so shutdown can cancel them before the services they use close (DBOS keeps strong
  references to them on its instance).
"""

from __future__ import annotations

import asyncio
from typing import Any

import dbos._dbos as dbos_module
from dbos import DBOS


def recover_executor(executor_id: str) -> int:
    """Resume the pending workflows of ``executor_id`` here; returns how many. Blocking
    (call it in a thread)."""
    return len(DBOS._recover_pending_workflows([executor_id]))


def running_workflow_tasks() -> list[asyncio.Task[Any]]:
    """This process's workflow tasks that have not finished (none without a DBOS)."""
    instance = getattr(dbos_module, "_dbos_global_instance", None)
    return [t for t in getattr(instance, "_workflow_tasks", ()) if not t.done()]
