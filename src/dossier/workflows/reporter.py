"""Writes one step's life onto the session log, with checked transitions.

``step.started`` and the step's end (``completed``/``failed``/``skipped``) carry dedup keys,
as do findings (by finding id): a step re-run after a crash re-emits nothing the log
already has. Progress and retry notices are not deduplicated: they are live status, and a
re-run's progress is true. While a step runs, a liveness beat (``step.progress``) goes out
whenever nothing else was said for ``progress_beat_s``, so a client can tell "working"
from "stuck".
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from pydantic import JsonValue

from dossier.core import keys
from dossier.core.events import EventType, NewEvent
from dossier.core.ports import EventLog, ProgressReport, RetryNotice
from dossier.core.states import StepStatus, transition
from dossier.core.types import Finding
from dossier.workflows.announce import end_events

_FLUSH_FINDINGS = 32


def _never() -> bool:
    return False


def finding_dedup(finding: Finding, workflow: str) -> str:
    return keys.finding(workflow, finding.source, finding.id)


_END_EVENT = {
    StepStatus.COMPLETED: EventType.STEP_COMPLETED,
    StepStatus.FAILED: EventType.STEP_FAILED,
    StepStatus.SKIPPED: EventType.STEP_SKIPPED,
}
_ENDS = frozenset(_END_EVENT.values())


def step_event(etype: str, workflow: str, step: str, data: dict[str, JsonValue]) -> NewEvent:
    """A step's start or end, keyed so that a re-run of the step says it once."""
    if etype == EventType.STEP_STARTED:
        dedup = keys.step_started(workflow, step)
    elif etype in _ENDS:
        dedup = keys.step_end(workflow, step)
    else:
        raise ValueError(f"{etype} is not a step's start or end")
    return NewEvent(type=etype, data=data, workflow=workflow, step=step, dedup=dedup)


def finding_event(finding: Finding, workflow: str, step: str) -> NewEvent:
    data = finding.model_dump(mode="json")
    dedup = finding_dedup(finding, workflow)
    return NewEvent(type=EventType.FINDING, data=data, workflow=workflow, step=step, dedup=dedup)


def reporter_for(
    session_id: str, workflow: str, step: str, *, expected_s: float | None = None
) -> StepReporter:
    """A reporter on the bound runtime's log, with the configured liveness beat."""
    from dossier.workflows import runtime

    rt = runtime.current()
    return StepReporter(
        rt.log,
        session_id,
        workflow,
        step,
        beat_s=rt.settings.progress_beat_s,
        expected_s=expected_s,
    )


class StepReporter:
    """Event emitter for one (workflow, step)."""

    def __init__(
        self,
        log: EventLog,
        session_id: str,
        workflow: str,
        step: str,
        *,
        beat_s: float = 4.0,
        expected_s: float | None = None,
    ) -> None:
        self._log = log
        self.session_id = session_id
        self.workflow = workflow
        self.step = step
        self.status = StepStatus.PENDING
        self.report = ProgressReport(done=0, total=0, found=0)
        self._beat_s = beat_s
        self._expected_s = expected_s
        self._started = time.monotonic()
        self._last_said = self._started
        self._buffer: list[Finding] = []
        self.findings: list[Finding] = []  # the findings on the log (what the step found)
        # While true, findings are dropped instead of logged: the user skipped this step,
        # and nothing of it may appear after the acknowledgement.
        self.muted: Callable[[], bool] = _never

    # -- helpers
    @property
    def elapsed_ms(self) -> int:
        return int((time.monotonic() - self._started) * 1000)

    def _event(self, etype: str, data: dict[str, JsonValue], dedup: str | None = None) -> NewEvent:
        return NewEvent(type=etype, data=data, workflow=self.workflow, step=self.step, dedup=dedup)

    async def _append(self, *events: NewEvent) -> None:
        batch, self._buffer = self._buffer, []
        if batch and self.muted():
            batch = []
        self.findings.extend(batch)
        pending = [finding_event(f, self.workflow, self.step) for f in batch]
        if pending or events:
            await self._log.append(self.session_id, [*pending, *events])
        self._last_said = time.monotonic()

    def _move(self, target: StepStatus) -> None:
        self.status = transition(self.status, target)

    def eta_s(self) -> float | None:
        done, total = self.report.done, self.report.total
        elapsed = time.monotonic() - self._started
        if total and done >= total:
            return 0.0
        if total and 0 < done < total:
            return round(elapsed / done * (total - done), 1)
        if self._expected_s is not None and (not total or done < total):
            # From this step's own history; once past it, no promise beats a wrong one.
            left = self._expected_s - elapsed
            return round(max(0.5, left), 1) if left > 0 else None
        return None

    def _progress_data(self, message: str) -> dict[str, JsonValue]:
        return {
            "done": self.report.done,
            "total": self.report.total,
            "found": self.report.found,
            "eta_s": self.eta_s(),
            "message": message,
            "elapsed_ms": self.elapsed_ms,
        }

    # -- lifecycle
    async def start(self, message: str = "", total: int = 0, **extra: JsonValue) -> None:
        self._move(StepStatus.RUNNING)
        self._started = time.monotonic()
        self.report = ProgressReport(done=0, total=total, found=0, message=message)
        data = self._progress_data(message)
        data.update(extra)
        await self._append(step_event(EventType.STEP_STARTED, self.workflow, self.step, data))

    async def emit(self, finding: Finding) -> None:
        """Queue a finding; findings go out in small batches, before any other event."""
        if self.muted():
            return
        self._buffer.append(finding)
        self.report.found = len(self.findings) + len(self._buffer)
        if len(self._buffer) >= _FLUSH_FINDINGS:
            await self._append()

    async def flush(self) -> None:
        """Send queued findings now."""
        if self._buffer:
            await self._append()

    async def progress(self, report: ProgressReport) -> None:
        if self.status == StepStatus.RETRYING:
            self._move(StepStatus.RUNNING)
        self.report = ProgressReport(
            done=report.done,
            total=report.total,
            found=max(report.found, len(self.findings) + len(self._buffer)),
            message=report.message,
        )
        await self._append(
            self._event(EventType.STEP_PROGRESS, self._progress_data(report.message))
        )

    async def retrying(self, notice: RetryNotice) -> None:
        self._move(StepStatus.RETRYING)
        data: dict[str, JsonValue] = {
            "attempt": notice.attempt,
            "error": notice.error,
            "next_in_s": notice.next_in_s,
        }
        await self._append(self._event(EventType.STEP_RETRYING, data))

    async def complete(self, *, cached: bool = False, **extra: Any) -> None:
        await self._end(StepStatus.COMPLETED, {"cached": cached}, extra)

    async def fail(self, error: str, **extra: Any) -> None:
        await self._end(StepStatus.FAILED, {"error": error}, extra)

    async def skip(self, reason: str, **extra: Any) -> None:
        await self._end(StepStatus.SKIPPED, {"reason": reason}, extra)

    async def _end(
        self, status: StepStatus, data: dict[str, JsonValue], extra: dict[str, Any]
    ) -> None:
        await self.flush()  # the findings go out before the step says it is over
        self._move(status)
        data |= {"duration_ms": self.elapsed_ms, "found": len(self.findings)}
        if status is StepStatus.FAILED:
            data["partial"] = bool(self.findings)
        data.update(extra)
        # (inside a durable step: announced once DBOS has checkpointed the step)
        end = step_event(_END_EVENT[status], self.workflow, self.step, data)
        await end_events(self._log, self.session_id, [end])
        self._last_said = time.monotonic()

    @contextlib.asynccontextmanager
    async def beating(self) -> AsyncIterator[None]:
        """Send liveness beats while the body runs (stops with it, cancelled or not)."""

        async def beat() -> None:
            while True:
                await asyncio.sleep(max(0.05, self._last_said + self._beat_s - time.monotonic()))
                if time.monotonic() - self._last_said < self._beat_s * 0.95:
                    continue
                if self.status not in (StepStatus.RUNNING, StepStatus.RETRYING):
                    return
                message = self.report.message or "working"
                data = self._progress_data(message)
                data["beat"] = True
                await self._append(self._event(EventType.STEP_PROGRESS, data))

        task = asyncio.create_task(beat(), name=f"beat:{self.workflow}:{self.step}")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
