"""What every job board shares: one finding shape, pay ranges, departments, remote work.

Board parsers (greenhouse, lever, ashby, smartrecruiters, workable) read their own payload
into a :class:`JobPosting`; :func:`job_finding` turns it into the ``job_posting`` finding the
analyst relies on, so the field set is the same whatever the board:

``board, board_token, job_id, department, location, description (plain, <= 4000 chars),
compensation ({"min","max","currency","interval"} or None), remote (bool or None),
employment_type, technologies (names found in title + description), language``.

Everything here is pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import JsonValue

from dossier.collectors.tech_terms import technologies_in_text, technology_sentences
from dossier.core.types import Finding, FindingKind, finding_id

DESCRIPTION_CHARS = 4000
UNSPECIFIED_DEPARTMENT = "Unspecified"

Compensation = dict[str, JsonValue]


@dataclass(frozen=True)
class JobPosting:
    """One opening as a board describes it, before it becomes a finding."""

    board: str
    board_token: str
    job_id: str
    title: str
    url: str | None
    description: str = ""
    department: str | None = None
    location: str | None = None
    compensation: Compensation | None = None
    remote: bool | None = None
    employment_type: str | None = None
    language: str | None = None
    published_at: datetime | None = None
    extra: Mapping[str, JsonValue] = field(default_factory=dict)


def job_finding(posting: JobPosting, *, observed_at: datetime) -> Finding:
    """The ``job_posting`` finding for one opening; id = (board, token, job id).

    A posting without structured pay gets the range written in its text, if any; the
    technologies are read from the full text, before the description is clipped.
    """
    text = posting.description.strip()
    department = normalize_department(posting.department)
    fields: dict[str, JsonValue] = {
        "board": posting.board,
        "board_token": posting.board_token,
        "job_id": posting.job_id,
        "department": department,
        "location": posting.location,
        "description": text[:DESCRIPTION_CHARS],
        "compensation": posting.compensation or parse_compensation(text),
        "remote": posting.remote,
        "employment_type": posting.employment_type,
        "technologies": list(technologies_in_text(f"{posting.title}\n{text}")),
        "technology_sentences": dict[str, JsonValue](
            technology_sentences(f"{posting.title}\n{text}")
        ),
        "language": posting.language,
    }
    if posting.department and department != posting.department.strip():
        fields["department_raw"] = posting.department
    fields.update(posting.extra)
    return Finding(
        id=finding_id(FindingKind.JOB_POSTING, posting.board, posting.board_token, posting.job_id),
        kind=FindingKind.JOB_POSTING,
        title=posting.title.strip(),
        source=posting.board,
        url=posting.url,
        observed_at=observed_at,
        published_at=posting.published_at,
        confidence=0.95,  # the company's own board: as good as it gets
        fields=fields,
    )


# -- departments and hiring signals

# Greenhouse boards often carry finance cost-centre codes: "8611 Security Analytics",
# "4378 SDC - Fraud Operations". A code is not a team, and two codes for one team would
# split the hiring signal in two.
_COST_CENTRE_RE = re.compile(r"^\d{2,}\s*[-–:.]?\s+")
_CODE_PREFIX_RE = re.compile(r"^[A-Z]{2,4}\s*[-–:]\s+")
_TRAILING_CODE_RE = re.compile(r"\s*(?:\(\d{2,}\)|[-–]\s*\d{2,})$")


def normalize_department(name: str | None) -> str | None:
    """A department name without cost-centre codes; None when nothing is left."""
    if not name:
        return None
    text = " ".join(name.split())
    stripped = _COST_CENTRE_RE.sub("", text)
    if stripped != text:
        # A short upper-case code right after a cost-centre number is part of the code.
        stripped = _CODE_PREFIX_RE.sub("", stripped)
    stripped = _TRAILING_CODE_RE.sub("", stripped).strip(" -–:")
    return stripped or None


def hiring_signals(findings: Iterable[Finding]) -> dict[str, int]:
    """Open roles per department, most first (ties by name); other kinds are ignored."""
    counts: Counter[str] = Counter()
    for finding in findings:
        if finding.kind is not FindingKind.JOB_POSTING:
            continue
        raw = finding.fields.get("department")
        department = normalize_department(raw if isinstance(raw, str) else None)
        counts[department or UNSPECIFIED_DEPARTMENT] += 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


# -- remote work

_REMOTE_WORD_RE = re.compile(r"(?<![A-Za-z])remote(?![A-Za-z])", re.IGNORECASE)
_ON_SITE = frozenset({"hybrid", "onsite", "office", "inoffice", "officebased", "inperson"})


def detect_remote(workplace_type: str | None, *locations: str | None) -> bool | None:
    """Remote or not, from a board's workplace type, else from location names.

    ``remote`` -> True; ``hybrid`` / ``on-site`` -> False (not fully remote); a location
    named "Remote (US)" -> True; nothing said -> None (unknown, not False).
    """
    kind = re.sub(r"[^a-z]", "", (workplace_type or "").lower())
    if kind in ("remote", "fullyremote"):
        return True
    if kind in _ON_SITE:
        return False
    if any(location and _REMOTE_WORD_RE.search(location) for location in locations):
        return True
    return None


# -- compensation

_INTERVALS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        ("hour", r"\bhour(?:ly)?\b|/\s?hr?\b|\bper hr\b"),
        ("day", r"\bper day\b|/\s?day\b|\bdaily\b"),
        ("week", r"\bper week\b|/\s?(?:week|wk)\b|\bweekly\b"),
        ("month", r"\bmonth(?:ly)?\b|/\s?mo\b"),
        (
            "year",
            r"\bper year\b|\ba year\b|/\s?(?:year|yr)\b|\bannual(?:ly)?\b|\bper annum\b"
            r"|\bp\.\s?a\.|\byearly\b",
        ),
    )
)


def normalize_interval(value: str | None) -> str | None:
    """A board's pay period ("per-year-salary", "1 YEAR", "hourly") -> year/month/week/day/hour."""
    if not value:
        return None
    text = value.replace("-", " ")
    for name, pattern in _INTERVALS:
        if pattern.search(text):
            return name
    # Ashby writes the period as a duration, "1 YEAR"; free text is not searched for bare
    # units, where "5 years of experience" sits next to salary figures.
    unit = re.search(r"\b(hour|day|week|month|year)s?\b", text, re.IGNORECASE)
    return unit.group(1).lower() if unit else None


def compensation(
    low: object, high: object, currency: object, interval: object
) -> Compensation | None:
    """A compensation dict from a board's structured fields; None without any amount."""
    amounts = [v for v in (low, high) if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if not amounts:
        return None
    return {
        "min": _plain_number(min(amounts)),
        "max": _plain_number(max(amounts)),
        "currency": currency.upper() if isinstance(currency, str) and currency else None,
        "interval": normalize_interval(interval if isinstance(interval, str) else None),
    }


_SYMBOLS = {
    "US$": "USD", "CA$": "CAD", "C$": "CAD", "A$": "AUD", "AU$": "AUD", "NZ$": "NZD",
    "S$": "SGD", "HK$": "HKD", "$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR",
}  # fmt: skip
_ISO = "USD|EUR|GBP|CAD|AUD|NZD|CHF|SEK|NOK|DKK|JPY|INR|SGD|HKD|PLN|BRL|MXN|ZAR|ILS"
_SYMBOL_RE = "|".join(re.escape(s) for s in sorted(_SYMBOLS, key=len, reverse=True))
_NUMBER = r"\d{1,3}(?:[,.\u00a0\u202f ]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d+)?"
# Not a pay figure: "$200B in spend", "$5M round", "$1.2 million": funding and revenue.
_NOT_PAY = r"(?!\d|[,.]\d|\s?(?:[bBmM]\b|bn\b|mn\b|[mb]illion\b|mln\b))"


def _amount(tag: str) -> str:
    return (
        rf"(?P<{tag}pre>{_SYMBOL_RE}|(?:{_ISO})\s?)?(?P<{tag}num>{_NUMBER}){_NOT_PAY}"
        rf"(?:\s?(?P<{tag}k>[kK])\b)?(?:\s?(?P<{tag}post>{_ISO})\b)?"
    )


_RANGE_RE = re.compile(_amount("a") + r"\s*(?:-|–|—|to|and)\s*" + _amount("b"))
_SINGLE_RE = re.compile(_amount("a"))
_PAY_WORDS_RE = re.compile(
    r"\b(?:salary|salaries|compensation|pay|base|OTE|wage|rate|range|earn)\b", re.IGNORECASE
)
_BOUNDS = {
    "hour": (5, 2_000), "day": (50, 20_000), "week": (200, 50_000),
    "month": (500, 2_000_000), "year": (10_000, 100_000_000),
}  # fmt: skip


def parse_compensation(text: str) -> Compensation | None:
    """The pay range written in a posting, or None.

    Understands "$180,000 - $250,000", "€60k–€80k per year", "USD 120000",
    "$211.4K – $290.6K", "£45 to £55 per hour", "120 000 - 150 000 CAD". A figure needs a
    currency; funding-style amounts ("$200B", "$5M") are never pay. A lone figure (not a
    range) counts only next to a pay word ("salary", "compensation", ...) or when the text
    is little more than the figure, so "$100K deals" in a sales pitch is not a salary. With
    no stated period, figures of 10,000 or more are taken as yearly.
    """
    if not text:
        return None
    short = len(text) <= 40
    for match in _RANGE_RE.finditer(text):
        found = _from_match(text, match, ("a", "b"))
        if found is not None:
            return found
    for match in _SINGLE_RE.finditer(text):
        if not short and not _PAY_WORDS_RE.search(_window(text, match, before=60, after=20)):
            continue
        found = _from_match(text, match, ("a",))
        if found is not None:
            return found
    return None


def _from_match(text: str, match: re.Match[str], tags: tuple[str, ...]) -> Compensation | None:
    groups = match.groupdict()
    currencies = [_currency(groups[f"{t}{side}"]) for t in tags for side in ("post", "pre")]
    currency = next((c for c in currencies if c), None)
    if currency is None:
        return None
    values = [_number(groups[f"{t}num"]) * (1000 if groups[f"{t}k"] else 1) for t in tags]
    if len(values) == 2 and groups.get("bk") and not groups["ak"] and values[0] < 1000:
        values[0] *= 1000  # "$60-80k": the k belongs to both ends
    interval = _interval_near(text, match)
    if interval is None and min(values) >= _BOUNDS["year"][0]:
        interval = "year"
    if interval is None:
        return None
    low, high = _BOUNDS[interval]
    if not all(low <= v <= high for v in values):
        return None
    return {
        "min": _plain_number(min(values)),
        "max": _plain_number(max(values)),
        "currency": currency,
        "interval": interval,
    }


_PERIOD_AFTER_RE = re.compile(
    r"\W{0,3}(?:[A-Z]{3}\b\W{0,2})?(?:gross\s+|base\s+)?(?:(?:per|a|an|/)\s*"
    r"(?P<unit>hour|hr|day|week|wk|month|mo|year|yr|annum)\b|(?P<adverb>hourly|daily|weekly"
    r"|monthly|annually|yearly|p\.\s?a\.))",
    re.IGNORECASE,
)
_UNITS = {"hr": "hour", "wk": "week", "mo": "month", "yr": "year", "annum": "year"}


def _interval_near(text: str, match: re.Match[str]) -> str | None:
    """The pay period of a figure: right after it ("$50 per hour", "€60k/yr"), else the
    cue closest before it ("Annual salary: ..."). A cue further after belongs to something
    else ("$120,000 - $150,000 plus a monthly stipend")."""
    after = _PERIOD_AFTER_RE.match(text, match.end())
    if after:
        unit = (after.group("unit") or after.group("adverb")).lower()
        return _UNITS.get(unit, normalize_interval(unit))
    start = max(0, match.start() - 50)
    before = text[start : match.start()]
    best: tuple[int, str] | None = None
    for name, pattern in _INTERVALS:
        for cue in pattern.finditer(before):
            if best is None or cue.end() > best[0]:
                best = (cue.end(), name)
    return best[1] if best else None


def _window(text: str, match: re.Match[str], *, before: int, after: int) -> str:
    return text[max(0, match.start() - before) : match.end() + after]


def _currency(token: str | None) -> str | None:
    if not token:
        return None
    token = token.strip()
    return _SYMBOLS.get(token, token.upper() if token.isalpha() else None)


def _number(text: str) -> float:
    grouped = re.fullmatch(r"(\d{1,3}(?:[,.\u00a0\u202f ]\d{3})+)(?:[.,](\d{1,2}))?", text)
    if grouped:
        whole = int(re.sub(r"\D", "", grouped.group(1)))
        return whole + (
            int(grouped.group(2)) / 10 ** len(grouped.group(2)) if grouped.group(2) else 0
        )
    return float(text.replace(",", "."))


def _plain_number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 2)
