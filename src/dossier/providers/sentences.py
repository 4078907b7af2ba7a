"""Sentence basics, and the sentences that are not about a finding's content: what is
not known and why (from the coverage states), and the mark on sample data (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from dossier.core.coverage import CoverageNote, CoverageState
from dossier.core.types import DataType, Finding
from dossier.core.words import join_words

DATA_TYPE_TEXT: dict[str, str] = {
    DataType.NEWS: "news",
    DataType.JOBS: "job postings",
    DataType.FUNDING: "funding and filings",
    DataType.PEOPLE: "decision makers",
    DataType.TECH: "technology signals",
    DataType.PROFILE: "the company profile",
}


@dataclass(frozen=True)
class Sentence:
    text: str
    cites: tuple[Finding, ...] = field(default_factory=tuple)


def S(text: str, *cites: Finding) -> Sentence:
    return Sentence(text, tuple(cites))


# The order gaps are told in: what the user can act on first.
_GAP_ORDER = (
    CoverageState.FAILED,
    CoverageState.UNRESOLVED,
    CoverageState.NOT_RECORDED,
    CoverageState.SKIPPED,
    CoverageState.NONE_FOUND,
    CoverageState.NOT_APPLICABLE,
)


def gaps(coverage: Mapping[str, CoverageNote]) -> list[Sentence]:
    """What is not known and why, one sentence per (state, reason), from the coverage
    states: "not found" and "could not reach" lead a seller to opposite actions."""
    groups: dict[tuple[CoverageState, str], list[str]] = {}
    for data_type, note in coverage.items():
        if note.state is None or note.state is CoverageState.FOUND:
            continue
        groups.setdefault((note.state, note.reason), []).append(data_type)
    out: list[Sentence] = []
    for state in _GAP_ORDER:
        for (group_state, reason), types in groups.items():
            if group_state is state:
                out.append(Sentence(_gap_words(state, reason, types)))
    return out


def _gap_words(state: CoverageState, reason: str, types: Sequence[str]) -> str:
    topics = join_words([DATA_TYPE_TEXT.get(t, t) for t in types])
    topics_cap = topics[:1].upper() + topics[1:]
    why = reason.rstrip(".")
    if state is CoverageState.FAILED:
        return f"{topics_cap} unknown: {why}."
    if state is CoverageState.UNRESOLVED:
        return f"{why[:1].upper() + why[1:]} ({topics} unknown until then)."
    if state is CoverageState.SKIPPED:
        return f"{topics_cap}: skipped at your request."
    if state is CoverageState.NONE_FOUND:
        return f"{topics_cap}: none found ({why})."
    return f"{topics_cap}: {why}."


# -- whole texts


def marked(sentences: list[Sentence]) -> list[Sentence]:
    """Sentences resting on constructed (sample) recordings say so: a demo's invented
    headline must never read as news."""
    out: list[Sentence] = []
    for sentence in sentences:
        samples = sum(1 for f in sentence.cites if f.fields.get("sample") is True)
        if samples:
            note = "[sample data]" if samples == len(sentence.cites) else "[partly sample data]"
            body = sentence.text.removesuffix(".")
            sentence = Sentence(f"{body} {note}.", sentence.cites)
        out.append(sentence)
    return out
