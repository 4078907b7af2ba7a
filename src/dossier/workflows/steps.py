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
from dossier.collectors.techstack import technologies_from_jobs
from dossier.core.events import EventType, NewEvent
from dossier.core.ports import CollectContext, Collector, CollectResult
from dossier.core.states import SessionStatus
from dossier.core.types import Account, DataType, Finding, Vendor, utcnow
from dossier.errors import DossierError
from dossier.workflows import runtime
from dossier.workflows.analysis import run_analysis
from dossier.workflows.cached import found_by_type
from dossier.workflows.plan import NO_SOURCE, coverage_of, wanted_types
from dossier.workflows.reporter import reporter_for

log = logging.getLogger(__name__)

Outcome = dict[str, Any]


def _types_of(collector: Collector, workflow: str) -> list[str]:
    return sorted(t.value for t in collector.data_types & wanted_types(workflow))


@DBOS.step(name="dossier.collect", preemptible=True)
async def collect(
    session_id: str, workflow: str, name: str, identifiers: dict[str, str], expected_s: float
) -> Outcome:
    """Run one collector as its own durable step; never raises for a source failure."""
    metrics.STEPS_EXECUTED.inc(step="collect")
    rt = runtime.current()
    collector = rt.collectors.get(name)
    types = _types_of(collector, workflow)
    reporter = reporter_for(session_id, workflow, f"collect.{name}", expected_s=expected_s)
    await reporter.start(f"collecting from {name}", total=0, data_types=list[JsonValue](types))
    await restore_steering(session_id)
    requests_before = rt.http.requests
    status, error, result = "completed", None, None
    skip_types = frozenset(types)

    ctx = CollectContext(
        account_name=identifiers.get("name", ""),
        identifiers=identifiers,
        emit=reporter.emit,
        progress=reporter.progress,
        on_retry=reporter.retrying,
        skip_requested=lambda: rt.steering.should_skip(session_id, name, skip_types),
    )
    async with reporter.beating():
        try:
            result = await _run_with_skip(rt, collector, ctx, session_id, name, skip_types)
        except _Skipped:
            status = "skipped"
        except TimeoutError:
            status, error = "failed", f"timed out after {rt.settings.collector_timeout_s:g}s"
        except DossierError as exc:
            status, error = "failed", exc.message
        except Exception as exc:  # a collector bug must not sink the session
            log.exception("collector %s crashed", name)
            status, error = "failed", f"internal error in {name}: {type(exc).__name__}"
    findings = reporter.findings
    by_type = found_by_type(findings)
    if status == "completed":
        await reporter.complete(coverage=by_type, negative=bool(result and result.negative))
    elif status == "skipped":
        await reporter.skip("skipped on request", partial=bool(findings), coverage=by_type)
    else:
        await reporter.fail(error or "failed", coverage=by_type)
    return {
        "name": name,
        "data_types": types,
        "status": status,
        "error": error,
        "found": len(findings),
        "found_by_type": by_type,
        "findings": [f.model_dump(mode="json") for f in findings],
        "negative": bool(result and result.negative),
        "identifiers": dict(result.identifiers) if result else {},
        "requests": rt.http.requests - requests_before,
        "duration_ms": reporter.elapsed_ms,
    }


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


async def _run_with_skip(
    rt: runtime.Runtime,
    collector: Collector,
    ctx: CollectContext,
    session_id: str,
    name: str,
    types: frozenset[str],
) -> CollectResult:
    """The collector, bounded by the timeout, abandoned if the user skips it."""
    if rt.steering.should_skip(session_id, name, types):
        raise _Skipped
    async with asyncio.timeout(rt.settings.collector_timeout_s):
        work = asyncio.ensure_future(collector.collect(ctx))
        try:
            while True:
                done, _ = await asyncio.wait({work}, timeout=0.25)
                if done:
                    return work.result()
                if rt.steering.should_skip(session_id, name, types):
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
) -> dict[str, Any]:
    """Derive signals the sources imply (technologies named in job posts), merge what
    several sources said about one fact, and stream the analysis."""
    metrics.STEPS_EXECUTED.inc(step="analyze")
    rt = runtime.current()
    account = Account.model_validate_json(account_json)
    vendor = Vendor.model_validate_json(vendor_json)
    collected = [Finding.model_validate(f) for o in outcomes for f in o.get("findings", [])]
    missing = [
        DataType(t)
        for t, entry in coverage_of(wanted_types(workflow), outcomes, []).items()
        if isinstance(entry, dict) and entry.get("status") == "missing"
    ]
    reporter = reporter_for(session_id, workflow, "analyze", expected_s=1.0)
    await reporter.start("writing the analysis")
    domain = (identifiers or {}).get("domain") or account.domain or account.key
    derived = technologies_from_jobs(collected, domain=domain, observed_at=utcnow())
    for finding in derived:
        await reporter.emit(finding)
    await reporter.flush()
    findings = merge_findings([*collected, *derived])
    async with reporter.beating():
        result = await run_analysis(
            rt, session_id, workflow, account, vendor, findings, missing, vendor_text
        )
    result["derived"] = [f.model_dump(mode="json") for f in derived]
    if result.get("partial"):
        await reporter.fail(str(result.get("error") or "analysis incomplete"))
    else:
        await reporter.complete(provider=result.get("provider"))
    return result


@DBOS.step(name="dossier.cache_store")
async def cache_store(
    session_id: str,
    workflow: str,
    account_json: str,
    vendor_json: str,
    outcomes: list[Outcome],
    analysis: dict[str, Any],
    uncovered: dict[str, str],
) -> dict[str, Any]:
    """Store what was collected and the analysis; end the workflow on the log."""
    metrics.STEPS_EXECUTED.inc(step="cache_store")
    rt = runtime.current()
    account = Account.model_validate_json(account_json)
    vendor = Vendor.model_validate_json(vendor_json)
    reporter = reporter_for(session_id, workflow, "cache_store")
    await reporter.start("storing results")
    stored = 0
    for outcome in outcomes:
        if outcome.get("status") != "completed":
            continue  # failures and skips are not answers worth remembering
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
            },
        )
        stored += 1
    coverage = coverage_of(wanted_types(workflow), outcomes, uncovered)
    steered = any(o.get("status") == "skipped" for o in outcomes)
    if not analysis.get("partial") and not steered:
        # The analysis remembers which sources it stands on: a later session is served
        # from cache only while every one of those answers is still fresh.
        await rt.cache.put_analysis(
            workflow,
            account.key,
            vendor.hash,
            {
                **analysis,
                "coverage": coverage,
                "uncovered": dict(uncovered),
                "sources": [
                    {
                        "name": o["name"],
                        "status": o.get("status"),
                        "error": o.get("error"),
                        "data_types": o.get("data_types", []),
                    }
                    for o in outcomes
                ],
            },
        )
    await reporter.complete(stored=stored)
    found = len({f["id"] for o in outcomes for f in o.get("findings", [])})
    cached = bool(outcomes) and all(o.get("status") == "cached" for o in outcomes)
    summary: dict[str, JsonValue] = {
        "found": found,
        "coverage": coverage,
        "cached": cached,
        "cache_hits": sum(1 for o in outcomes if o.get("status") == "cached"),
        "requests": sum(int(o.get("requests", 0)) for o in outcomes),
        "saved_requests": sum(int(o.get("saved_requests", 0)) for o in outcomes),
        "saved_ms": sum(int(o.get("saved_ms", 0)) for o in outcomes),
        "failed": [str(o["name"]) for o in outcomes if o.get("status") == "failed"],
        "skipped": [str(o["name"]) for o in outcomes if o.get("status") == "skipped"],
    }
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
    """``session.completed``: the one terminal event of the session's stream."""
    metrics.STEPS_EXECUTED.inc(step="finish_session")
    rt = runtime.current()
    coverage: dict[str, JsonValue] = {}
    for kind in ("vendor_context", "customer_intelligence"):
        summary = summaries.get(kind) or {}
        if kind == "customer_intelligence" and isinstance(summary.get("coverage"), dict):
            coverage = summary["coverage"]
    missing: list[JsonValue] = [
        t for t, e in coverage.items() if isinstance(e, dict) and e.get("status") == "missing"
    ]
    partial = [
        t for t, e in coverage.items() if isinstance(e, dict) and e.get("status") == "partial"
    ]
    steering = rt.steering.of(session_id)
    if failed:
        status = SessionStatus.FAILED if len(failed) == 2 else SessionStatus.PARTIAL
    elif steering.cancelled:
        status = SessionStatus.CANCELLED
    elif partial or any(
        isinstance(e, dict) and e.get("status") == "missing" and e.get("reason") != NO_SOURCE
        for e in coverage.values()
    ):
        status = SessionStatus.PARTIAL
    else:
        status = SessionStatus.COMPLETED
    record = await rt.log.get_session(session_id)
    started = _parse_ts(record.created_at) if record else None
    data: dict[str, JsonValue] = {
        "status": status.value,
        "coverage": coverage,
        "missing": missing,
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
