"""Rendering cached results as the events a live run would have logged.

Used by ``cache_check`` (a source fresh in cache becomes a completed, cached collect step)
and by the engine's fast path: when every source and both analyses of an account are
fresh, a new session is written in one batch and is complete at once (``cached: true``).
"""

from __future__ import annotations

from typing import Any

from pydantic import JsonValue

from dossier.cache.store import Freshness, Hit, ResearchCache, findings_of
from dossier.core import keys
from dossier.core.coverage import Outcome
from dossier.core.events import EventType, NewEvent
from dossier.core.ports import Collector
from dossier.core.types import Account, Finding, Vendor
from dossier.core.words import age_words
from dossier.workflows.reporter import finding_event, step_event


def found_by_type(findings: list[Finding]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.data_type.value] = counts.get(finding.data_type.value, 0) + 1
    return counts


def found_by_kind(findings: list[Finding]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.kind.value] = counts.get(finding.kind.value, 0) + 1
    return counts


def cached_source_events(
    workflow: str,
    name: str,
    hit: Hit,
    *,
    announce: bool,
    data_types: list[str] | None = None,
    label: str | None = None,
) -> tuple[list[NewEvent], Outcome]:
    """Events of one source served from cache, and its outcome for coverage/analysis.

    ``announce``: a fresh hit is a whole (cached) step; a stale one only contributes its
    findings now, the collector then revalidates under the same step name.
    """
    step = f"collect.{name}"
    findings = findings_of(hit)
    meta = hit.payload if isinstance(hit.payload, dict) else {}
    events: list[NewEvent] = []
    if announce:
        events.append(
            step_event(
                EventType.STEP_STARTED,
                workflow,
                step,
                {
                    "message": "from cache",
                    "cached": True,
                    "done": 0,
                    "total": 0,
                    "found": 0,
                    "data_types": list[JsonValue](data_types or []),
                    "label": label or name,
                },
            )
        )
    for finding in findings:
        events.append(finding_event(finding, workflow, step))
    by_type = found_by_type(findings)
    saved_requests = meta.get("requests", 0)
    saved_ms = meta.get("duration_ms", 0)
    if announce:
        done: dict[str, JsonValue] = {
            "cached": True,
            "duration_ms": 0,
            "found": len(findings),
            "age_s": round(hit.age_s, 1),
            "negative": hit.negative,
            "coverage": dict(by_type),
            "saved_requests": saved_requests,
            "saved_ms": saved_ms,
            "state": "found" if findings else "none_found",
            "message": f"from cache, {age_words(hit.age_s)} old",
        }
        events.append(step_event(EventType.STEP_COMPLETED, workflow, step, done))
    note = meta.get("note")
    outcome: Outcome = {
        "name": name,
        "status": "cached",
        "note": note if isinstance(note, str) and not findings else None,
        "age_s": round(hit.age_s, 1),
        "found": len(findings),
        "found_by_type": by_type,
        "found_by_kind": found_by_kind(findings),
        "findings": [f.model_dump(mode="json") for f in findings],
        "negative": hit.negative,
        "saved_requests": saved_requests if isinstance(saved_requests, int) else 0,
        "saved_ms": saved_ms if isinstance(saved_ms, int) else 0,
    }
    return events, outcome


def cached_analysis_events(workflow: str, analysis: dict[str, Any]) -> list[NewEvent]:
    """A cached analysis, replayed as one delta (it needs no token-by-token drama)."""

    def ev(etype: str, data: dict[str, JsonValue], key: str) -> NewEvent:
        return NewEvent(
            type=etype,
            data=data,
            workflow=workflow,
            step="analyze",
            dedup=keys.analysis(workflow, key),
        )

    events = [
        ev(
            EventType.ANALYSIS_STARTED,
            {"provider": analysis.get("provider"), "cached": True},
            "started",
        )
    ]
    if analysis.get("text"):
        events.append(ev(EventType.ANALYSIS_DELTA, {"text": analysis["text"]}, "cached-text"))
    for i, citation in enumerate(analysis.get("citations") or []):
        events.append(ev(EventType.ANALYSIS_CITATION, citation, f"cached-cite-{i}"))
    shown = {
        k: v
        for k, v in analysis.items()
        if k in ("text", "citations", "provider", "partial", "error")
    }
    events.append(ev(EventType.ANALYSIS_COMPLETED, {**shown, "cached": True}, "completed"))
    return events


async def fresh_hits(
    cache: ResearchCache, collectors: list[Collector], account: Account
) -> dict[str, Hit] | None:
    """Every applicable source fresh in cache, or None."""
    hits: dict[str, Hit] = {}
    for collector in collectors:
        hit = await cache.get_source(collector.data_types, account.key, collector.name)
        if hit is None or hit.freshness != Freshness.FRESH:
            return None
        hits[collector.name] = hit
    return hits


async def fresh_analysis(
    cache: ResearchCache, workflow: str, account: Account, vendor: Vendor
) -> Hit | None:
    hit = await cache.get_analysis(workflow, account.key, vendor.hash)
    if hit is None or hit.freshness != Freshness.FRESH or not isinstance(hit.payload, dict):
        return None
    return hit
