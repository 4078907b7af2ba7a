"""The steps before collection: ``cache_check``, then (if needed) ``resolve`` and ``plan``.

``cache_check`` starts the workflow on the log and looks for a fresh resolution of the
account; with one, it plans right away (a fresh source becomes a cached, completed
collect step; a stale one is served now and revalidated). Without one, ``resolve`` turns
the name into identifiers (SEC, Wikidata, domain, job boards: each answer or "no board"
is cached), then ``plan`` does the same planning.
"""

from __future__ import annotations

import asyncio
from typing import Any

from dbos import DBOS
from pydantic import JsonValue

from dossier import metrics
from dossier.cache.store import Hit
from dossier.collectors.resolve import Resolution, resolve
from dossier.core.events import EventType, NewEvent
from dossier.core.ports import ProgressReport
from dossier.core.types import Account
from dossier.workflows import runtime
from dossier.workflows.cached import cached_source_events
from dossier.workflows.plan import identifiers_for, make_plan, wanted_types
from dossier.workflows.reporter import StepReporter, reporter_for

Prepared = dict[str, Any]


def _expected_s(hit: Hit | None) -> float | None:
    """How long this source took last time: the ETA before it reports progress."""
    payload = hit.payload if hit is not None else None
    duration = payload.get("duration_ms") if isinstance(payload, dict) else None
    if isinstance(duration, (int, float)):
        return max(0.5, float(duration) / 1000.0)
    return None


async def _plan(
    session_id: str,
    workflow: str,
    account: Account,
    identifiers: dict[str, str],
    refresh: bool,
    lookup: bool,
    negatives: list[str] | None = None,
) -> Prepared:
    """Which collectors run, which are served from cache; cached findings go out now."""
    rt = runtime.current()
    wanted = wanted_types(workflow)
    collectors = [
        c for c in rt.collectors.for_data_types(wanted) if lookup and c.applicable(identifiers)
    ]
    hits = {
        c.name: await rt.cache.get_source(c.data_types, account.key, c.name) for c in collectors
    }
    plan = make_plan(
        identifiers,
        collectors,
        hits,
        wanted=wanted,
        refresh=refresh,
        expected_s={n: e for n, h in hits.items() if (e := _expected_s(h)) is not None},
        negatives=negatives or (),
    )
    cached: list[dict[str, Any]] = []
    for source in plan.sources:
        hit = hits.get(source.name)
        if hit is None or source.action == "run":
            continue
        events, outcome = cached_source_events(
            workflow,
            source.name,
            hit,
            announce=source.action == "cached",
            data_types=source.data_types,
        )
        await rt.log.append(session_id, events)
        if source.action == "cached":
            outcome["data_types"] = source.data_types
            cached.append(outcome)
    return {"plan": plan.to_json(), "cached": cached}


def _resolution_events(workflow: str, resolution: dict[str, JsonValue]) -> list[NewEvent]:
    """A cached resolution shown as a completed, cached ``resolve`` step."""
    data: dict[str, JsonValue] = {"cached": True, "duration_ms": 0, "found": 0, **resolution}
    return [
        NewEvent(
            type=EventType.STEP_STARTED,
            data={"message": "from cache", "cached": True},
            workflow=workflow,
            step="resolve",
            dedup=f"{workflow}:resolve:started",
        ),
        NewEvent(
            type=EventType.STEP_COMPLETED,
            data=data,
            workflow=workflow,
            step="resolve",
            dedup=f"{workflow}:resolve:end",
        ),
    ]


@DBOS.step(name="dossier.cache_check")
async def cache_check(
    session_id: str,
    workflow: str,
    workflow_id: str,
    account_json: str,
    refresh: bool,
    lookup: bool = True,
) -> Prepared:
    """Start the workflow on the log; plan from a cached resolution if there is one.

    Returns ``{"plan": …, "cached": [...]}``, or ``{"plan": None}`` when the account must
    be resolved first.
    """
    metrics.STEPS_EXECUTED.inc(step="cache_check")
    rt = runtime.current()
    account = Account.model_validate_json(account_json)
    await rt.log.append(
        session_id,
        [
            NewEvent(
                type=EventType.WORKFLOW_STARTED,
                data={"workflow_id": workflow_id, "account": account.name, "refresh": refresh},
                workflow=workflow,
                dedup=f"{workflow}:started",
            )
        ],
    )
    reporter = reporter_for(session_id, workflow, "cache_check")
    await reporter.start("checking the cache")
    if not lookup:
        prepared = await _plan(
            session_id, workflow, account, {"name": account.name}, refresh, False
        )
        await reporter.complete(message="nothing to look up")
        return prepared
    hit = None if refresh else await rt.cache.get_resolution(account.key)
    if hit is None or not isinstance(hit.payload, dict):
        await reporter.complete(message="not resolved yet", resolved=False)
        return {"plan": None}
    resolution = dict(hit.payload)
    await rt.log.append(session_id, _resolution_events(workflow, resolution))
    identifiers = {str(k): str(v) for k, v in _dict(resolution.get("identifiers")).items()}
    raw_negatives = resolution.get("negatives")
    negatives = (
        [n for n in raw_negatives if isinstance(n, str)] if isinstance(raw_negatives, list) else []
    )
    prepared = await _plan(
        session_id,
        workflow,
        account,
        {**identifiers, **identifiers_for(account)},
        refresh,
        True,
        negatives,
    )
    cached_count = len(prepared["cached"])
    to_run = [s["name"] for s in prepared["plan"]["sources"] if s["action"] != "cached"]
    await reporter.complete(
        cached=not to_run,
        resolved=True,
        message=f"{cached_count} cached, {len(to_run)} to collect",
    )
    return prepared


def _dict(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


@DBOS.step(name="dossier.resolve", preemptible=True)
async def resolve_account(session_id: str, workflow: str, account_json: str) -> dict[str, Any]:
    """Name -> identifiers (SEC CIK/ticker, Wikidata, domain, job boards); cached."""
    metrics.STEPS_EXECUTED.inc(step="resolve")
    rt = runtime.current()
    account = Account.model_validate_json(account_json)
    reporter: StepReporter = reporter_for(session_id, workflow, "resolve", expected_s=3.0)
    await reporter.start(f"identifying {account.name}")

    async def progress(report: ProgressReport) -> None:
        await reporter.progress(report)

    timed_out = False
    async with reporter.beating():
        try:
            async with asyncio.timeout(rt.settings.collector_timeout_s):
                result = await resolve(
                    account.model_dump(mode="json"),
                    rt.http,
                    settings=rt.settings,
                    progress=progress,
                    on_retry=reporter.retrying,
                )
        except TimeoutError:
            timed_out = True
            result = Resolution(
                identifiers=identifiers_for(account),
                notes=[f"resolution timed out after {rt.settings.collector_timeout_s:g}s"],
            )
    resolution: dict[str, JsonValue] = {
        "identifiers": dict(result.identifiers),
        "candidates": list(result.candidates),
        "notes": list(result.notes),
        "negatives": list(result.negatives),
    }
    if timed_out:  # not an answer worth remembering: the next run resolves again
        await reporter.fail(str(result.notes[0]), resolution=resolution)
    else:
        await rt.cache.put_resolution(account.key, resolution)
        await reporter.complete(
            identifiers=resolution["identifiers"],
            candidates=resolution["candidates"],
            notes=resolution["notes"],
            negatives=resolution["negatives"],
        )
    return resolution


@DBOS.step(name="dossier.plan")
async def plan_sources(
    session_id: str,
    workflow: str,
    account_json: str,
    identifiers: dict[str, str],
    refresh: bool,
    negatives: list[str] | None = None,
) -> Prepared:
    metrics.STEPS_EXECUTED.inc(step="plan")
    account = Account.model_validate_json(account_json)
    merged = {**identifiers, **identifiers_for(account)}
    return await _plan(session_id, workflow, account, merged, refresh, True, negatives)
