"""Read-only views over findings, for the builtin analyst (pure, no I/O).

Each helper answers one question about the findings ("which departments hire most?",
"who decides?") and returns the findings that prove it, so every sentence built on a view
can cite its evidence.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import JsonValue

from dossier.core.types import NEWS_SIGNALS_SOURCE as READ_FROM_NEWS
from dossier.core.types import Finding, FindingKind

_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "our",
        "that",
        "the",
        "their",
        "them",
        "they",
        "this",
        "to",
        "we",
        "with",
        "you",
        "your",
        "who",
        "which",
        "what",
        "how",
        "more",
        "most",
        "all",
        "any",
        "can",
        "help",
        "helps",
        "teams",
        "team",
        "companies",
        "company",
        "business",
        "businesses",
        "platform",
        "tool",
        "tools",
        "software",
        "product",
        "products",
        "solution",
        "solutions",
        "service",
        "services",
    ]
)
SENIOR = ("CEO", "Founder", "President", "CTO", "CFO", "COO", "CIO", "CISO", "CRO", "CMO", "Chair")


def of_kind(findings: Iterable[Finding], *kinds: FindingKind) -> list[Finding]:
    return [f for f in findings if f.kind in kinds]


def newest_first(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: f.published_at or f.observed_at, reverse=True)


def text_field(finding: Finding, name: str) -> str | None:
    value = finding.fields.get(name)
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        text = str(value).strip()
        return text or None
    return None


def list_field(finding: Finding, name: str) -> list[str]:
    value = finding.fields.get(name)
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, (str, int, float)) and str(v).strip()]
    return []


def when(finding: Finding) -> str:
    """The finding's date as a seller reads it (a filing's is its filing date, which an
    acceptance time late in the US evening would move to the next day in UTC)."""
    if finding.kind is FindingKind.FILING and (filed := text_field(finding, "filed_at")):
        return filed
    return (finding.published_at or finding.observed_at).date().isoformat()


def department(job: Finding) -> str:
    """Department without cost-centre numbers: "8611 Security Analytics" -> "Security Analytics"."""
    raw = text_field(job, "department") or "Other"
    words = raw.split()
    while words and words[0].isdigit():
        words.pop(0)
    cleaned = " ".join(words)
    return cleaned.split(" - ")[-1].strip() or "Other"


@dataclass(frozen=True)
class Group:
    label: str
    findings: tuple[Finding, ...]


def by_department(jobs: Sequence[Finding], top: int = 3) -> list[Group]:
    groups: dict[str, list[Finding]] = {}
    for job in jobs:
        groups.setdefault(department(job), []).append(job)
    ranked = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return [Group(label, tuple(items)) for label, items in ranked[:top]]


def locations(jobs: Sequence[Finding], top: int = 4) -> list[str]:
    counts = Counter(loc for j in jobs if (loc := text_field(j, "location")))
    return [loc for loc, _ in counts.most_common(top)]


def money(amount: object, currency: str = "USD") -> str:
    if not isinstance(amount, (int, float)) or isinstance(amount, bool):
        return "an undisclosed amount"
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency.upper(), currency.upper() + " ")
    value = float(amount)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if value >= limit:
            return f"{symbol}{value / limit:.1f}".rstrip("0").rstrip(".") + suffix
    return f"{symbol}{value:,.0f}"


def round_words(funding: Finding) -> str:
    """ "Form D offering on 2024-05-01, $8M offered, $5.7M sold"; a round read from a
    headline says what the headline says and that it was read there."""
    amount, sold = funding.fields.get("amount"), funding.fields.get("amount_sold")
    valuation = funding.fields.get("valuation")
    currency = text_field(funding, "currency") or "USD"
    kind = text_field(funding, "round_type") or "Funding"
    parts = [f"{kind} on {when(funding)}"]
    if funding.source == READ_FROM_NEWS:
        if isinstance(amount, (int, float)):
            parts.append(f"{money(amount, currency)} raised")
        if isinstance(valuation, (int, float)):
            parts.append(f"valued at {money(valuation, currency)}")
        return ", ".join(parts) + f" (read from the headline “{funding.title}”)"
    parts.append(f"{money(amount, currency)} offered")
    if isinstance(sold, (int, float)):
        parts.append(f"{money(sold, currency)} sold")
    said = ", ".join(parts)
    # a filing that a headline restates: one round, both sources named
    headline = text_field(funding, "headline")
    return f"{said} (also reported: “{headline}”)" if headline else said


def pay_range(job: Finding) -> str | None:
    comp = job.fields.get("compensation")
    if not isinstance(comp, dict):
        return None
    currency = str(comp.get("currency") or "USD")
    low, high = comp.get("min"), comp.get("max")
    if low is None and high is None:
        return None
    interval = str(comp.get("interval") or "").lower()
    span = (
        f"{money(low, currency)}–{money(high, currency)}"
        if low and high
        else money(low or high, currency)
    )
    return f"{span} per {interval}" if interval in ("year", "hour", "month") else span


def person_name(person: Finding) -> str:
    return text_field(person, "name") or person.title.split(" — ")[0]


def person_roles(person: Finding) -> list[str]:
    roles = list_field(person, "roles") or ([r] if (r := text_field(person, "role")) else [])
    return list(dict.fromkeys(roles))


def seniority(person: Finding) -> int:
    roles = " ".join(person_roles(person))
    for rank, title in enumerate(SENIOR):
        if title.lower() in roles.lower():
            return rank
    return len(SENIOR)


def recent(findings: Iterable[Finding], *, days: int, now: datetime | None = None) -> list[Finding]:
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    return [f for f in findings if f.published_at is not None and f.published_at >= cutoff]


def _stem(word: str) -> str:
    return word.rstrip("s") if len(word) > 4 else word


def keyword_forms(text: str | None) -> dict[str, str]:
    """Content words of a text by stem, with the form the text used (for display)."""
    if not text:
        return {}
    forms: dict[str, str] = {}
    for word in re.findall(r"[a-z][a-z0-9+-]{2,}", text.lower()):
        if word not in _STOP:
            forms.setdefault(_stem(word), word)
    return forms


def keywords(text: str | None) -> set[str]:
    """Content-word stems of a text (linking the vendor's pitch to the account's signals)."""
    return set(keyword_forms(text))


def finding_text(finding: Finding) -> str:
    parts = [
        finding.title,
        text_field(finding, "department") or "",
        text_field(finding, "category") or "",
    ]
    parts += list_field(finding, "technologies")
    return " ".join(parts)


def overlap(vendor_words: set[str], finding: Finding) -> set[str]:
    return vendor_words & keywords(finding_text(finding))


def executive_changes(findings: Sequence[Finding]) -> list[Finding]:
    return [
        p
        for p in of_kind(findings, FindingKind.PERSON)
        if text_field(p, "change") in ("appointed", "departed")
    ]


def seen_on_site(technology: Finding) -> bool:
    """Whether a technology was seen on their website (not only named in job posts)."""
    return any(e.get("type") != "job_description" for e in _evidence(technology))


def job_sentence(technology: Finding) -> str | None:
    """The first job-post sentence naming a technology: the evidence a seller can quote."""
    for e in _evidence(technology):
        value = e.get("value")
        if e.get("type") == "job_description" and isinstance(value, str) and e.get("posting"):
            return value if value != e.get("posting") else None
    return None


def _evidence(technology: Finding) -> list[dict[str, JsonValue]]:
    evidence = technology.fields.get("evidence")
    return [e for e in evidence if isinstance(e, dict)] if isinstance(evidence, list) else []
