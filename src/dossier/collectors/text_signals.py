"""Signals read from text the sources already returned: money raised (rounds, tender
offers, valuations) and executive appointments or departures, from news headlines and
summaries.

Each signal is a finding of its own kind (``funding_round``, ``person``) whose
``read_from`` names the item it was read from, with a lower confidence than a primary
source (a filing, a registry): a headline is a claim about a fact, not the fact. Findings
read from sample (constructed) items stay marked as samples. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from pydantic import JsonValue

from dossier.collectors.normalize import person_key
from dossier.core.types import NEWS_SIGNALS_SOURCE, Finding, FindingKind, finding_id

SOURCE = NEWS_SIGNALS_SOURCE
CONFIDENCE = 0.5  # below every primary source: read from a headline, not a filing
# A headline and a filing about one round: reported within this many days of each other,
# and (when the headline names an amount) amounts within this share of each other.
SAME_ROUND_DAYS = 60
SAME_ROUND_AMOUNT = 0.15

_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "b": 1e9,
          "bn": 1e9, "billion": 1e9, "t": 1e12, "trillion": 1e12}  # fmt: skip
_SYMBOL = {"$": "USD", "€": "EUR", "£": "GBP", "us$": "USD"}
_AMOUNT = re.compile(
    r"(?P<symbol>US\$|\$|€|£)\s?(?P<number>\d+(?:[.,]\d+)?)\s?"
    r"(?P<scale>trillion|billion|million|thousand|bn|mn|[kmbt])\b",
    re.IGNORECASE,
)
_ROUND = re.compile(
    r"\b(?P<round>series [a-h]\d?|seed|pre-seed|tender offer|secondary (?:sale|share sale)"
    r"|ipo|funding round|debt financing|growth round)\b",
    re.IGNORECASE,
)
_RAISE = re.compile(r"\b(rais(?:e|es|ed|ing)|funding|secures|closes|lands|tender offer)\b", re.I)
_VALUATION = re.compile(
    r"\b(?:valu(?:es|ed|ing|ation)\b[^$€£]{0,40}?(?:at|of)?\s?)(?=(?:US\$|\$|€|£))",
    re.IGNORECASE,
)

_VALUATION_AFTER = re.compile(r"\s*(?:post-money\s+|pre-money\s+)?valuation", re.IGNORECASE)

_ROLES = (
    r"(?:CEO|CFO|CTO|COO|CIO|CISO|CMO|CRO|CPO|CHRO|President|Chief [A-Z][a-z]+ Officer"
    r"|(?:SVP|EVP|VP|Head) of [A-Z][A-Za-z ]{2,30}?)"
)
_NAME = r"(?P<name>[A-Z][a-z]+(?: [A-Z]\.)?(?: [A-Z][a-z'-]+){1,2})"
_ROLE = rf"(?:its\s+|new\s+)*(?P<role>{_ROLES})"
_HIRES = r"(?:names|appoints|hires|taps|promotes)"
_JOINS = r"(?:joins|named|appointed)"
_LEAVES = r"(?:steps down|to step down|resigns|departs|leaves|exits)"
_APPOINTED = (
    re.compile(rf"\b{_HIRES}\s+{_NAME}\s+(?:as\s+)?{_ROLE}"),  # "Acme names Jane Doe as CFO"
    re.compile(rf"\b(?:new\s+)?(?P<role>{_ROLES})\s+{_NAME}\s+{_JOINS}"),  # "CFO Jane Doe joins"
    re.compile(
        rf"\b{_NAME}\s+{_JOINS}\s+(?:\w+\s+){{0,3}}?as\s+{_ROLE}"
    ),  # "Jane joins Acme as CFO"
)
_DEPARTED = (
    re.compile(rf"\b(?P<role>{_ROLES})\s+{_NAME}\s+{_LEAVES}"),  # "CFO Jane Doe steps down"
    re.compile(rf"\b{_NAME}\s+{_LEAVES}\s+as\s+{_ROLE}"),  # "Jane Doe resigns as CFO"
)


def amount_of(text: str) -> tuple[float, str] | None:
    """The first money amount in a text: ``(91.5e9, "USD")`` for "$91.5B"."""
    match = _AMOUNT.search(text)
    if match is None:
        return None
    number = float(match.group("number").replace(",", "."))
    return number * _SCALE[match.group("scale").lower()], _SYMBOL[match.group("symbol").lower()]


def funding_from_news(items: Iterable[Finding], *, observed_at: datetime) -> list[Finding]:
    """A ``funding_round`` for each news item whose text says money was raised or a
    valuation set (a round, a tender offer), with the amount it names."""
    out: list[Finding] = []
    for item in items:
        if item.kind is not FindingKind.NEWS_ARTICLE:
            continue
        text = _text_of(item)
        round_match = _ROUND.search(text)
        if not (round_match or _RAISE.search(text)) or amount_of(text) is None:
            continue
        valuation = _valuation_in(text)
        # "…values company at $91.5B": the one amount is the valuation, not money raised
        amount = None if valuation is not None and _is_only_valuation(text) else amount_of(text)
        fields: dict[str, JsonValue] = {
            "round_type": round_match.group("round").title() if round_match else None,
            "amount": amount[0] if amount else None,
            "currency": (amount or valuation or (0.0, "USD"))[1],
            "valuation": valuation[0] if valuation else None,
            "amount_sold": None,
        }
        key = (SOURCE, item.id)
        out.append(_read(item, FindingKind.FUNDING_ROUND, key, item.title, fields, observed_at))
    return out


def people_from_news(items: Iterable[Finding], *, observed_at: datetime) -> list[Finding]:
    """A ``person`` with ``change`` appointed or departed for each headline that says so."""
    out: list[Finding] = []
    for item in items:
        if item.kind is not FindingKind.NEWS_ARTICLE:
            continue
        text = _text_of(item)
        for change, patterns in (("appointed", _APPOINTED), ("departed", _DEPARTED)):
            match = next((m for p in patterns if (m := p.search(text))), None)
            if match is None:
                continue
            name, role = match.group("name"), " ".join(match.group("role").split())
            fields: dict[str, JsonValue] = {
                "name": name,
                "role": role,
                "roles": [role],
                "title": role,
                "since": item.published_at.date().isoformat() if item.published_at else None,
                "change": change,
                "company": None,
            }
            title = f"{name} — {change} {role}"
            key = (person_key(name),)
            out.append(_read(item, FindingKind.PERSON, key, title, fields, observed_at))
            break
    return out


def signals_from_news(items: Iterable[Finding], *, observed_at: datetime) -> list[Finding]:
    """Everything read from the news in ``items``; a round that restates a primary round
    among ``items`` (a Form D) is that round's second source (see :func:`corroborated`)."""
    collected = list(items)
    news = [i for i in collected if i.kind is FindingKind.NEWS_ARTICLE]
    return corroborated(
        [
            *funding_from_news(news, observed_at=observed_at),
            *people_from_news(news, observed_at=observed_at),
        ],
        collected,
    )


def corroborated(signals: Sequence[Finding], collected: Sequence[Finding]) -> list[Finding]:
    """Read rounds that restate a primary round take that round's id (``corroborates``
    says which): the page, the snapshot and the analysis merge findings by id, so a Form D
    and a headline about one round become one signal with two sources, counted once."""
    primaries = [f for f in collected if f.kind is FindingKind.FUNDING_ROUND and f.source != SOURCE]
    out: list[Finding] = []
    for signal in signals:
        match = next((p for p in primaries if _same_round(signal, p)), None)
        if match is None or signal.kind is not FindingKind.FUNDING_ROUND:
            out.append(signal)
            continue
        fields = {**signal.fields, "corroborates": match.id}
        out.append(signal.model_copy(update={"id": match.id, "fields": fields}))
    return out


def _same_round(read: Finding, primary: Finding) -> bool:
    if read.published_at is None or primary.published_at is None:
        return False
    if abs(read.published_at - primary.published_at) > timedelta(days=SAME_ROUND_DAYS):
        return False
    amount = read.fields.get("amount")
    if not isinstance(amount, (int, float)):
        return True  # a valuation or a round name: the date is all there is to go on
    stated = [primary.fields.get(k) for k in ("amount", "amount_sold")]
    return any(
        isinstance(v, (int, float)) and v > 0 and abs(v - amount) <= SAME_ROUND_AMOUNT * v
        for v in stated
    )


def _text_of(item: Finding) -> str:
    summary = item.fields.get("summary") or item.fields.get("description")
    return item.title + (f". {summary}" if isinstance(summary, str) else "")


def _valuation_in(text: str) -> tuple[float, str] | None:
    """ "values it at $91.5B" or "at a $13 billion valuation"."""
    if match := _VALUATION.search(text):
        return amount_of(text[match.end() :])
    for amount in _AMOUNT.finditer(text):
        if _VALUATION_AFTER.match(text, amount.end()):
            return amount_of(amount.group(0))
    return None


def _is_only_valuation(text: str) -> bool:
    return len(_AMOUNT.findall(text)) == 1


def _read(
    item: Finding,
    kind: FindingKind,
    key: tuple[str, ...],
    title: str,
    fields: dict[str, JsonValue],
    observed_at: datetime,
) -> Finding:
    """A finding read from ``item``: it names the item, dates like it, ranks below a
    primary source, and stays a sample when the item is one."""
    fields = {
        **fields,
        "read_from": item.id,
        "read_from_url": item.url,
        "headline": item.title,
        "evidence": item.title,
    }
    if item.fields.get("sample") is True:
        fields["sample"] = True
    return Finding(
        id=finding_id(kind, *key),
        kind=kind,
        title=title,
        source=SOURCE,
        url=item.url,
        observed_at=observed_at,
        published_at=item.published_at,
        confidence=CONFIDENCE,
        fields=fields,
    )
