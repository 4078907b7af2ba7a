"""Coverage: what the research knows about each data type, and why, in one vocabulary.

Every status word a seller reads (snapshot, events, page, CLI, chat, export) is rendered
from the states here, never from a template that assumes what happened: "none found" and
"could not reach" lead to opposite actions. Inputs are the collect steps' outcomes (one
per source) and, for data types no source could be asked about, a :class:`Gap` saying
why (the company was not identified, a lookup failed, nothing applies). Pure functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Required, TypedDict

from pydantic import JsonValue

from dossier.core.coverage_words import (
    DATA_TYPE_WORDS,
    FAILED,
    NONE_FOUND,
    NOUNS,
    SKIPPED_REASON,
    STATE_WORDS,
    count_words,
    failed_words,
)
from dossier.core.types import DATA_TYPE_OF_KIND, DataType, FindingKind
from dossier.core.words import join_words, plural

__all__ = [
    "DATA_TYPE_WORDS",
    "FAILED",
    "NONE_FOUND",
    "NOUNS",
    "SKIPPED_REASON",
    "STATE_WORDS",
    "count_words",
    "failed_words",
]


class CoverageState(StrEnum):
    """The state of one data type (or of one source for it)."""

    FOUND = "found"  # findings exist
    NONE_FOUND = "none_found"  # every applicable source answered and had nothing
    FAILED = "failed"  # a source could not be reached or answered garbage
    SKIPPED = "skipped"  # the user skipped it
    NOT_RECORDED = "not_recorded"  # replay mode: no recording for a request it needed
    UNRESOLVED = "unresolved"  # the company was not identified well enough to ask
    NOT_APPLICABLE = "not_applicable"  # no source applies, and that is known


class FailureCause(StrEnum):
    """Why a source did not answer (``errors.py``'s ``cause`` of each source error)."""

    NETWORK = "network"
    TIMEOUT = "timeout"
    HTTP = "http"
    RATE_LIMITED = "rate_limited"
    GARBAGE = "garbage"
    BLOCKED = "blocked"
    NOT_RECORDED = "not_recorded"
    INTERNAL = "internal"
    SKIPPED = "skipped"  # not a failure: the user stopped or skipped it (``errors.Stopped``)


# States in which a data type needs nothing more: the research answered it.
SETTLED = frozenset({CoverageState.FOUND, CoverageState.NONE_FOUND, CoverageState.NOT_APPLICABLE})
# When sources of one type did not answer for different reasons, the one said is the
# first of these: the user's own choice, then what can be fixed by retrying, then replay.
_UNANSWERED_ORDER = (CoverageState.SKIPPED, CoverageState.FAILED, CoverageState.NOT_RECORDED)


class Gap(TypedDict):
    """Why no source could be asked about a data type."""

    state: str
    reason: str


class Outcome(TypedDict, total=False):
    """What one source answered in a workflow: a collect step's return value, a cached
    answer served as a step, or a running step as the live snapshot sees it. Plain JSON,
    since it crosses DBOS's durable-step boundary."""

    name: Required[str]
    status: Required[str]  # "completed" | "cached" | "failed" | "skipped"
    data_types: list[str]
    cause: str | None  # a FailureCause value
    error: str | None
    note: str | None  # the source's own words when it found nothing ("no Lever board 'x'")
    failures: list[dict[str, str]]  # requests that failed inside an answered step
    found: int
    found_by_type: dict[str, Any]
    found_by_kind: dict[str, Any]
    findings: list[dict[str, Any]]  # Finding.model_dump(mode="json")
    negative: bool  # the source answered "not here" (no such board, no filer)
    identifiers: dict[str, str]  # identifiers the source learnt (a board's company name)
    requests: int
    duration_ms: int
    skipped_at: str | None
    age_s: float  # cached: how old the answer is
    saved_requests: int
    saved_ms: int


ANSWERED = frozenset({"completed", "cached"})


@dataclass(frozen=True)
class CoverageNote:
    """What an analyst is told about one data type: its state (None while it is still
    being collected) and the reason in words."""

    state: CoverageState | None
    reason: str = ""
    found: int = 0


def notes_of(coverage: Mapping[str, Any]) -> dict[str, CoverageNote]:
    """Coverage entries (JSON) as notes for an analyst."""
    out: dict[str, CoverageNote] = {}
    for data_type, entry in coverage.items():
        if isinstance(entry, dict):
            out[data_type] = CoverageNote(
                state_of(entry), str(entry.get("reason") or ""), _int(entry.get("found"))
            )
    return out


def cause_of(error: BaseException) -> FailureCause:
    """The failure cause of an exception (a source error's ``cause``; a parse error is an
    unreadable answer; anything else is ours)."""
    try:
        return FailureCause(str(getattr(error, "cause", "")))
    except ValueError:
        return FailureCause.GARBAGE if isinstance(error, ValueError) else FailureCause.INTERNAL


@dataclass(frozen=True)
class RequestFailure:
    """One request of a source that failed while the source as a whole still answered."""

    cause: FailureCause
    error: str

    @classmethod
    def of(cls, error: BaseException, what: str = "") -> RequestFailure:
        message = str(getattr(error, "message", "") or error)
        return cls(cause_of(error), f"{what}: {message}" if what else message)

    def to_json(self) -> dict[str, str]:
        return {"cause": self.cause.value, "error": self.error}


def gap_state(outcome: Outcome) -> CoverageState | None:
    """What a source left unanswered: None when it answered every request it made."""
    status = outcome.get("status")
    if status == "skipped":
        return CoverageState.SKIPPED
    if status in ANSWERED:
        failures = [f for f in outcome.get("failures") or [] if isinstance(f, dict)]
        if not failures:
            return None
        causes = {str(f.get("cause")) for f in failures}
        return (
            CoverageState.NOT_RECORDED
            if causes == {FailureCause.NOT_RECORDED.value}
            else CoverageState.FAILED
        )
    if outcome.get("cause") == FailureCause.NOT_RECORDED:
        return CoverageState.NOT_RECORDED
    return CoverageState.FAILED


def source_state(outcome: Outcome, data_type: str) -> CoverageState:
    """One source's state for one data type: found if it found any, else what happened."""
    if _int(obj(outcome.get("found_by_type")).get(data_type)):
        return CoverageState.FOUND
    return gap_state(outcome) or CoverageState.NONE_FOUND


def answered_fully(outcome: Outcome) -> bool:
    """The source answered every request it made."""
    return gap_state(outcome) is None


def _cause_of_gap(outcome: Outcome) -> str:
    if outcome.get("status") in ANSWERED:
        failures = [f for f in outcome.get("failures") or [] if isinstance(f, dict)]
        return str(failures[0].get("cause") or FailureCause.INTERNAL) if failures else ""
    return str(outcome.get("cause") or FailureCause.INTERNAL)


def _gap_words(outcome: Outcome, gap: CoverageState, label: str) -> str:
    """Why one source left something unanswered, in words."""
    if gap is CoverageState.SKIPPED:
        return f"{label} {SKIPPED_REASON}"
    if outcome.get("status") in ANSWERED:
        failures = [f for f in outcome.get("failures") or [] if isinstance(f, dict)]
        return f"{plural(len(failures), 'request')} of {label} failed: " + "; ".join(
            str(f.get("error") or f.get("cause")) for f in failures[:3]
        )
    return failed_words(_cause_of_gap(outcome), [label])


def _source_entry(outcome: Outcome, data_type: str, label: str) -> dict[str, JsonValue]:
    count = _int(obj(outcome.get("found_by_type")).get(data_type))
    state = source_state(outcome, data_type)
    gap = gap_state(outcome)
    entry: dict[str, JsonValue] = {"state": state.value, "found": count}
    if state is CoverageState.NONE_FOUND:
        note = outcome.get("note")
        entry["reason"] = str(note) if note else NONE_FOUND[data_type].format(sources=label)
    elif gap is not None:
        entry["reason"] = _gap_words(outcome, gap, label)
        if state is CoverageState.FOUND:
            entry["gap"] = gap.value  # found some, but not all it asked for
        if gap is not CoverageState.SKIPPED:
            entry["cause"] = _cause_of_gap(outcome)
        elif outcome.get("skipped_at"):
            entry["at"] = outcome.get("skipped_at")
    return entry


def type_entry(
    data_type: str,
    outcomes: Sequence[Outcome],
    gap: Gap | None,
    labels: Mapping[str, str],
) -> dict[str, JsonValue]:
    """``{state, found, complete, sources: {name: {state, found, reason?}}, reason?}``."""
    mine = [o for o in outcomes if data_type in (o.get("data_types") or [])]
    sources: dict[str, JsonValue] = {}
    gaps_by_state: dict[CoverageState, list[Outcome]] = {}
    summed = 0
    by_kind: dict[str, int] = {}
    # One fact from two sources is one finding (as the snapshot shows it): count ids.
    ids_by_kind: dict[str, set[str]] = {}
    for outcome in mine:
        name = str(outcome.get("name"))
        sources[name] = _source_entry(outcome, data_type, labels.get(name, name))
        source_gap = gap_state(outcome)
        if source_gap is not None:
            gaps_by_state.setdefault(source_gap, []).append(outcome)
        summed += _int(obj(outcome.get("found_by_type")).get(data_type))
        for kind, n in obj(outcome.get("found_by_kind")).items():
            if _data_type_of(kind) == data_type:
                by_kind[kind] = by_kind.get(kind, 0) + _int(n)
        for finding in outcome.get("findings") or []:
            kind = str(obj(finding).get("kind"))
            if _data_type_of(kind) == data_type:
                ids_by_kind.setdefault(kind, set()).add(str(obj(finding).get("id")))
    if ids_by_kind:
        by_kind = {kind: len(ids) for kind, ids in ids_by_kind.items()}
    found = sum(by_kind.values()) if ids_by_kind else summed
    out: dict[str, JsonValue] = {"found": found, "sources": sources}
    if not mine:
        gap = gap or Gap(state=CoverageState.NOT_APPLICABLE.value, reason="no source applies")
        out.update(state=gap["state"], reason=gap["reason"])
        out["complete"] = CoverageState(gap["state"]) in SETTLED
        return out
    unanswered = [s for s in _UNANSWERED_ORDER if s in gaps_by_state]
    clauses = [_clause(s, gaps_by_state[s], labels) for s in unanswered]
    if found:
        state = CoverageState.FOUND
        reason = "; ".join([count_words(by_kind) or plural(found, "finding"), *clauses])
    elif unanswered:
        state = unanswered[0]
        reason = "; ".join(clauses)
    else:
        state = CoverageState.NONE_FOUND
        notes = [str(o["note"]) for o in mine if o.get("note")]
        names = [labels.get(str(o.get("name")), str(o.get("name"))) for o in mine]
        reason = (
            notes[0] if len(notes) == 1 else NONE_FOUND[data_type].format(sources=join_words(names))
        )
    out.update(state=state.value, reason=reason, complete=not unanswered)
    return out


def _clause(state: CoverageState, outcomes: Sequence[Outcome], labels: Mapping[str, str]) -> str:
    """The sources that left ``state`` behind, grouped: "could not reach A and B (network)"."""
    groups: dict[str, list[str]] = {}
    alone: list[str] = []
    for outcome in outcomes:
        label = labels.get(str(outcome.get("name")), str(outcome.get("name")))
        if state is CoverageState.SKIPPED:
            groups.setdefault("", []).append(label)
        elif outcome.get("status") in ANSWERED:  # answered in part: say which part failed
            alone.append(_gap_words(outcome, state, label))
        else:
            groups.setdefault(_cause_of_gap(outcome), []).append(label)
    said = [
        f"{join_words(names)} {SKIPPED_REASON}" if not cause else failed_words(cause, names)
        for cause, names in groups.items()
    ]
    return "; ".join([*said, *alone])


def build_coverage(
    wanted: Iterable[DataType | str],
    outcomes: Sequence[Outcome],
    gaps: Mapping[str, Gap],
    labels: Mapping[str, str],
) -> dict[str, JsonValue]:
    """Coverage of every wanted data type, in a stable order."""
    return {
        t: type_entry(t, outcomes, gaps.get(t), labels)
        for t in sorted(str(DataType(w).value) for w in wanted)
    }


_STEP_OUTCOME = {"completed": "completed", "failed": "failed", "skipped": "skipped"}


def live_coverage(
    steps: Iterable[tuple[str, str, Mapping[str, Any]]], gaps: Mapping[str, Any]
) -> dict[str, JsonValue]:
    """Coverage folded from a running workflow's logged steps: ``(name, status, data)``
    of its ``collect.<source>`` steps, and the plan's gaps. A data type with a source
    still running is left out (it is pending, not known)."""
    outcomes: list[Outcome] = []
    pending: set[str] = set()
    labels: dict[str, str] = {}
    for name, status, data in steps:
        if not name.startswith("collect."):
            continue
        source = name.removeprefix("collect.")
        types = [str(t) for t in data.get("data_types") or []]
        labels[source] = str(data.get("label") or source)
        if status not in _STEP_OUTCOME:
            pending.update(types)
            continue
        outcomes.append(
            {
                "name": source,
                "data_types": types,
                "status": "cached" if data.get("cached") else _STEP_OUTCOME[status],
                "cause": data.get("cause"),
                "found_by_type": obj(data.get("coverage")),
                "failures": [{"error": data["error"]}] if data.get("partial") else [],
            }
        )
    out: dict[str, JsonValue] = {}
    covered = {t for o in outcomes for t in o["data_types"]} | set(gaps)
    for data_type in sorted(covered - pending):
        out[data_type] = type_entry(data_type, outcomes, gap_of(gaps.get(data_type)), labels)
    return out


def gap_of(value: object) -> Gap | None:
    """A gap read back from JSON (None if it is not one)."""
    if isinstance(value, dict) and "state" in value:
        return Gap(state=str(value["state"]), reason=str(value.get("reason") or ""))
    return None


def _data_type_of(kind: str) -> str:
    try:
        return DATA_TYPE_OF_KIND[FindingKind(kind)].value
    except ValueError:
        return ""


def state_of(entry: object) -> CoverageState | None:
    """The state of a coverage entry (None for anything else, e.g. an older format)."""
    return state_value(obj(entry).get("state"))


def state_value(value: object) -> CoverageState | None:
    try:
        return CoverageState(str(value))
    except ValueError:
        return None


def obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
