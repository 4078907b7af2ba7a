"""The ``collect`` step: one source, as its own durable step, steered while it runs.

A step never raises for a source's failure: it reports ``step.failed`` (with its cause in
the coverage vocabulary) or ``step.completed`` (with what it found, and ``partial`` when
some of its requests failed), and returns that as data, so the workflow goes on and the
session completes with what exists.
"""

from __future__ import annotations

import asyncio
import logging
import time

from pydantic import JsonValue

from dossier import metrics
from dossier.collectors.scope import RequestScope, request_scope
from dossier.core.coverage import FailureCause, cause_of, count_words
from dossier.core.events import EventType
from dossier.core.ports import CollectContext, Collector, CollectResult
from dossier.core.tasks import cancel_all
from dossier.core.types import Finding
from dossier.errors import DossierError
from dossier.workflows import runtime
from dossier.workflows.announce import durable_step
from dossier.workflows.cached import found_by_kind, found_by_type
from dossier.workflows.outcome import Outcome
from dossier.workflows.plan import wanted_types
from dossier.workflows.reporter import StepReporter, reporter_for

log = logging.getLogger(__name__)


def _types_of(collector: Collector, workflow: str) -> list[str]:
    return sorted(t.value for t in collector.data_types & wanted_types(workflow))


def mark_sample(finding: Finding) -> Finding:
    """A finding built from a constructed (sample) recording says so."""
    if finding.fields.get("sample") is True:
        return finding
    return finding.model_copy(update={"fields": {**finding.fields, "sample": True}})


@durable_step("dossier.collect", preemptible=True)
async def collect(
    session_id: str,
    workflow: str,
    name: str,
    identifiers: dict[str, str],
    expected_s: float | None,
) -> Outcome:
    """Run one collector as its own durable step; never raises for a source failure.

    Steering: a skipped collector does not start, or is cancelled at once and logs
    nothing more; after "stop & summarize" it sends no new request and may finish the
    one in flight within ``stop_grace_s`` (what it parsed is kept).
    """
    metrics.STEPS_EXECUTED.inc(step="collect")
    with runtime.current().steering.running(session_id):
        return await _collect(session_id, workflow, name, identifiers, expected_s)


async def _collect(
    session_id: str,
    workflow: str,
    name: str,
    identifiers: dict[str, str],
    expected_s: float | None,
) -> Outcome:
    rt = runtime.current()
    collector = rt.collectors.get(name)
    types = _types_of(collector, workflow)
    type_set = frozenset(types)
    reporter = reporter_for(session_id, workflow, f"collect.{name}", expected_s=expected_s)
    await restore_steering(session_id)
    board = rt.steering
    reporter.muted = lambda: board.skipped(session_id, name, type_set)
    scope = RequestScope(
        stop_requested=lambda: board.stopping(session_id) or reporter.muted(),
        priority=lambda: board.priority(session_id, name, type_set),
    )
    await reporter.start(
        f"collecting from {collector.label}",
        total=0,
        data_types=list[JsonValue](types),
        label=collector.label,
    )

    async def emit(finding: Finding) -> None:
        await reporter.emit(mark_sample(finding) if scope.samples else finding)

    ctx = CollectContext(
        account_name=identifiers.get("name", ""),
        identifiers=identifiers,
        emit=emit,
        progress=reporter.progress,
        on_retry=reporter.retrying,
        skip_requested=scope.stop_requested,
    )
    status, cause, error, result = "completed", None, None, None
    async with reporter.beating():
        try:
            with request_scope(scope):
                result = await _run_steered(rt, collector, ctx, reporter, scope, session_id)
        except _Skipped:
            status = "skipped"
        except TimeoutError:
            status, cause = "failed", FailureCause.TIMEOUT
            error = f"timed out after {rt.settings.collector_timeout_s:g}s"
        except DossierError as exc:
            status, cause, error = "failed", cause_of(exc), exc.message
            if cause is FailureCause.SKIPPED:
                status, cause, error = "skipped", None, None
        except Exception as exc:  # a collector bug must not sink the session
            log.exception("collector %s crashed", name)
            status, cause = "failed", FailureCause.INTERNAL
            error = f"internal error in {name}: {type(exc).__name__}"
    failures = [f for f in (result.failures if result else []) if f.cause != FailureCause.SKIPPED]
    if result is not None and len(failures) < len(result.failures):
        status = "skipped"  # it stopped at a request boundary and returned what it had
    await reporter.flush()  # a muted reporter drops what it still held
    findings = list(reporter.findings)  # exactly what is on the log
    by_type = found_by_type(findings)
    skipped_at = board.skipped_at(session_id, name, type_set)
    if status == "completed":
        state = "found" if findings else "none_found"
        await reporter.complete(
            coverage=by_type,
            negative=bool(result and result.negative),
            state=state,
            partial=bool(failures),
            error="; ".join(f.error for f in failures) or None,
            message=_summary(findings, result),
        )
    elif status == "skipped":
        why = "skipped at your request" if reporter.muted() else "stopped at your request"
        await reporter.skip(why, partial=bool(findings), coverage=by_type, state="skipped")
    else:
        state = "not_recorded" if cause is FailureCause.NOT_RECORDED else "failed"
        await reporter.fail(error or "failed", coverage=by_type, cause=cause, state=state)
    outcome: Outcome = {
        "name": name,
        "data_types": types,
        "status": status,
        "cause": cause.value if cause else None,
        "error": error,
        "note": (result.notes[0] if result and result.notes and not findings else None),
        "failures": [f.to_json() for f in failures],
        "found": len(findings),
        "found_by_type": by_type,
        "found_by_kind": found_by_kind(findings),
        "findings": [f.model_dump(mode="json") for f in findings],
        "negative": bool(result and result.negative),
        "identifiers": dict(result.identifiers) if result else {},
        "requests": scope.requests,
        "duration_ms": reporter.elapsed_ms,
        "skipped_at": skipped_at if status == "skipped" else None,
    }
    return outcome


def _summary(findings: list[Finding], result: CollectResult | None) -> str:
    """What a finished collect step shows: its count, or why it has none."""
    if findings:
        return count_words(found_by_kind(findings))
    if result is not None and result.notes:
        return result.notes[0]
    return "nothing found"


async def restore_steering(session_id: str) -> None:
    """Re-learn a session's steering from its log (after a restart the in-memory board is
    empty, but every ``steer.ack`` is durable there)."""
    rt = runtime.current()
    if not rt.steering.needs_restore(session_id):
        return
    after = 0
    while True:
        events = await rt.log.read_after(session_id, after, limit=1000)
        if not events:
            return
        after = events[-1].seq
        for event in events:
            if event.type == EventType.STEER_ACK:
                rt.steering.apply_event(event)


class _Skipped(Exception):
    pass


async def _run_steered(
    rt: runtime.Runtime,
    collector: Collector,
    ctx: CollectContext,
    reporter: StepReporter,
    scope: RequestScope,
    session_id: str,
) -> CollectResult:
    """The collector, bounded by the timeout and steered while it runs.

    Skipped: cancelled at once (its reporter is muted, so nothing more is logged).
    Stopped: its next request raises ``Stopped``; it gets ``stop_grace_s`` to return what
    it has, then is cancelled (what it emitted so far is kept).
    """
    board = rt.steering
    if reporter.muted() or board.stopping(session_id):
        raise _Skipped
    grace_until: float | None = None
    # Owned here: both tasks end (cancelled if need be) before this returns.
    work = asyncio.ensure_future(collector.collect(ctx))
    change: asyncio.Future[None] | None = None
    try:
        async with asyncio.timeout(rt.settings.collector_timeout_s):
            while True:
                change = asyncio.ensure_future(board.next_change(session_id))
                wait = None if grace_until is None else max(0.0, grace_until - time.monotonic())
                done, _ = await asyncio.wait(
                    {work, change}, timeout=wait, return_when=asyncio.FIRST_COMPLETED
                )
                change.cancel()
                if work in done:
                    return work.result()
                if reporter.muted():
                    raise _Skipped
                if scope.stop_requested():
                    now = time.monotonic()
                    grace_until = grace_until or now + rt.settings.stop_grace_s
                    if now >= grace_until:
                        raise _Skipped
    finally:
        await cancel_all([work, change])
