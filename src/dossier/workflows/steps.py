"""The durable steps after collection: vendor_summary, analyze, cache_store, finish.

Steps hold every nondeterministic thing (I/O, clock); their names are part of the durable
contract (recovery replays by name). The ``collect`` step lives in ``collect.py``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from dbos import DBOS

from dossier import metrics
from dossier.collectors.normalize import merge_findings
from dossier.collectors.parsing import parse_datetime
from dossier.collectors.replay import demo_accounts
from dossier.collectors.tech_terms import technologies_from_jobs
from dossier.collectors.text_signals import signals_from_news
from dossier.core import keys
from dossier.core.coverage import Gap, notes_of
from dossier.core.events import EventType, NewEvent
from dossier.core.records import WorkflowKind
from dossier.core.session_end import SessionEnd
from dossier.core.states import SessionStatus
from dossier.core.types import Account, Finding, Vendor, utcnow
from dossier.core.verdict import SessionVerdict
from dossier.workflows import runtime
from dossier.workflows.analysis import run_analysis
from dossier.workflows.announce import durable_step, end_events
from dossier.workflows.outcome import Outcome, coverage_of, derived_outcomes, workflow_summary
from dossier.workflows.reporter import reporter_for

log = logging.getLogger(__name__)


@DBOS.step(name="dossier.vendor_summary")
async def vendor_summary(session_id: str) -> str | None:
    """The vendor analysis text so far (the customer analysis links to it)."""
    metrics.STEPS_EXECUTED.inc(step="vendor_summary")
    rt = runtime.current()
    text: list[str] = []
    after = 0
    while True:
        events = await rt.log.read_after(
            session_id, after, limit=1000, workflow=WorkflowKind.VENDOR_CONTEXT
        )
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


@durable_step("dossier.analyze")
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
    """Derive signals the sources imply (technologies named in job posts; rounds,
    valuations and executive changes in news), merge what
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
    derived = [
        *technologies_from_jobs(collected, domain=domain, observed_at=utcnow()),
        *signals_from_news(collected, observed_at=utcnow()),
    ]
    for finding in derived:
        await reporter.emit(finding)
    await reporter.flush()
    coverage = coverage_of(
        workflow, [*outcomes, *derived_outcomes(derived)], uncovered or {}, rt.collectors.labels
    )
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


@durable_step("dossier.cache_store")
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
    everything = [*outcomes, *derived_outcomes(derived)]
    coverage = coverage_of(workflow, everything, uncovered, rt.collectors.labels)
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
                    {"name": o["name"], "status": o["status"], "data_types": list(o["data_types"])}
                    for o in outcomes
                ],
            },
        )
    await reporter.complete(stored=stored)
    await end_events(
        rt.log,
        session_id,
        [
            NewEvent(
                type=EventType.WORKFLOW_COMPLETED,
                data=summary,
                workflow=workflow,
                dedup=keys.workflow_end(workflow),
            )
        ],
    )
    return summary


@durable_step("dossier.finish_session")
async def finish_session(
    session_id: str, summaries: dict[str, dict[str, Any]], failed: list[str]
) -> dict[str, Any]:
    """``session.completed``: the one terminal event of the session's stream.

    The session's status is the account's: the Customer Intelligence workflow's verdict
    (our own company's research has its own status on its workflow).
    """
    metrics.STEPS_EXECUTED.inc(step="finish_session")
    rt = runtime.current()
    customer = summaries.get(WorkflowKind.CUSTOMER_INTELLIGENCE) or {}
    record = await rt.log.get_session(session_id)
    if record is not None and record.status == SessionStatus.CANCELLED:
        status = SessionStatus.CANCELLED  # (its end is logged already; this one is a no-op)
    elif WorkflowKind.CUSTOMER_INTELLIGENCE in failed:
        status = SessionStatus.FAILED
    elif failed:
        status = SessionStatus.PARTIAL
    else:
        status = SessionStatus(str(customer.get("verdict") or SessionStatus.PARTIAL.value))
    started = _parse_ts(record.created_at) if record else None
    end = SessionEnd.of_workflows(
        status,
        summaries,
        failed=failed,
        duration_ms=int((time.time() - started) * 1000) if started else None,
    )
    ends = [
        NewEvent(
            type=EventType.WORKFLOW_FAILED,
            data={"error": "the workflow stopped on an internal error"},
            workflow=kind,
            dedup=keys.workflow_end(kind),
        )
        for kind in failed
    ]
    ends.append(end.event())
    await end_events(rt.log, session_id, ends)
    await rt.log.set_status(session_id, status)
    return end.data()


def _parse_ts(value: str) -> float | None:
    parsed = parse_datetime(value)
    return parsed.timestamp() if parsed else None
