"""A workflow's outcome: the coverage of what its sources answered, and its verdict.

Pure helpers over the collect steps' outcomes (dicts: they cross the durable-step
boundary), used by ``cache_store`` at the end of a run and by the engine when it renders
a session from cache, so both say the same thing.
"""

from __future__ import annotations

from typing import Any

from pydantic import JsonValue

from dossier.core.coverage import ANSWERED, Gap, Outcome, answered_fully, build_coverage
from dossier.core.types import NEWS_SIGNALS_SOURCE, Finding
from dossier.core.verdict import causes_of, hint_of, missing_of, verdict
from dossier.workflows.cached import found_by_kind, found_by_type
from dossier.workflows.plan import wanted_types

__all__ = ["Outcome", "coverage_of", "derived_outcomes", "workflow_summary"]


DERIVED_SOURCE = "job_posts"  # technologies named in job posts
NEWS_SIGNALS = NEWS_SIGNALS_SOURCE  # rounds, valuations and executive changes read from news


def derived_outcomes(derived: list[Finding]) -> list[Outcome]:
    """Signals read from other findings, each reader as the answer of a source of its own
    (so coverage counts them like the findings the page shows): technologies from job
    posts, funding and executive changes from news."""
    from_news = [f for f in derived if f.source == NEWS_SIGNALS]
    from_jobs = [f for f in derived if f.source != NEWS_SIGNALS]
    out = [_derived(DERIVED_SOURCE, from_jobs)]
    if from_news:
        out.append(_derived(NEWS_SIGNALS, from_news))
    return out


def _derived(name: str, findings: list[Finding]) -> Outcome:
    # a headline restating a primary round carries its id: coverage counts ids, so the
    # round is counted once, with both sources named
    return {
        "name": name,
        "data_types": sorted({f.data_type.value for f in findings}),
        "status": "completed",
        "found": len(findings),
        "found_by_type": found_by_type(findings),
        "found_by_kind": found_by_kind(findings),
        "findings": [f.model_dump(mode="json") for f in findings],
    }


DERIVED_LABEL = {DERIVED_SOURCE: "their job posts", NEWS_SIGNALS: "news headlines"}
DERIVED_SOURCES = frozenset(DERIVED_LABEL)


def coverage_of(
    workflow: str, outcomes: list[Outcome], uncovered: dict[str, Gap], labels: dict[str, str]
) -> dict[str, JsonValue]:
    """The workflow's coverage (``labels``: the collectors' names for people)."""
    return build_coverage(wanted_types(workflow), outcomes, uncovered, {**labels, **DERIVED_LABEL})


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
    asked = [o for o in outcomes if o.get("name") not in DERIVED_SOURCES]
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
