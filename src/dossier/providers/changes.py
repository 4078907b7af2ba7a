"""Answers about what changed: news, leadership changes and money raised, from dated
findings, newest first, inside a stated window ("in the last 180 days, since 2026-06-09"),
each signal with why it matters to a seller. Filings are reports, not raises. Pure, given
``now``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from dossier.core.coverage import CoverageState
from dossier.core.ports import QuestionRequest
from dossier.core.types import DataType, Finding, FindingKind
from dossier.core.words import join_words, plural
from dossier.providers import facts as F
from dossier.providers.sentences import S, Sentence, gaps

K = FindingKind
WINDOW_DAYS = 180  # "recent", when the question names no window


def window_of(request: QuestionRequest) -> int:
    days = request.slots.get("window_days")
    return int(days) if days and days.isdigit() else WINDOW_DAYS


def _since(days: int, now: datetime) -> str:
    return (now - timedelta(days=days)).date().isoformat()


def _dated(finding: Finding) -> datetime | None:
    return finding.published_at


def news(
    account: str,
    findings: Sequence[Finding],
    *,
    limit: int = 3,
    days: int = WINDOW_DAYS,
    now: datetime | None = None,
) -> list[Sentence]:
    """How many stories, how many inside the window, then the newest ones."""
    now = now or datetime.now(UTC)
    items = F.newest_first(F.of_kind(findings, K.NEWS_ARTICLE))
    if not items:
        return []
    fresh = F.recent(items, days=days, now=now)
    count = plural(len(items), "story", "stories")
    verb = "mentions" if len(items) == 1 else "mention"
    if fresh:
        inside = "all" if len(fresh) == len(items) else str(len(fresh))
        lead = f"{count} {verb} {account}, {inside} in the last {days} days"
    else:
        lead = f"{count} {verb} {account}, none in the last {days} days"
    out = [S(f"{lead} (since {_since(days, now)}).", *items[:limit])]
    for item in items[:limit]:
        outlet = F.text_field(item, "outlet") or F.text_field(item, "domain")
        out.append(S(f"“{item.title}” ({F.when(item)}{', ' + outlet if outlet else ''}).", item))
    return out


def leadership_changes(request: QuestionRequest, now: datetime | None = None) -> list[Sentence]:
    """Appointments and departures named in the findings, and the filings that report
    officer changes (8-K item 5.02), inside the window."""
    now = now or datetime.now(UTC)
    days = window_of(request)
    cutoff = now - timedelta(days=days)
    window = f"in the last {days} days (since {_since(days, now)})"
    changes = F.newest_first(F.executive_changes(request.findings))
    fresh = [c for c in changes if (_dated(c) or now) >= cutoff]
    out: list[Sentence] = []
    if fresh:
        said = [
            f"{F.person_name(c)} {F.text_field(c, 'change')}"
            + (
                f" as {role}"
                if (role := F.text_field(c, "title") or F.text_field(c, "role"))
                else ""
            )
            + f" ({F.when(c)})"
            for c in fresh[:3]
        ]
        out.append(S(f"Leadership changes {window}: {'; '.join(said)}.", *fresh[:3]))
        out.append(
            Sentence(
                "Why it matters: a new executive often reviews tools and vendors in their "
                "first months, a natural reason to reach out."
            )
        )
    else:
        out.append(Sentence(f"No appointment or departure {window} in what we hold."))
    reports = [
        f
        for f in F.newest_first(F.of_kind(request.findings, K.FILING))
        if "5.02" in F.list_field(f, "items")
    ]
    if reports:
        listed = join_words([_filing_words(f) for f in reports[:3]])
        out.append(
            S(
                f"Their 8-K filings on officers or directors (item 5.02: an appointment, a "
                f"departure or pay): {listed}.",
                *reports[:3],
            )
        )
    if DataType.PEOPLE.value in request.pending:
        return out
    if not fresh and not reports:
        out.append(Sentence("Ask in discovery whether the team that would buy has changed lately."))
    return out


def _change_words(change: Finding) -> str:
    role = F.text_field(change, "title") or F.text_field(change, "role")
    said = f"{F.person_name(change)} {F.text_field(change, 'change')}"
    return said + (f" as {role}" if role else "") + f" ({F.when(change)})"


def _filing_words(filing: Finding) -> str:
    description = (F.text_field(filing, "description") or "").split("\n")[0].strip()
    form = F.text_field(filing, "form") or "filing"
    if description and description != form:
        return f"{F.when(filing)} (“{description}”)"
    return F.when(filing)


def raised_money(request: QuestionRequest, now: datetime | None = None) -> list[Sentence]:
    """Funding rounds inside the window, the latest one otherwise; filings are said to be
    reports, never counted as money raised."""
    now = now or datetime.now(UTC)
    days = window_of(request)
    cutoff = now - timedelta(days=days)
    rounds = F.newest_first(F.of_kind(request.findings, K.FUNDING_ROUND))
    fresh = [r for r in rounds if (_dated(r) or now) >= cutoff]
    out: list[Sentence] = []
    if fresh:
        out.append(S(f"Yes, in the last {days} days: {F.round_words(fresh[0])}.", fresh[0]))
        out.append(
            Sentence(
                "Why it matters: fresh capital is usually spent on growth within the year, "
                "a good moment to propose."
            )
        )
    elif rounds:
        out.append(
            S(
                f"Not in the last {days} days (since {_since(days, now)}); the latest round we "
                f"hold: {F.round_words(rounds[0])}.",
                rounds[0],
            )
        )
    else:
        out.append(Sentence(f"No funding round in what we hold about {request.account_name}."))
        note = request.coverage.get(DataType.FUNDING.value)
        if note is not None and note.state not in (None, CoverageState.FOUND):
            out += gaps({DataType.FUNDING.value: note})
        filings = F.newest_first(F.of_kind(request.findings, K.FILING))
        if filings:
            forms = join_words(sorted({F.text_field(f, "form") or "filing" for f in filings[:5]}))
            out.append(
                S(f"Their SEC filings ({forms}) are reports, not money raised.", *filings[:2])
            )
    return out
