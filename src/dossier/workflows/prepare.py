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

from pydantic import JsonValue

from dossier import metrics
from dossier.cache.store import Hit
from dossier.collectors.resolve import Lookup, Resolution, resolve
from dossier.core import keys
from dossier.core.coverage import Outcome, failed_words
from dossier.core.events import EventType, NewEvent
from dossier.core.ports import ProgressReport
from dossier.core.types import Account, DataType
from dossier.core.words import join_words, plural
from dossier.workflows import runtime
from dossier.workflows.announce import durable_step
from dossier.workflows.cached import cached_source_events
from dossier.workflows.plan import Plan, identifiers_for, make_plan, wanted_types
from dossier.workflows.reporter import StepReporter, reporter_for, step_event

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
    resolution: dict[str, Any] | None = None,
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
        resolution=resolution,
        account=account.name,
        lookup=lookup,
        labels=rt.collectors.labels,
    )
    await rt.log.append(session_id, _plan_events(workflow, plan))
    cached: list[Outcome] = []
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
            label=rt.collectors.get(source.name).label,
        )
        await rt.log.append(session_id, events)
        if source.action == "cached":
            outcome["data_types"] = source.data_types
            cached.append(outcome)
    return {"plan": plan.to_json(), "cached": cached}


def _plan_events(workflow: str, plan: Plan) -> list[NewEvent]:
    """The plan as a (quick) step on the log: which sources run, which are served from
    cache, and why the data types no source covers have none (the live coverage reads it)."""
    cached = sum(1 for s in plan.sources if s.action == "cached")
    running = len(plan.sources) - cached
    parts = [plural(running, "source") + " to ask"] if running else []
    parts += [f"{cached} from cache"] if cached else []
    parts += [f"nothing applies to {join_words(sorted(plan.uncovered))}"] if plan.uncovered else []
    data: dict[str, JsonValue] = {
        "message": "; ".join(parts) or "nothing to collect",
        "sources": [s.name for s in plan.sources],
        "uncovered": plan.to_json()["uncovered"],
        "duration_ms": 0,
        "found": 0,
    }
    return instant_step(workflow, "plan", {"message": "planning"}, data)


def _resolution_events(workflow: str, resolution: dict[str, JsonValue]) -> list[NewEvent]:
    """A cached resolution shown as a completed, cached ``resolve`` step."""
    data: dict[str, JsonValue] = {"cached": True, "duration_ms": 0, "found": 0, **resolution}
    return instant_step(workflow, "resolve", {"message": "from cache", "cached": True}, data)


def instant_step(
    workflow: str, step: str, started: dict[str, JsonValue], ended: dict[str, JsonValue]
) -> list[NewEvent]:
    """A step that is over as it starts (planned, served from cache): its two events, with
    the dedup keys the reporter uses, so a re-run says nothing twice."""
    return [
        step_event(EventType.STEP_STARTED, workflow, step, started),
        step_event(EventType.STEP_COMPLETED, workflow, step, ended),
    ]


@durable_step("dossier.cache_check")
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
                dedup=keys.workflow_started(workflow),
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
    boards = DataType.JOBS in wanted_types(workflow)
    hit = (
        None if refresh else await rt.cache.get_resolution(_resolution_key(account), boards=boards)
    )
    if hit is None or not isinstance(hit.payload, dict):
        await reporter.complete(message="not resolved yet", resolved=False)
        return {"plan": None}
    resolution = dict(hit.payload)
    await rt.log.append(session_id, _resolution_events(workflow, resolution))
    identifiers = {str(k): str(v) for k, v in _dict(resolution.get("identifiers")).items()}
    prepared = await _plan(
        session_id,
        workflow,
        account,
        {**identifiers, **identifiers_for(account)},
        refresh,
        True,
        resolution,
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


@durable_step("dossier.resolve", preemptible=True)
async def resolve_account(session_id: str, workflow: str, account_json: str) -> dict[str, Any]:
    """Name -> identifiers (SEC CIK/ticker, Wikidata, domain, job boards).

    The step ends ``failed`` when no lookup answered, ``completed`` with ``partial`` when
    some did not (saying which), and is cached only when every lookup answered: a
    resolution resting on a failure must not outlive the failure.
    """
    metrics.STEPS_EXECUTED.inc(step="resolve")
    rt = runtime.current()
    account = Account.model_validate_json(account_json)
    reporter: StepReporter = reporter_for(session_id, workflow, "resolve")
    # our own company's research does not look at jobs: no board probes for it
    boards = DataType.JOBS in wanted_types(workflow)
    await reporter.start(f"identifying {account.name}")

    async def progress(report: ProgressReport) -> None:
        await reporter.progress(report)

    async with reporter.beating():
        try:
            async with asyncio.timeout(rt.settings.collector_timeout_s):
                result = await resolve(
                    account.model_dump(mode="json"),
                    rt.http,
                    settings=rt.settings,
                    progress=progress,
                    on_retry=reporter.retrying,
                    boards=boards,
                )
        except TimeoutError:
            error = f"timed out after {rt.settings.collector_timeout_s:g}s"
            result = Resolution(
                identifiers=identifiers_for(account),
                notes=[f"resolution {error}"],
                lookups=[
                    Lookup("resolve", "company lookups", False, "timeout", error, identity=True)
                ],
            )
    resolution: dict[str, Any] = {
        "identifiers": dict(result.identifiers),
        "candidates": list(result.candidates),
        "notes": list(result.notes),
        "negatives": list(result.negatives),
        "lookups": [lookup.to_json() for lookup in result.lookups],
        "identified": result.identified,
    }
    failed = result.failed_lookups
    open_failures = result.open_failures
    message = _identity_words(account, result)
    if failed and len(failed) == len(result.lookups):
        cause = _common_cause(failed)
        await reporter.fail(
            f"couldn't look {account.name} up: {_lookup_words(failed)}",
            cause=cause,
            state="not_recorded" if cause == "not_recorded" else "failed",
            message=message,
            **resolution,
        )
    elif open_failures:
        # what a failed lookup would have told is still unknown: say so, and ask again
        # next time rather than remember a resolution that rests on the failure
        await reporter.complete(
            partial=True, error=_lookup_words(open_failures), message=message, **resolution
        )
    else:
        await rt.cache.put_resolution(_resolution_key(account), resolution, boards=boards)
        await reporter.complete(message=message, **resolution)
    return resolution


def _resolution_key(account: Account) -> str:
    """Who a name is depends on what else the user told: a domain given later (after
    "couldn't identify") must be looked up, not answered from the resolution without it."""
    return f"{account.key}@{account.domain}" if account.domain else account.key


def _lookup_words(failed: list[Lookup]) -> str:
    """Failed lookups in words, board probes counted rather than listed one by one."""
    by_cause: dict[str, list[str]] = {}
    probes: dict[str, int] = {}
    for lookup in failed:
        cause = lookup.cause or "internal"
        if lookup.name.startswith("board:"):
            probes[cause] = probes.get(cause, 0) + 1
        else:
            by_cause.setdefault(cause, []).append(lookup.label)
    for cause, n in probes.items():
        by_cause.setdefault(cause, []).append(plural(n, "job-board probe"))
    return "; ".join(failed_words(cause, labels) for cause, labels in by_cause.items())


def _common_cause(failed: list[Lookup]) -> str | None:
    causes = {lookup.cause for lookup in failed}
    return causes.pop() if len(causes) == 1 else None


def _identity_words(account: Account, result: Resolution) -> str:
    ids = result.identifiers
    known = [
        f"CIK {ids['cik']}" if ids.get("cik") else "",
        f"Wikidata {ids['wikidata']}" if ids.get("wikidata") else "",
        ids.get("domain", ""),
    ]
    if result.identified:
        return "identified: " + ", ".join(k for k in known if k)
    if result.open_failures:
        return f"couldn't look {account.name} up"
    return f"couldn't identify {account.name}: add its domain"


@durable_step("dossier.plan")
async def plan_sources(
    session_id: str,
    workflow: str,
    account_json: str,
    identifiers: dict[str, str],
    refresh: bool,
    resolution: dict[str, Any] | None = None,
) -> Prepared:
    metrics.STEPS_EXECUTED.inc(step="plan")
    account = Account.model_validate_json(account_json)
    merged = {**identifiers, **identifiers_for(account)}
    return await _plan(session_id, workflow, account, merged, refresh, True, resolution)
