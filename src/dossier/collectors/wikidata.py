"""Wikidata -> ``company_profile`` and ``person`` (CEO, founders) findings.

Two requests to ``www.wikidata.org/w/api.php``:

1. ``wbgetentities&ids=Q…&props=labels|claims&languages=en`` -> the company's statements:
   industry P452, headquarters P159, country P17, inception P571, employees P1128, website
   P856, SEC CIK P5531, LEI P1278, CEO P169 (start P580, end P582), founders P112.
2. One batched ``wbgetentities&props=labels`` for every item those statements point at
   (ids sorted numerically, so the URL is stable) -> their English names.

Statement choice follows Wikidata's ranks: deprecated ones are ignored and preferred ones
win; for employees without a preferred value the latest P585 point in time wins (Shopify's
preferred 8300 beats an older 10000; NVIDIA's preferred 42000 is also its latest). Dates
keep their precision: ``+2010-00-00T00:00:00Z`` at precision 9 is the year 2010.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from pydantic import JsonValue

from dossier.collectors.base import SourceCollector
from dossier.collectors.fetching import answered_none, deliver, fetch_json, reading
from dossier.collectors.normalize import person_key, profile_finding
from dossier.core.coverage import RequestFailure
from dossier.core.ports import CollectContext, CollectResult, ProgressReport
from dossier.core.types import DataType, Finding, FindingKind, finding_id, normalize_name, utcnow
from dossier.core.words import plural
from dossier.errors import SourceUnavailable

API_URL = "https://www.wikidata.org/w/api.php"
ENTITY_URL = "https://www.wikidata.org/wiki/{qid}"
MAX_IDS_PER_CALL = 50  # wbgetentities' limit for anonymous callers
# a search hit is a company when its description says so ("payment technology company")
_COMPANY_WORDS = re.compile(
    r"(?i)\b(compan(y|ies)|corporation|business|enterprise|firm|manufacturer|maker|"
    r"developer|provider|retailer|bank|startup|conglomerate|brand|publisher|airline|insurer|"
    r"platform|multinational|subsidiary)\b"
)


LABEL_PROPERTIES = ("P452", "P159", "P17", "P169", "P112")


def entity_params(qid: str) -> dict[str, str]:
    return {
        "action": "wbgetentities",
        "ids": qid,
        "props": "labels|claims",
        "languages": "en",
        "format": "json",
    }


def labels_params(ids: list[str]) -> dict[str, str]:
    return {
        "action": "wbgetentities",
        "ids": "|".join(ids),
        "props": "labels",
        "languages": "en",
        "format": "json",
    }


@dataclass(frozen=True)
class Statement:
    value: JsonValue  # entity id, string, quantity amount or (time, precision)
    rank: str
    qualifiers: dict[str, list[JsonValue]] = field(default_factory=dict)


@dataclass
class CompanyClaims:
    """The statements of one company entity that dossier reads."""

    qid: str
    label: str | None
    statements: dict[str, list[Statement]]

    def best(self, prop: str) -> list[Statement]:
        """Truthy values: preferred ones if any, else normal ones (never deprecated)."""
        current = [s for s in self.statements.get(prop, []) if s.rank != "deprecated"]
        preferred = [s for s in current if s.rank == "preferred"]
        return preferred or current

    def referenced_ids(self) -> list[str]:
        """Items whose labels the findings need, sorted numerically (a stable URL)."""
        ids = {
            s.value
            for prop in LABEL_PROPERTIES
            for s in self.statements.get(prop, [])
            if isinstance(s.value, str) and s.value.startswith("Q")
        }
        return sorted(ids, key=lambda q: int(q[1:]))[:MAX_IDS_PER_CALL]


def parse_entity(payload: object, *, qid: str) -> CompanyClaims | None:
    """The claims of ``qid`` in a ``wbgetentities`` body; None if Wikidata has no such item.

    Raises ValueError if the body is not a ``wbgetentities`` answer.
    """
    if not isinstance(payload, dict):
        raise ValueError("not a wbgetentities payload")
    error = payload.get("error")
    if isinstance(error, dict) and error.get("code") in ("no-such-entity", "param-invalid"):
        return None
    entities = payload.get("entities")
    if not isinstance(entities, dict):
        raise ValueError("wbgetentities payload without entities")
    entity = entities.get(qid)
    if not isinstance(entity, dict) or "missing" in entity:
        return None
    claims = entity.get("claims") or {}
    statements: dict[str, list[Statement]] = {}
    for prop, raw in claims.items() if isinstance(claims, dict) else []:
        parsed = [s for s in (_statement(r) for r in raw if isinstance(r, dict)) if s]
        if parsed:
            statements[prop] = parsed
    return CompanyClaims(qid=qid, label=_label(entity), statements=statements)


def parse_labels(payload: object) -> dict[str, str]:
    """``{qid: English label}`` from a ``wbgetentities`` body (``mul`` as fallback)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("entities"), dict):
        raise ValueError("not a wbgetentities payload")
    labels: dict[str, str] = {}
    for qid, entity in payload["entities"].items():
        label = _label(entity) if isinstance(entity, dict) else None
        if label:
            labels[qid] = label
    return labels


def company_hits(
    payload: object, *, name: str
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """``(company-like hits, other hits)`` among ``wbsearchentities`` hits whose label (or
    matched alias) is the name. Raises ValueError if the body is not a search answer."""
    if not isinstance(payload, dict) or not isinstance(payload.get("search"), list):
        raise ValueError("not a wbsearchentities payload")
    key = normalize_name(name)
    companies: list[dict[str, str]] = []
    others: list[dict[str, str]] = []
    for hit in payload["search"]:
        if not isinstance(hit, dict) or not isinstance(hit.get("id"), str):
            continue
        match = hit.get("match")
        matched_text = match.get("text") if isinstance(match, dict) else None
        matched = {str(hit.get("label") or ""), str(matched_text or "")}
        if key not in {normalize_name(m) for m in matched if m}:
            continue
        entry = {
            "wikidata": hit["id"],
            "label": str(hit.get("label") or ""),
            "description": str(hit.get("description") or ""),
        }
        (companies if _COMPANY_WORDS.search(entry["description"]) else others).append(entry)
    return companies, others


def company_findings(
    claims: CompanyClaims,
    labels: dict[str, str],
    *,
    account_key: str,
    observed_at: datetime,
) -> list[Finding]:
    """One ``company_profile`` and one ``person`` per CEO/founder (merged by person)."""
    url = ENTITY_URL.format(qid=claims.qid)

    def names(prop: str) -> list[str]:
        found = [labels.get(str(s.value)) for s in claims.best(prop)]
        return list(dict.fromkeys(n for n in found if n))

    founded = claims.best("P571")
    employees, employees_as_of = _employees(claims)
    headquarters, countries, industries = names("P159"), names("P17"), names("P452")
    fields: dict[str, JsonValue] = {
        "name": claims.label,
        "description": None,
        "industry": ", ".join(industries) or None,
        "industries": list(industries),
        "headquarters": headquarters[0] if headquarters else None,
        "headquarters_all": list(headquarters),
        "country": countries[0] if countries else None,
        "countries": list(countries),
        "founded": _founded(founded[0].value) if founded else None,
        "founded_year": _year(founded[0].value) if founded else None,
        "employees": employees,
        "employees_as_of": employees_as_of,
        "website": _first_string(claims, "P856"),
        "wikidata": claims.qid,
        "wikipedia_url": None,
        "cik": _first_string(claims, "P5531"),
        "lei": _first_string(claims, "P1278"),
    }
    profile = profile_finding(
        account_key,
        title=f"{claims.label or claims.qid} (Wikidata {claims.qid})",
        source="wikidata",
        url=url,
        observed_at=observed_at,
        confidence=0.85,
        fields=fields,
    )
    return [profile, *_people(claims, labels, observed_at=observed_at)]


def _people(
    claims: CompanyClaims, labels: dict[str, str], *, observed_at: datetime
) -> list[Finding]:
    roles_by_person: dict[str, list[str]] = {}
    since: dict[str, JsonValue] = {}
    for statement in claims.statements.get("P169", []):
        if statement.rank == "deprecated" or not isinstance(statement.value, str):
            continue
        ended = statement.qualifiers.get("P582")
        role = "Former CEO" if ended else "CEO"
        roles_by_person.setdefault(statement.value, []).append(role)
        start = statement.qualifiers.get("P580")
        if role == "CEO" and start:
            since[statement.value] = _founded(start[0])
    for statement in claims.best("P112"):
        if isinstance(statement.value, str):
            roles_by_person.setdefault(statement.value, []).append("Founder")
    people: list[Finding] = []
    for person_qid, roles in roles_by_person.items():
        name = labels.get(person_qid)
        if not name or not person_key(name):
            continue  # an unlabelled item names nobody a reader would recognise
        roles = list(dict.fromkeys(roles))
        since_value = since.get(person_qid)
        people.append(
            Finding(
                id=finding_id(FindingKind.PERSON, person_key(name)),
                kind=FindingKind.PERSON,
                title=f"{name} — {' and '.join(roles)} of {claims.label or claims.qid}",
                source="wikidata",
                url=ENTITY_URL.format(qid=person_qid),
                observed_at=observed_at,
                confidence=0.85,
                fields={
                    "name": name,
                    "role": roles[0],
                    "roles": list(roles),
                    "since": str(since_value) if since_value is not None else None,
                    "change": None,
                    "company": claims.label,
                    "source_entity": person_qid,
                },
            )
        )
    return people


def _statement(raw: dict[str, object]) -> Statement | None:
    snak = raw.get("mainsnak")
    if not isinstance(snak, dict) or snak.get("snaktype") != "value":
        return None  # "novalue" / "somevalue" say nothing we can show
    value = _snak_value(snak)
    if value is None:
        return None
    qualifiers: dict[str, list[JsonValue]] = {}
    raw_qualifiers = raw.get("qualifiers")
    for prop, snaks in raw_qualifiers.items() if isinstance(raw_qualifiers, dict) else []:
        values = [_snak_value(q) for q in snaks if isinstance(q, dict)]
        qualifiers[prop] = [v for v in values if v is not None]
    return Statement(value=value, rank=str(raw.get("rank") or "normal"), qualifiers=qualifiers)


def _snak_value(snak: dict[str, object]) -> JsonValue:
    datavalue = snak.get("datavalue")
    if not isinstance(datavalue, dict):
        return None
    value = datavalue.get("value")
    kind = datavalue.get("type")
    if kind == "wikibase-entityid" and isinstance(value, dict):
        return str(value.get("id") or "") or None
    if kind == "string" and isinstance(value, str):
        return value
    if kind == "quantity" and isinstance(value, dict):
        return str(value.get("amount") or "") or None
    if kind == "time" and isinstance(value, dict):
        return [str(value.get("time") or ""), int(value.get("precision") or 11)]
    return None


def _label(entity: dict[str, object]) -> str | None:
    labels = entity.get("labels")
    if not isinstance(labels, dict):
        return None
    for language in ("en", "mul"):
        label = labels.get(language)
        if isinstance(label, dict) and isinstance(label.get("value"), str):
            return str(label["value"])
    return None


def _first_string(claims: CompanyClaims, prop: str) -> str | None:
    values = [s.value for s in claims.best(prop) if isinstance(s.value, str)]
    return values[0] if values else None


def _founded(value: JsonValue) -> JsonValue:
    """Year (int) at year precision, ``YYYY-MM`` at month, ISO date at day precision."""
    if not isinstance(value, list) or len(value) != 2:
        return None
    text, precision = str(value[0]), value[1]
    date_part = text.lstrip("+").split("T")[0]
    year, month, day = [*date_part.split("-"), "00", "00"][:3]
    if not year.isdigit():
        return None
    if not isinstance(precision, int) or precision <= 9 or month == "00":
        return int(year)
    if precision == 10 or day == "00":
        return f"{year}-{month}"
    return f"{year}-{month}-{day}"


def _year(value: JsonValue) -> int | None:
    founded = _founded(value)
    if isinstance(founded, int):
        return founded
    return int(str(founded)[:4]) if founded else None


def _employees(claims: CompanyClaims) -> tuple[int | None, JsonValue]:
    candidates = claims.best("P1128")
    if not candidates:
        return None, None

    def when(statement: Statement) -> str:
        point = statement.qualifiers.get("P585")
        return str(point[0][0]).lstrip("+") if point and isinstance(point[0], list) else ""

    # ranks first; among equals the latest point in time
    chosen = max(candidates, key=when)
    try:
        count = int(float(str(chosen.value)))
    except ValueError:
        return None, None
    point = chosen.qualifiers.get("P585")
    return count, _founded(point[0]) if point else None


class WikidataCollector(SourceCollector):
    """Profile and leaders of the account's Wikidata item (needs ``wikidata``)."""

    name: ClassVar[str] = "wikidata"
    label: ClassVar[str] = "Wikidata"
    data_types: ClassVar[frozenset[DataType]] = frozenset({DataType.PROFILE, DataType.PEOPLE})
    needs: ClassVar[tuple[str, ...]] = ("wikidata",)

    async def collect(self, ctx: CollectContext) -> CollectResult:
        qid = ctx.identifiers["wikidata"].strip().upper()
        account_key = ctx.identifiers.get("account_key") or normalize_name(ctx.account_name)
        await ctx.progress(ProgressReport(0, 2, 0, f"Wikidata item {qid}"))
        payload = await self._json(entity_params(qid), ctx)
        with reading(self.label):
            claims = parse_entity(payload, qid=qid)
        if claims is None:
            return await answered_none(ctx, f"Wikidata has no item {qid}", total=2)
        ids = claims.referenced_ids()
        labels: dict[str, str] = {}
        failures: list[RequestFailure] = []
        if ids:
            await ctx.progress(ProgressReport(1, 2, 0, f"names of {len(ids)} linked items"))
            # The names of linked items (HQ city, founders) only enrich what the item says:
            # if they cannot be had, the profile is kept without them and the gap is said.
            try:
                labels = parse_labels(await self._json(labels_params(ids), ctx))
            except (SourceUnavailable, ValueError) as exc:
                failures.append(RequestFailure.of(exc, "names of linked items"))
        findings = company_findings(claims, labels, account_key=account_key, observed_at=utcnow())
        people = plural(len(findings) - 1, "person", "people")
        await deliver(ctx, findings, f"profile and {people}", total=2)
        return CollectResult(findings=findings, failures=failures)

    async def _json(self, params: dict[str, str], ctx: CollectContext) -> object:
        return await fetch_json(
            self._http, API_URL, label=self.label, params=params, on_retry=ctx.on_retry
        )
