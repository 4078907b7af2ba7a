"""Coverage in one vocabulary: states, reasons in words, verdicts and hints (pure)."""

from __future__ import annotations

from typing import Any

from dossier.core.coverage import (
    CoverageState,
    Gap,
    Outcome,
    build_coverage,
    live_coverage,
    type_entry,
)
from dossier.core.types import DataType
from dossier.core.verdict import NETWORK_HINT, SessionVerdict, hint_of, missing_of, verdict

LABELS = {"greenhouse": "Greenhouse", "lever": "Lever", "sec_edgar": "SEC EDGAR", "hn": "HN"}


def outcome(name: str, status: str, types: list[str], found: int = 0, **extra: Any) -> Outcome:
    kind = {"jobs": "job_posting", "news": "news_article", "funding": "filing"}[types[0]]
    findings = [{"id": f"{name}-{i}", "kind": kind} for i in range(found)]
    answer = Outcome(
        name=name,
        status=status,
        data_types=types,
        found_by_type={types[0]: found} if found else {},
        found_by_kind={kind: found} if found else {},
        findings=findings,
    )
    answer.update(extra)  # type: ignore[typeddict-item]  # tests name any field
    return answer


def test_found_counts_distinct_findings_and_names_what_did_not_answer() -> None:
    entry = type_entry(
        "jobs",
        [
            outcome("greenhouse", "completed", ["jobs"], 1),
            outcome("lever", "failed", ["jobs"], cause="network"),
        ],
        None,
        LABELS,
    )
    assert entry["state"] == "found" and entry["found"] == 1 and entry["complete"] is False
    assert entry["reason"] == "1 open role; could not reach Lever (network)"
    assert entry["sources"] == {
        "greenhouse": {"state": "found", "found": 1},
        "lever": {
            "state": "failed",
            "found": 0,
            "reason": "could not reach Lever (network)",
            "cause": "network",
        },
    }


def test_none_found_needs_every_source_to_have_answered() -> None:
    answered = type_entry("funding", [outcome("sec_edgar", "completed", ["funding"])], None, LABELS)
    assert answered["state"] == "none_found" and answered["complete"] is True
    assert answered["reason"] == "SEC EDGAR lists no funding rounds or filings"
    unrecorded = type_entry(
        "funding",
        [outcome("sec_edgar", "failed", ["funding"], cause="not_recorded")],
        None,
        LABELS,
    )
    assert unrecorded["state"] == "not_recorded"
    assert unrecorded["reason"] == "SEC EDGAR not in this demo's recordings"


def test_failures_are_grouped_by_cause_and_a_skip_says_it_was_asked_for() -> None:
    entry = type_entry(
        "jobs",
        [
            outcome("greenhouse", "failed", ["jobs"], cause="network"),
            outcome("lever", "failed", ["jobs"], cause="network"),
        ],
        None,
        LABELS,
    )
    assert entry["reason"] == "could not reach Greenhouse and Lever (network)"
    skipped = type_entry(
        "news",
        [outcome("hn", "skipped", ["news"], skipped_at="2026-12-06T10:00:00Z")],
        None,
        LABELS,
    )
    assert skipped["state"] == "skipped"
    sources = skipped["sources"]
    assert isinstance(sources, dict) and sources["hn"] == {
        "state": "skipped",
        "found": 0,
        "reason": "HN skipped at your request",
        "at": "2026-12-06T10:00:00Z",
    }


def test_a_data_type_no_source_covers_takes_its_gap() -> None:
    gap = Gap(state="unresolved", reason="couldn't identify Acme: add its domain")
    coverage = build_coverage([DataType.TECH], [], {"tech": gap}, LABELS)
    assert coverage["tech"] == {
        "found": 0,
        "sources": {},
        "state": "unresolved",
        "reason": "couldn't identify Acme: add its domain",
        "complete": False,
    }


def test_verdicts() -> None:
    settled = {"jobs": {"state": "found"}, "funding": {"state": "not_applicable"}}
    assert verdict(settled, answered=True, complete_sources=True) is SessionVerdict.COMPLETED
    assert verdict(settled, answered=True, complete_sources=False) is SessionVerdict.PARTIAL
    gaps = {**settled, "news": {"state": "skipped"}}
    assert verdict(gaps, answered=True, complete_sources=True) is SessionVerdict.PARTIAL
    assert verdict(gaps, answered=False, complete_sources=False) is SessionVerdict.FAILED


def test_the_network_hint_only_when_nothing_answered_and_every_failure_was_network() -> None:
    failed = {"jobs": {"state": "failed"}}
    assert hint_of("failed", failed, ["network"], account="Acme") == NETWORK_HINT
    assert hint_of("failed", failed, ["network", "http"], account="Acme") is None
    assert hint_of("partial", failed, ["network"], account="Acme") is None
    unresolved = {"tech": {"state": "unresolved"}}
    said = hint_of("partial", unresolved, [], account="Acme")
    assert said is not None and "add its domain" in said
    demo = hint_of(
        "partial",
        {"jobs": {"state": "not_recorded"}},
        [],
        account="Acme",
        demo_accounts=["Stripe", "NVIDIA"],
    )
    assert demo == "This demo has no recordings for Acme: try Stripe or NVIDIA."


def test_missing_lists_unsettled_types_and_the_silent_sources_of_found_ones() -> None:
    coverage = build_coverage(
        [DataType.JOBS, DataType.FUNDING],
        [
            outcome("greenhouse", "completed", ["jobs"], 2),
            outcome("lever", "failed", ["jobs"], cause="not_recorded"),
            outcome("sec_edgar", "failed", ["funding"], cause="network"),
        ],
        {},
        LABELS,
    )
    assert missing_of(coverage) == [
        {
            "data_type": "funding",
            "state": "failed",
            "reason": "could not reach SEC EDGAR (network)",
            "sources": ["sec_edgar"],
        },
        {
            "data_type": "jobs",
            "state": "not_recorded",
            "reason": "Lever not in this demo's recordings",
            "sources": ["lever"],
        },
    ]


def test_live_coverage_leaves_out_what_is_still_being_collected() -> None:
    steps: list[tuple[str, str, dict[str, Any]]] = [
        (
            "collect.greenhouse",
            "completed",
            {
                "data_types": ["jobs"],
                "coverage": {"jobs": 2},
                "label": "Greenhouse",
                "state": "found",
            },
        ),
        ("collect.hn", "running", {"data_types": ["news"], "label": "HN"}),
        (
            "collect.sec_edgar",
            "failed",
            {
                "data_types": ["funding"],
                "cause": "network",
                "label": "SEC EDGAR",
                "state": "failed",
            },
        ),
    ]
    gaps = {"tech": {"state": "unresolved", "reason": "couldn't identify Acme"}}
    live = live_coverage(steps, gaps)
    assert set(live) == {"jobs", "funding", "tech"}  # news is pending
    funding, tech = live["funding"], live["tech"]
    assert isinstance(funding, dict) and isinstance(tech, dict)
    assert funding["reason"] == "could not reach SEC EDGAR (network)"
    assert tech["state"] == CoverageState.UNRESOLVED
