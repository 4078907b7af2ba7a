"""The builtin grounded analyst: offline, deterministic, never a fact without a finding.

It composes short sentences from findings; every factual sentence carries the ids of the
findings behind it, and streams word by word followed by its citations. Composition is
pure (``compose_*``) and tested on its own; streaming is a thin wrapper.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from dossier.core.ports import (
    AnalysisRequest,
    CitationMark,
    ProviderChunk,
    QuestionRequest,
    TextDelta,
)
from dossier.core.types import Citation, DataType, Finding, FindingKind
from dossier.providers.base import ProviderDeps


@dataclass(frozen=True)
class Sentence:
    text: str
    cites: tuple[Finding, ...] = field(default_factory=tuple)


def _by_kind(findings: Sequence[Finding], kind: FindingKind) -> list[Finding]:
    return [f for f in findings if f.kind == kind]


def _newest(findings: Sequence[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: f.published_at or f.observed_at, reverse=True)


def _field(finding: Finding, name: str) -> str | None:
    value = finding.fields.get(name)
    return str(value) if isinstance(value, (str, int, float)) and str(value).strip() else None


def _department(job: Finding) -> str:
    raw = _field(job, "department") or "Other"
    # Greenhouse departments often carry a cost-centre number: "8611 Security Analytics".
    words = raw.split()
    while words and words[0].isdigit():
        words.pop(0)
    return " ".join(words).replace(" - ", " / ") or "Other"


def compose_hiring(account: str, jobs: Sequence[Finding]) -> list[Sentence]:
    if not jobs:
        return []
    departments = Counter(_department(j) for j in jobs)
    top = ", ".join(f"{name} ({count})" for name, count in departments.most_common(3))
    locations = sorted({loc for j in jobs if (loc := _field(j, "location"))})
    out = [Sentence(f"{account} lists {len(jobs)} open roles, mostly in {top}.", tuple(jobs[:3]))]
    if locations:
        shown = ", ".join(locations[:4])
        out.append(Sentence(f"Hiring locations include {shown}.", tuple(jobs[:3])))
    newest = _newest(jobs)[0]
    when = (newest.published_at or newest.observed_at).date().isoformat()
    out.append(Sentence(f"The newest posting is \u201c{newest.title}\u201d ({when}).", (newest,)))
    return out


def compose_news(account: str, news: Sequence[Finding]) -> list[Sentence]:
    if not news:
        return []
    ordered = _newest(news)
    out = [Sentence(f"{len(news)} recent stories mention {account}.", tuple(ordered[:3]))]
    for item in ordered[:3]:
        when = (item.published_at or item.observed_at).date().isoformat()
        out.append(Sentence(f"\u201c{item.title}\u201d ({when}).", (item,)))
    return out


def compose_profile(account: str, profiles: Sequence[Finding]) -> list[Sentence]:
    if not profiles:
        return []
    profile = profiles[0]
    description = _field(profile, "description") or profile.title
    return [Sentence(f"{account}: {description}.".replace("..", "."), (profile,))]


def compose_people(people: Sequence[Finding]) -> list[Sentence]:
    if not people:
        return []
    named = [f"{p.title} ({role})" if (role := _field(p, "role")) else p.title for p in people[:4]]
    return [Sentence(f"People to know: {', '.join(named)}.", tuple(people[:4]))]


def compose_funding(account: str, rounds: Sequence[Finding]) -> list[Sentence]:
    if not rounds:
        return []
    latest = _newest(rounds)[0]
    return [Sentence(f"Latest funding record: {latest.title}.", (latest,))]


def compose_tech(tech: Sequence[Finding]) -> list[Sentence]:
    if not tech:
        return []
    names = ", ".join(t.title for t in tech[:8])
    return [Sentence(f"Technologies seen: {names}.", tuple(tech[:8]))]


_MISSING_TEXT: dict[DataType, str] = {
    DataType.NEWS: "news",
    DataType.JOBS: "job postings",
    DataType.FUNDING: "funding records",
    DataType.PEOPLE: "decision makers",
    DataType.TECH: "technology signals",
    DataType.PROFILE: "a company profile",
}


def compose_analysis(request: AnalysisRequest) -> list[Sentence]:
    """The analysis of one workflow as cited sentences (pure, deterministic)."""
    findings = request.findings
    account = request.account_name
    out: list[Sentence] = []
    out += compose_profile(account, _by_kind(findings, FindingKind.COMPANY_PROFILE))
    out += compose_funding(account, _by_kind(findings, FindingKind.FUNDING_ROUND))
    out += compose_hiring(account, _by_kind(findings, FindingKind.JOB_POSTING))
    out += compose_news(account, _by_kind(findings, FindingKind.NEWS_ARTICLE))
    out += compose_people(_by_kind(findings, FindingKind.PERSON))
    out += compose_tech(_by_kind(findings, FindingKind.TECHNOLOGY))
    if request.workflow == "vendor_context" and request.vendor_description:
        out.insert(0, Sentence(f"We sell: {request.vendor_description.strip().rstrip('.')}."))
    if not out:
        out.append(Sentence(f"No public findings about {account} yet."))
    if request.missing:
        names = ", ".join(_MISSING_TEXT.get(m, m.value) for m in request.missing)
        out.append(Sentence(f"Not found: {names}."))
    return out


async def stream_sentences(
    sentences: Sequence[Sentence], *, delay_s: float = 0.0
) -> AsyncIterator[ProviderChunk]:
    """Each sentence word by word, then its citations (each finding once per answer)."""
    cited: set[str] = set()
    for index, sentence in enumerate(sentences):
        words = sentence.text.split(" ")
        for i, word in enumerate(words):
            lead = " " if (i > 0 or index > 0) else ""
            yield TextDelta(lead + word)
            if delay_s:
                await asyncio.sleep(delay_s)
        for finding in sentence.cites:
            if finding.id in cited:
                continue
            cited.add(finding.id)
            yield CitationMark(Citation(finding=finding.id, url=finding.url, title=finding.title))


class BuiltinAnalyst:
    """Grounded extractive analyst (the default provider)."""

    name: ClassVar[str] = "builtin"
    streams_tokens: ClassVar[bool] = True
    offline: ClassVar[bool] = True

    def __init__(self, deps: ProviderDeps) -> None:
        self._delay_s = deps.settings.stream_delay_ms / 1000.0

    def analyze(self, request: AnalysisRequest) -> AsyncIterator[ProviderChunk]:
        return stream_sentences(compose_analysis(request), delay_s=self._delay_s)

    def answer(self, request: QuestionRequest) -> AsyncIterator[ProviderChunk]:
        # Issue 5 grows this into the full question classifier; until then an answer is
        # the analysis restricted to what was found, which is grounded all the same.
        analysis = AnalysisRequest(
            workflow="customer_intelligence",
            account_name=request.account_name,
            vendor_name=request.vendor_name,
            vendor_description=request.vendor_description,
            findings=request.findings,
        )
        return stream_sentences(compose_analysis(analysis), delay_s=self._delay_s)
