"""SEC EDGAR -> ``filing``, ``funding_round``, ``person`` and ``company_profile`` findings.

Requests (data.sec.gov / www.sec.gov; SEC asks for <= 10 requests/s and a User-Agent that
names a contact, which ``settings.user_agent`` builds from ``DOSSIER_CONTACT_EMAIL``):

1. ``data.sec.gov/submissions/CIK##########.json`` -> the company (name, tickers, SIC,
   addresses) and its recent filings. Foreign filers have ``stateOrCountry`` null and the
   country only in ``country`` ("Ontario, Canada"). An unknown CIK answers 404 with an S3
   ``NoSuchKey`` XML body, not JSON: a negative answer.
2. For the latest Form D filings: ``Archives/edgar/data/{cik}/{accession}/primary_doc.xml``
   -> offering amounts and related persons (:mod:`~dossier.collectors.sec_forms`).
3. For the latest 8-K with item 5.02: its ``…-index.html`` (item titles, primary document),
   then the primary document -> item 5.02 text and the people it names.

A 403 "Undeclared Automated Tool" page means SEC wants a contact in the User-Agent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from pydantic import JsonValue

from dossier.collectors.base import SourceCollector
from dossier.collectors.http import SourceResponse
from dossier.collectors.normalize import profile_finding, short_roles
from dossier.collectors.sec_forms import (
    ITEM_502_CHARS,
    SOURCE,
    item_502_text,
    parse_filing_index,
    parse_form_d,
    people_in_502,
    person_finding,
)
from dossier.collectors.sec_tickers import cik10
from dossier.core.coverage import RequestFailure
from dossier.core.ports import CollectContext, CollectResult, ProgressReport
from dossier.core.types import DataType, Finding, FindingKind, finding_id, normalize_name, utcnow
from dossier.errors import SourceBadAnswer, SourceUnavailable

SUBMISSIONS_URL = "https://data.sec.gov/submissions/CIK{cik}.json"
ARCHIVE_URL = "https://www.sec.gov/Archives/edgar/data/{cik}/{folder}/{document}"
INDEX_URL = "https://www.sec.gov/Archives/edgar/data/{cik}/{accession}-index.html"
FORMS = frozenset(
    {"8-K", "8-K/A", "10-K", "10-K/A", "10-Q", "S-1", "S-1/A", "F-1", "F-1/A"}
    | {"20-F", "40-F", "6-K", "D", "D/A"}
)
MAX_FILINGS = 25
MAX_FORM_D = 3
MAX_EXEC_CHANGES = 1  # the latest 8-K 5.02 is the news; older ones are in MAX_FILINGS
ITEM_NAMES = {
    "1.01": "material agreement",
    "2.01": "acquisition or disposition",
    "2.02": "results of operations",
    "5.02": "officers or directors (appointment, departure or pay)",
    "5.07": "shareholder vote",
    "7.01": "Regulation FD disclosure",
    "8.01": "other events",
    "9.01": "exhibits",
}
# acceptanceDateTime says "Z" but is EDGAR's Eastern wall-clock time
_EDGAR_TZ = ZoneInfo("America/New_York")
UNDECLARED_TOOL_HINT = (
    "SEC refused the request as an undeclared automated tool: set DOSSIER_CONTACT_EMAIL "
    "so the User-Agent names a contact, as SEC requires"
)


@dataclass(frozen=True)
class FilingRow:
    accession: str
    form: str
    filed_on: str
    accepted: str
    items: list[str]
    primary_document: str
    description: str


def filing_rows(payload: object) -> list[FilingRow]:
    """Recent filings of a submissions body (column arrays -> rows); [] without a block."""
    if not isinstance(payload, dict):
        raise ValueError("not an SEC submissions payload")
    recent = (payload.get("filings") or {}).get("recent") or {}
    columns = {k: v for k, v in recent.items() if isinstance(v, list)}
    accessions = columns.get("accessionNumber", [])

    def cell(name: str, i: int) -> str:
        values = columns.get(name, [])
        return str(values[i]) if i < len(values) and values[i] is not None else ""

    return [
        FilingRow(
            accession=str(accession),
            form=cell("form", i),
            filed_on=cell("filingDate", i),
            accepted=cell("acceptanceDateTime", i),
            items=[x.strip() for x in cell("items", i).split(",") if x.strip()],
            primary_document=cell("primaryDocument", i),
            description=cell("primaryDocDescription", i),
        )
        for i, accession in enumerate(accessions)
    ]


def parse_submissions(payload: object, *, account_key: str, observed_at: datetime) -> list[Finding]:
    """A ``company_profile`` and the recent ``filing`` findings of a submissions body.

    Raises ValueError if it is not one.
    """
    if not isinstance(payload, dict) or not payload.get("cik") or not payload.get("name"):
        raise ValueError("not an SEC submissions payload")
    cik = cik10(str(payload["cik"]))
    findings = [_profile(payload, cik=cik, account_key=account_key, observed_at=observed_at)]
    rows = [r for r in filing_rows(payload) if r.form in FORMS][:MAX_FILINGS]
    findings += [_filing(r, cik=cik, observed_at=observed_at) for r in rows]
    return findings


def _profile(
    payload: dict[str, object], *, cik: str, account_key: str, observed_at: datetime
) -> Finding:
    addresses = payload.get("addresses")
    business = addresses.get("business") if isinstance(addresses, dict) else None
    address: dict[str, object] = business if isinstance(business, dict) else {}
    city = (_str(address, "city") or "").title()
    if address.get("isForeignLocation") == 1 or (
        _str(address, "country") and not _str(address, "stateOrCountry")
    ):
        # foreign filers: the place is "Ontario, Canada" and there is no US state
        place = _str(address, "country") or ""
        country = place.rsplit(",", 1)[-1].strip() or None
    else:
        place = _str(address, "stateOrCountry") or ""
        country = "United States" if place else None
    tickers = _strings(payload.get("tickers"))
    name = _str(payload, "name") or cik
    fields: dict[str, JsonValue] = {
        "name": name,
        "cik": cik,
        "ticker": tickers[0] if tickers else None,
        "tickers": list(tickers),
        "exchanges": list(_strings(payload.get("exchanges"))),
        "industry": _str(payload, "sicDescription"),
        "sic": _str(payload, "sic"),
        "headquarters": ", ".join(p for p in (city, place) if p) or None,
        "country": country,
        "state_of_incorporation": _str(payload, "stateOfIncorporation"),
        "fiscal_year_end": _str(payload, "fiscalYearEnd"),
        "website": _str(payload, "website"),
        "description": _str(payload, "description"),
    }
    return profile_finding(
        account_key,
        title=f"{name} (SEC CIK {cik})",
        source=SOURCE,
        url=f"https://www.sec.gov/cgi-bin/browse-edgar?action=getcompany&CIK={cik}",
        observed_at=observed_at,
        confidence=0.9,
        fields=fields,
    )


def _str(mapping: dict[str, object], key: str) -> str | None:
    value = mapping.get(key)
    return str(value).strip() or None if isinstance(value, (str, int)) else None


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _filing(row: FilingRow, *, cik: str, observed_at: datetime) -> Finding:
    folder = row.accession.replace("-", "")
    document_url = (
        ARCHIVE_URL.format(cik=int(cik), folder=folder, document=row.primary_document)
        if row.primary_document
        else INDEX_URL.format(cik=int(cik), accession=row.accession)
    )
    named = [f"{i} {ITEM_NAMES[i]}" for i in row.items if i in ITEM_NAMES]
    title = f"{row.form} filed {row.filed_on}" + (f": {'; '.join(named)}" if named else "")
    return Finding(
        id=finding_id(FindingKind.FILING, row.accession),
        kind=FindingKind.FILING,
        title=title,
        source=SOURCE,
        url=document_url,
        observed_at=observed_at,
        published_at=_accepted_at(row),
        confidence=0.99,
        fields={
            "form": row.form,
            "filed_at": row.filed_on,
            "items": list(row.items),
            "accession": row.accession,
            "description": row.description or None,
            "filing_url": document_url,
            "index_url": INDEX_URL.format(cik=int(cik), accession=row.accession),
            "cik": cik,
        },
    )


def _accepted_at(row: FilingRow) -> datetime | None:
    text = row.accepted.replace("Z", "").replace(".000", "")
    try:
        local = datetime.fromisoformat(text)
    except ValueError:
        try:
            return datetime.fromisoformat(row.filed_on).replace(tzinfo=UTC)
        except ValueError:
            return None
    return local.replace(tzinfo=_EDGAR_TZ).astimezone(UTC)


class SecEdgarCollector(SourceCollector):
    """Filings, Form D offerings and officer changes of one SEC filer (needs ``cik``)."""

    name: ClassVar[str] = "sec_edgar"
    label: ClassVar[str] = "SEC EDGAR"
    data_types: ClassVar[frozenset[DataType]] = frozenset(
        {DataType.FUNDING, DataType.PEOPLE, DataType.PROFILE}
    )
    needs: ClassVar[tuple[str, ...]] = ("cik",)

    async def collect(self, ctx: CollectContext) -> CollectResult:
        try:
            cik = cik10(ctx.identifiers["cik"])
        except ValueError as exc:
            return CollectResult(findings=[], negative=True, notes=[str(exc)])
        account_key = ctx.identifiers.get("account_key") or normalize_name(ctx.account_name)
        await ctx.progress(ProgressReport(0, 1, 0, f"SEC submissions for CIK {cik}"))
        response = await self._get(SUBMISSIONS_URL.format(cik=cik), ctx)
        if response.status == 404:
            note = f"SEC has no filer with CIK {cik}"
            await ctx.progress(ProgressReport(1, 1, 0, note))
            return CollectResult(findings=[], negative=True, notes=[note])
        try:
            payload = json.loads(response.text())
            findings = parse_submissions(payload, account_key=account_key, observed_at=utcnow())
        except ValueError as exc:
            raise SourceBadAnswer(f"SEC submissions were not readable: {exc}") from exc
        rows = filing_rows(payload)
        form_d = [r for r in rows if r.form in ("D", "D/A")][:MAX_FORM_D]
        changes = [r for r in rows if r.form.startswith("8-K") and "5.02" in r.items]
        changes = changes[:MAX_EXEC_CHANGES]
        total = 1 + len(form_d) + len(changes)
        failures: list[RequestFailure] = []
        by_id = {f.id: f for f in findings}
        for row in changes:
            try:
                by_id.update((f.id, f) for f in await self._exec_change(row, cik, ctx))
            except (SourceUnavailable, ValueError) as exc:
                failures.append(RequestFailure.of(exc, f"8-K {row.accession}"))
        for finding in by_id.values():
            await ctx.emit(finding)
        done = 1 + len(changes)
        await ctx.progress(ProgressReport(done, total, len(by_id), f"{len(rows)} filings"))
        for row in form_d:
            try:
                extra = await self._form_d(row, cik, ctx)
            except (SourceUnavailable, ValueError) as exc:
                failures.append(RequestFailure.of(exc, f"Form D {row.accession}"))
                extra = []
            for finding in extra:
                if finding.id in by_id:
                    continue  # a D/A repeats the people of the D; the newest filing came first
                by_id[finding.id] = finding
                await ctx.emit(finding)
            done += 1
            await ctx.progress(ProgressReport(done, total, len(by_id), f"Form D {row.accession}"))
        return CollectResult(
            findings=list(by_id.values()),
            notes=[f.error for f in failures],
            failures=failures,
        )

    async def _get(self, url: str, ctx: CollectContext) -> SourceResponse:
        response = await self._http.get(url, on_retry=ctx.on_retry)
        if response.status == 403:
            raise SourceUnavailable(UNDECLARED_TOOL_HINT)
        if not response.ok and response.status != 404:
            raise SourceUnavailable(f"SEC answered HTTP {response.status} for {url}")
        return response

    async def _form_d(self, row: FilingRow, cik: str, ctx: CollectContext) -> list[Finding]:
        url = ARCHIVE_URL.format(
            cik=int(cik), folder=row.accession.replace("-", ""), document="primary_doc.xml"
        )
        response = await self._get(url, ctx)
        if response.status == 404:
            raise SourceUnavailable("primary_doc.xml not found")
        filed = date.fromisoformat(row.filed_on) if row.filed_on else None
        return parse_form_d(
            response.text(),
            cik=cik,
            accession=row.accession,
            filing_url=url,
            filed_on=filed,
            observed_at=utcnow(),
        )

    async def _exec_change(self, row: FilingRow, cik: str, ctx: CollectContext) -> list[Finding]:
        """The 8-K's ``filing`` finding with item 5.02 text, and the people it names."""
        index_url = INDEX_URL.format(cik=int(cik), accession=row.accession)
        index_response = await self._get(index_url, ctx)
        if index_response.status == 404:
            raise SourceUnavailable("filing index not found")
        index = parse_filing_index(index_response.text(), form=row.form)
        if index.primary_document is None:
            raise ValueError("filing index names no primary document")
        document = await self._get(index.primary_document, ctx)
        if document.status == 404:
            raise SourceUnavailable("primary document not found")
        text = item_502_text(document.text())
        observed = utcnow()
        base = _filing(row, cik=cik, observed_at=observed)
        item_titles = dict(index.items)
        fields = dict(base.fields)
        fields.update(
            {
                "items": [code for code, _ in index.items] or list(row.items),
                "item_titles": [f"Item {c}: {t}" for c, t in index.items],
                "description": text[:ITEM_502_CHARS] or item_titles.get("5.02"),
                "filing_url": index.primary_document,
            }
        )
        people = people_in_502(text)
        fields["people"] = [p.name for p in people]
        filing = base.model_copy(update={"fields": fields, "url": index.primary_document})
        company = ctx.account_name
        found = [filing]
        for person in people:
            found.append(
                person_finding(
                    name=person.name,
                    roles=short_roles(person.title or "")
                    or ([person.title] if person.title else []),
                    title=person.title,
                    change=person.change,
                    source_entity=row.accession,
                    company=company,
                    url=index.primary_document,
                    published_at=filing.published_at,
                    observed_at=observed,
                )
            )
        return found
