"""Executors that went silent: their sessions move to a live worker, and clients are told.

Every process beats (``dossier_executors``) every ``executor_beat_s``. A workflow-running
process (``worker`` or ``all``) looks for executors silent longer than ``takeover_after_s``,
whatever their role, and recovers their pending workflows: DBOS puts them back on a
queue that only workflow-running processes dequeue (``dbos_internals.run_recovered_work``).
A conditional claim makes sure one survivor takes each dead executor. The sessions'
streams then say what happened: ``session.resumed {reason, from_executor, to_executor}``.

Joining asks here too (:meth:`Takeover.revive`): a running session whose workflows sit on a
dead executor is taken over at once rather than joined as is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import psycopg
from dbos import DBOS

from dossier import metrics
from dossier.core import keys
from dossier.core.events import EventType, NewEvent
from dossier.core.ports import EventLog
from dossier.core.records import split_workflow_id
from dossier.core.tasks import cancel_all
from dossier.settings import Settings
from dossier.workflows.dbos_internals import recover_executor

if TYPE_CHECKING:
    from dossier.eventlog.postgres import PostgresHeartbeats

log = logging.getLogger(__name__)

EXECUTOR_LOST = "executor_lost"
# How long the announcement waits for another executor to pick the work up.
_ANNOUNCE_WITHIN_S = 60.0
_ANNOUNCE_POLL_S = 0.2


def session_of(wf_id: str) -> str:
    """A session's workflow ids: the session id itself (its parent) or ``<session>.<kind>``."""
    parts = split_workflow_id(wf_id)
    return parts[0] if parts else wf_id


class Takeover:
    def __init__(self, settings: Settings, heartbeats: PostgresHeartbeats, event_log: EventLog):
        self._settings = settings
        self._beats = heartbeats
        self._log = event_log
        self._me = settings.executor_id
        self._announcing: set[asyncio.Task[None]] = set()

    async def close(self) -> None:
        await cancel_all(list(self._announcing))

    async def run(self) -> None:
        """Beat; on a workflow-running process, take over the executors that went silent."""
        settings = self._settings
        while True:
            try:
                await self._beats.beat(self._me, settings.role)
                await self.measure()
                if settings.role != "api":
                    after = settings.takeover_after_s
                    for dead in await self._beats.stale(after, exclude=self._me):
                        await self.take_over(dead)
            except Exception:
                log.warning("takeover check failed; retrying", exc_info=True)
            await asyncio.sleep(settings.executor_beat_s)

    async def measure(self) -> None:
        """Heartbeat ages and queue depths for ``/metrics`` (one cheap query each a beat)."""
        metrics.HEARTBEAT_AGE.replace("executor", await self._beats.all_ages())
        with contextlib.suppress(psycopg.Error):  # no DBOS tables yet: no depth to show
            metrics.QUEUE_DEPTH.replace("queue", await self._beats.queue_depths())

    async def take_over(self, dead: str) -> bool:
        """Hand ``dead``'s pending workflows to the workflow-running processes, if nobody
        else claimed them first. True if this process did."""
        if not await self._beats.claim(dead, self._me, self._settings.takeover_after_s):
            return False
        pending = await DBOS.list_workflows_async(
            status="PENDING", executor_id=dead, load_input=False, load_output=False
        )
        if not pending:
            await self._beats.forget(dead, claimed_by=self._me)
            return False
        log.warning("executor %s is silent; taking over %d workflows", dead, len(pending))
        await asyncio.to_thread(recover_executor, dead)
        metrics.TAKEOVERS.inc()
        task = asyncio.create_task(
            self._announce(dead, [w.workflow_id for w in pending]), name=f"resumed:{dead}"
        )
        self._announcing.add(task)
        task.add_done_callback(self._announcing.discard)
        return True

    async def revive(self, wf_ids: Sequence[str]) -> None:
        """Take over now whatever of these workflows waits on an executor that is gone."""
        statuses = await DBOS.list_workflows_async(
            workflow_ids=list(wf_ids), load_input=False, load_output=False
        )
        holders = {w.executor_id for w in statuses if w.status == "PENDING" and w.executor_id}
        ages = await self._beats.ages(sorted(holders))
        for executor in sorted(holders):
            age = ages.get(executor)
            if executor != self._me and (age is None or age > self._settings.takeover_after_s):
                await self.take_over(executor)

    async def _announce(self, dead: str, wf_ids: list[str]) -> None:
        """Once another executor runs a session's work, say so on its stream."""
        waiting: dict[str, list[str]] = {}
        for wf_id in wf_ids:
            waiting.setdefault(session_of(wf_id), []).append(wf_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _ANNOUNCE_WITHIN_S
        while waiting:
            statuses = await DBOS.list_workflows_async(
                workflow_ids=[w for ids in waiting.values() for w in ids],
                load_input=False,
                load_output=False,
            )
            moved = {w.workflow_id: w.executor_id for w in statuses if w.executor_id != dead}
            late = loop.time() >= deadline
            for session_id, ids in list(waiting.items()):
                to = next((moved[w] for w in ids if moved.get(w)), None)
                if to is None and not late:
                    continue
                del waiting[session_id]
                await self._say_resumed(session_id, dead, to)
            if waiting:
                await asyncio.sleep(_ANNOUNCE_POLL_S)

    async def _say_resumed(self, session_id: str, dead: str, to: str | None) -> None:
        message = f"worker {dead} was lost; " + (
            f"resumed on {to}" if to else "waiting for a worker to resume"
        )
        event = NewEvent(
            type=EventType.SESSION_RESUMED,
            data={
                "reason": EXECUTOR_LOST,
                "from_executor": dead,
                "to_executor": to,
                "message": message,
            },
            dedup=keys.session_resumed(dead),
        )
        try:  # (a session that ended meanwhile takes nothing more: the log skips it)
            await self._log.append(session_id, [event])
        except Exception:
            log.warning("could not tell session %s it resumed", session_id, exc_info=True)
