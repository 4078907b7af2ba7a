"""The durable steps of collection and after: collect, analyze, cache_store, finish.

Steps hold every nondeterministic thing (I/O, clock); their names are part of the durable
contract (recovery replays by name). A step never raises for a source's failure: it
reports ``step.failed`` with what it found so far and returns that as data, so the
workflow goes on and the session completes with what exists.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from dbos import DBOS
from pydantic import JsonValue

from dossier import metrics
from dossier.collectors.base import parse_datetime
from dossier.collectors.normalize import merge_findings
from dossier.collectors.replay import demo_accounts
from dossier.collectors.scope import RequestScope, request_scope
from dossier.collectors.techstack import technologies_from_jobs
from dossier.core.coverage import (
    ANSWERED,
    FailureCause,
    Gap,
    SessionVerdict,
    answered_fully,
    build_coverage,
    cause_of,
    causes_of,
    hint_of,
    missing_of,
    notes_of,
    verdict,
)
from dossier.core.events import EventType, NewEvent
from dossier.core.ports import CollectContext, Collector, CollectResult
from dossier.core.states import SessionStatus
from dossier.core.types import Account, DataType, Finding, Vendor, utcnow
from dossier.errors import DossierError
from dossier.workflows import runtime
from dossier.workflows.analysis import run_analysis
from dossier.workflows.cached import found_by_kind, found_by_type
from dossier.workflows.plan import wanted_types
from dossier.workflows.reporter import StepReporter, reporter_for

log = logging.getLogger(__name__)

Outcome = dict[str, Any]


def _types_of(collector: Collector, workflow: str) -> list[str]:
    return sorted(t.value for t in collector.data_types & wanted_types(workflow))


def mark_sample(finding: Finding) -> Finding:
    """A finding built from a constructed (sample) recording says so."""
    if finding.fields.get("sample") is True:
        return finding
    return finding.model_copy(update={"fields": {**finding.fields, "sample": True}})


@DBOS.step(name="dossier.collect", preemptible=True)
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
        counts = found_by_kind(findings)
        return ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in counts.items())
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


_POLL_S = 0.05


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
    if reporter.muted() or rt.steering.stopping(session_id):
        raise _Skipped
    grace_until: float | None = None
    async with asyncio.timeout(rt.settings.collector_timeout_s):
        work = asyncio.ensure_future(collector.collect(ctx))
        try:
            while True:
                done, _ = await asyncio.wait({work}, timeout=_POLL_S)
                if done:
                    return work.result()
                if reporter.muted():
                    raise _Skipped
                if scope.stop_requested():
                    now = time.monotonic()
                    grace_until = grace_until or now + rt.settings.stop_grace_s
                    if now >= grace_until:
                        raise _Skipped
        finally:
            if not work.done():
                work.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await work


@DBOS.step(name="dossier.vendor_summary")
async def vendor_summary(session_id: str) -> str | None:
    """The vendor analysis text so far (the customer analysis links to it)."""
    metrics.STEPS_EXECUTED.inc(step="vendor_summary")
    rt = runtime.current()
    text: list[str] = []
    after = 0
    while True:
        events = await rt.log.read_after(session_id, after, limit=1000, workflow="vendor_context")
        if not events:
            break
        after = events[-1].seq
        for event in events:
            if event.type == EventType.ANALYSIS_COMPLETED:
                value = event.data.get("text")
                return value if isinstance(value, str) else None
            if event.type == EventType.ANALYSIS_DELTA:
                text.append(str(event.data.get("text", "")))
    return "".join(text) or None


@DBOS.step(name="dossier.analyze")
async def analyze(
    session_id: str,
    workflow: str,
    account_json: str,
    vendor_json: str,
    outcomes: list[Outcome],
    vendor_text: str | None,
    identifiers: dict[str, str] | None = None,
    uncovered: dict[str, Gap] | None = None,
) -> dict[str, Any]:
    """Derive signals the sources imply (technologies named in job posts), merge what
    several sources said about one fact, and stream the analysis (told, per data type,
    what was found and why the rest was not)."""
    metrics.STEPS_EXECUTED.inc(step="analyze")
    rt = runtime.current()
    account = Account.model_validate_json(account_json)
    vendor = Vendor.model_validate_json(vendor_json)
    collected = [Finding.model_validate(f) for o in outcomes for f in o.get("findings", [])]
    reporter = reporter_for(session_id, workflow, "analyze")
    await reporter.start("writing the analysis")
    domain = (identifiers or {}).get("domain") or account.domain or account.key
    derived = technologies_from_jobs(collected, domain=domain, observed_at=utcnow())
    for finding in derived:
        await reporter.emit(finding)
    await reporter.flush()
    coverage = _coverage(rt, workflow, [*outcomes, derived_outcome(derived)], uncovered or {})
    findings = merge_findings([*collected, *derived])
    async with reporter.beating():
        result = await run_analysis(
            rt, session_id, workflow, account, vendor, findings, notes_of(coverage), vendor_text
        )
    result["derived"] = [f.model_dump(mode="json") for f in derived]
    if result.get("partial"):
        await reporter.fail(str(result.get("error") or "analysis incomplete"))
    else:
        await reporter.complete(provider=result.get("provider"))
    return result


DERIVED_SOURCE = "job_posts"


def derived_outcome(derived: list[Finding]) -> Outcome:
    """Technologies named in job posts, as the answer of a source of their own (so the
    tech coverage counts them like the findings the page shows)."""
    return {
        "name": DERIVED_SOURCE,
        "data_types": [DataType.TECH.value] if derived else [],
        "status": "completed",
        "found": len(derived),
        "found_by_type": found_by_type(derived),
        "found_by_kind": found_by_kind(derived),
        "findings": [f.model_dump(mode="json") for f in derived],
    }


DERIVED_LABEL = {DERIVED_SOURCE: "their job posts"}


def _labels(rt: runtime.Runtime) -> dict[str, str]:
    return {**rt.collectors.labels, **DERIVED_LABEL}


def _coverage(
    rt: runtime.Runtime, workflow: str, outcomes: list[Outcome], uncovered: dict[str, Gap]
) -> dict[str, JsonValue]:
    return build_coverage(wanted_types(workflow), outcomes, uncovered, _labels(rt))


def workflow_summary(
    workflow: str,
    coverage: dict[str, JsonValue],
    outcomes: list[Outcome],
    lookups: dict[str, Any],
    *,
    account: str,
    demo_accounts: list[str],
) -> dict[str, JsonValue]:
    """The ``workflow.completed`` payload: how it went, in the coverage vocabulary."""
    asked = [o for o in outcomes if o.get("name") != DERIVED_SOURCE]
    # Nothing to ask (no vendor configured) is not a failure to reach anything.
    nothing_asked = not asked and not lookups.get("answered") and not lookups.get("failed")
    answered = (
        nothing_asked
        or bool(lookups.get("answered"))
        or any(o.get("status") in ANSWERED for o in asked)
    )
    complete = all(answered_fully(o) for o in outcomes) and not lookups.get("failed")
    status = verdict(coverage, answered=answered, complete_sources=complete)
    causes = sorted({*causes_of(outcomes), *(lookups.get("causes") or [])})
    found = {
        str(f.get("id")) for o in outcomes for f in o.get("findings", []) if isinstance(f, dict)
    }
    return {
        "verdict": status.value,
        "found": len(found),
        "coverage": coverage,
        "missing": list[JsonValue](missing_of(coverage)),
        "hint": hint_of(status, coverage, causes, account=account, demo_accounts=demo_accounts),
        "causes": list[JsonValue](causes),
        "cached": bool(outcomes) and all(o.get("status") == "cached" for o in outcomes),
        "cache_hits": sum(1 for o in outcomes if o.get("status") == "cached"),
        "requests": sum(int(o.get("requests", 0)) for o in outcomes),
        "saved_requests": sum(int(o.get("saved_requests", 0)) for o in outcomes),
        "saved_ms": sum(int(o.get("saved_ms", 0)) for o in outcomes),
        "failed": [str(o["name"]) for o in outcomes if o.get("status") == "failed"],
        "skipped": [str(o["name"]) for o in outcomes if o.get("status") == "skipped"],
    }


@DBOS.step(name="dossier.cache_store")
async def cache_store(
    session_id: str,
    workflow: str,
    account_json: str,
    vendor_json: str,
    outcomes: list[Outcome],
    analysis: dict[str, Any],
    uncovered: dict[str, Gap],
    lookups: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Store what was collected and the analysis; end the workflow on the log.

    Only complete answers are stored: a source that failed, was skipped or answered only
    in part is asked again next time, and an analysis is stored (so a later session can be
    served from cache at once) only when every source it stood on answered in full.
    """
    metrics.STEPS_EXECUTED.inc(step="cache_store")
    rt = runtime.current()
    account = Account.model_validate_json(account_json)
    vendor = Vendor.model_validate_json(vendor_json)
    reporter = reporter_for(session_id, workflow, "cache_store")
    await reporter.start("storing results")
    stored = 0
    for outcome in outcomes:
        if outcome.get("status") != "completed" or outcome.get("failures"):
            continue  # failures, skips and half answers are not worth remembering
        collector = rt.collectors.get(str(outcome["name"]))
        findings = [Finding.model_validate(f) for f in outcome.get("findings", [])]
        await rt.cache.put_source(
            collector.data_types,
            account.key,
            collector.name,
            findings,
            negative=bool(outcome.get("negative")),
            meta={
                "requests": outcome.get("requests", 0),
                "duration_ms": outcome.get("duration_ms", 0),
                "note": outcome.get("note"),
            },
        )
        stored += 1
    derived = [Finding.model_validate(f) for f in analysis.get("derived") or []]
    everything = [*outcomes, derived_outcome(derived)]
    coverage = _coverage(rt, workflow, everything, uncovered)
    summary = workflow_summary(
        workflow,
        coverage,
        everything,
        lookups or {},
        account=account.name,
        demo_accounts=demo_accounts(rt.settings),
    )
    if summary["verdict"] == SessionVerdict.COMPLETED and not analysis.get("partial"):
        # The analysis remembers which sources it stands on: a later session is served
        # from cache only while every one of those answers is still fresh.
        await rt.cache.put_analysis(
            workflow,
            account.key,
            vendor.hash,
            {
                **analysis,
                "coverage": coverage,
                "uncovered": {
                    t: {"state": g["state"], "reason": g["reason"]} for t, g in uncovered.items()
                },
                "sources": [
                    {"name": o["name"], "status": o.get("status"), "data_types": o["data_types"]}
                    for o in outcomes
                ],
            },
        )
    await reporter.complete(stored=stored)
    await rt.log.append(
        session_id,
        [
            NewEvent(
                type=EventType.WORKFLOW_COMPLETED,
                data=summary,
                workflow=workflow,
                dedup=f"{workflow}:end",
            )
        ],
    )
    return summary


@DBOS.step(name="dossier.finish_session")
async def finish_session(
    session_id: str, summaries: dict[str, dict[str, Any]], failed: list[str]
) -> dict[str, Any]:
    """``session.completed``: the one terminal event of the session's stream.

    The session's status is the account's: the Customer Intelligence workflow's verdict
    (our own company's research has its own status on its workflow).
    """
    metrics.STEPS_EXECUTED.inc(step="finish_session")
    rt = runtime.current()
    customer = summaries.get("customer_intelligence") or {}
    coverage = customer.get("coverage") if isinstance(customer.get("coverage"), dict) else {}
    steering = rt.steering.of(session_id)
    if steering.cancelled:
        status = SessionStatus.CANCELLED
    elif "customer_intelligence" in failed:
        status = SessionStatus.FAILED
    elif failed:
        status = SessionStatus.PARTIAL
    else:
        status = SessionStatus(str(customer.get("verdict") or SessionStatus.PARTIAL.value))
    record = await rt.log.get_session(session_id)
    started = _parse_ts(record.created_at) if record else None
    data: dict[str, JsonValue] = {
        "status": status.value,
        "coverage": coverage,
        "missing": customer.get("missing") or [],
        "hint": customer.get("hint"),
        "found": sum(int((s or {}).get("found", 0)) for s in summaries.values()),
        "cache_hits": sum(int((s or {}).get("cache_hits", 0)) for s in summaries.values()),
        "requests": sum(int((s or {}).get("requests", 0)) for s in summaries.values()),
        "calls_saved": sum(int((s or {}).get("saved_requests", 0)) for s in summaries.values()),
        "time_saved_ms": sum(int((s or {}).get("saved_ms", 0)) for s in summaries.values()),
        "duration_ms": int((time.time() - started) * 1000) if started else None,
        "failed_workflows": list[JsonValue](failed),
    }
    ends = [
        NewEvent(
            type=EventType.WORKFLOW_FAILED,
            data={"error": "the workflow stopped on an internal error"},
            workflow=kind,
            dedup=f"{kind}:end",
        )
        for kind in failed
    ]
    ends.append(NewEvent(type=EventType.SESSION_COMPLETED, data=data, dedup="session:completed"))
    await rt.log.append(session_id, ends)
    await rt.log.set_status(session_id, status)
    return data


def _parse_ts(value: str) -> float | None:
    parsed = parse_datetime(value)
    return parsed.timestamp() if parsed else None
