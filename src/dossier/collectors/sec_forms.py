"""Pure parsers for the SEC documents behind a filing: Form D XML and 8-K item 5.02.

Split from :mod:`dossier.collectors.sec_edgar` (which fetches) to keep each module small;
HTML is read by :mod:`dossier.collectors.sec_pages` (an HTML parser), regular expressions
here only read the text it gives.

- Form D ``primary_doc.xml`` -> one ``funding_round`` (offering and amount sold) plus one
  ``person`` per related person (executive officer / director / promoter). Real files start
  with a blank line before the XML declaration, which XML parsers reject; it is stripped.
- 8-K filing index HTML -> item codes with their titles and the primary document path.
- 8-K primary document -> the text of item 5.02 and the people it names, with their title
  and whether they were appointed or are departing (``None`` when the item only sets pay,
  as NVIDIA's 0001045810-26-000024 does: it lists the named executive officers).
"""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from pydantic import JsonValue

from dossier.collectors.normalize import person_key, short_roles
from dossier.collectors.parsing import parse_datetime
from dossier.collectors.sec_pages import document_text, scan_index_page
from dossier.core.types import Finding, FindingKind, finding_id

SOURCE = "sec_edgar"
ITEM_502_CHARS = 4000
Change = Literal["appointed", "departed"]

_AMENDMENT = "typeOfFiling/newOrAmendment"
_SECURITY_TYPES = {
    "isEquityType": "Equity",
    "isDebtType": "Debt",
    "isOptionToAcquireType": "Option, Warrant or Other Right to Acquire",
    "isSecurityToBeAcquiredType": "Security to be Acquired Upon Exercise",
    "isPooledInvestmentFundType": "Pooled Investment Fund Interests",
    "isTenantInCommonType": "Tenant-in-Common Securities",
    "isMineralPropertyType": "Mineral Property Securities",
}


# -- Form D


def parse_form_d(
    xml_text: str,
    *,
    cik: str,
    accession: str,
    filing_url: str,
    filed_on: date | None,
    observed_at: datetime,
) -> list[Finding]:
    """A ``funding_round`` and the related ``person`` findings of one Form D.

    Raises ValueError if the text is not a Form D ``edgarSubmission``.
    """
    root = _xml_root(xml_text)
    offering = _child(root, "offeringData")
    issuer = _text(root, "primaryIssuer/entityName") or "the issuer"
    if offering is None:
        raise ValueError("Form D without offeringData")
    amount = _number(_text(offering, "offeringSalesAmounts/totalOfferingAmount"))
    sold = _number(_text(offering, "offeringSalesAmounts/totalAmountSold"))
    first_sale = _text(offering, "typeOfFiling/dateOfFirstSale/value")
    signed = _text(offering, "signatureBlock/signature/signatureDate")
    securities = [label for tag, label in _SECURITY_TYPES.items() if _flag(offering, tag)]
    other = _text(offering, "typesOfSecuritiesOffered/descriptionOfOtherType")
    if other:
        securities.append(other)
    filed = filed_on.isoformat() if filed_on else signed
    submission = _text(root, "submissionType") or "D"
    amendment = _text(offering, f"{_AMENDMENT}/isAmendment") == "true"
    fields: dict[str, JsonValue] = {
        "amount": amount,
        "amount_sold": sold,
        "amount_remaining": _number(_text(offering, "offeringSalesAmounts/totalRemaining")),
        "currency": "USD",
        "date": first_sale if _is_iso_date(first_sale) else filed,
        "date_of_first_sale": first_sale,
        "filed_at": filed,
        "round_type": "Form D offering",
        "form": submission,
        "is_amendment": amendment,
        "previous_accession": _text(
            offering, "typeOfFiling/newOrAmendment/previousAccessionNumber"
        ),
        "securities": list(securities),
        "industry": _text(offering, "industryGroup/industryGroupType"),
        "exemptions": [e.text.strip() for e in _all(offering, "item") if e.text],
        "investors": _number(_text(offering, "investors/totalNumberAlreadyInvested")),
        "issuer": issuer,
        "filing_url": filing_url,
        "cik": cik,
        "accession": accession,
    }
    published = _date_time(filed)
    amounts = f"${sold:,} sold" if sold is not None else "amount sold not stated"
    if amount is not None:
        amounts += f" of ${amount:,} offered"
    findings = [
        Finding(
            id=finding_id(FindingKind.FUNDING_ROUND, cik, accession),
            kind=FindingKind.FUNDING_ROUND,
            title=f"{issuer}: {submission} offering, {amounts}",
            source=SOURCE,
            url=filing_url,
            observed_at=observed_at,
            published_at=published,
            confidence=0.95,
            fields=fields,
        )
    ]
    for person in _all(root, "relatedPersonInfo"):
        name = " ".join(
            part
            for part in (
                _text(person, "relatedPersonName/firstName"),
                _text(person, "relatedPersonName/middleName"),
                _text(person, "relatedPersonName/lastName"),
            )
            if part
        )
        if not person_key(name):
            continue
        relationships = [r.text.strip() for r in _all(person, "relationship") if r.text]
        clarification = _text(person, "relationshipClarification")
        roles = list(dict.fromkeys(short_roles(clarification or "") + relationships))
        findings.append(
            person_finding(
                name=name,
                roles=roles,
                title=clarification,
                change=None,
                source_entity=accession,
                company=issuer,
                url=filing_url,
                published_at=published,
                observed_at=observed_at,
            )
        )
    return findings


def person_finding(
    *,
    name: str,
    roles: list[str],
    title: str | None,
    change: Change | None,
    source_entity: str,
    company: str,
    url: str | None,
    published_at: datetime | None,
    observed_at: datetime,
    since: str | None = None,
) -> Finding:
    """A ``person`` finding as the SEC states it (id from :func:`person_key`)."""
    role = roles[0] if roles else (title or "")
    verb = {"appointed": "appointed", "departed": "departing"}.get(change or "", "")
    label = title or ", ".join(roles)
    return Finding(
        id=finding_id(FindingKind.PERSON, person_key(name)),
        kind=FindingKind.PERSON,
        title=" — ".join(p for p in (name, f"{verb} {label}".strip()) if p),
        source=SOURCE,
        url=url,
        observed_at=observed_at,
        published_at=published_at,
        confidence=0.9,
        fields={
            "name": name,
            "role": role,
            "roles": list(roles),
            "title": title,
            "since": since,
            "change": change,
            "company": company,
            "source_entity": source_entity,
        },
    )


# -- 8-K


@dataclass(frozen=True)
class FilingIndex:
    items: list[tuple[str, str]]  # ("5.02", "Departure of Directors or Certain Officers; ...")
    primary_document: str | None  # absolute URL of the main document
    filed_on: str | None


@dataclass(frozen=True)
class PersonChange:
    name: str
    title: str | None
    change: Change | None


_ITEM_RE = re.compile(r"Item\s+(\d+\.\d+):?\s*(.*)")


def parse_filing_index(markup: str, *, form: str = "8-K") -> FilingIndex:
    """Items and primary document of an EDGAR ``…-index.html`` page.

    The primary document is the first listed whose type is ``form``.
    """
    page = scan_index_page(markup)
    items: list[tuple[str, str]] = []
    for line in page.info.get("Items", []):
        match = _ITEM_RE.match(line)
        if match:
            items.append((match.group(1), match.group(2).strip()))
    filed = page.info.get("Filing Date")
    primary: str | None = None
    for row in page.rows:
        cells = [cell for cell in row if not cell.header]
        if len(cells) >= 4 and cells[3].text.upper() == form.upper() and cells[2].hrefs:
            # the inline-XBRL viewer wraps the document path: /ix?doc=/Archives/...
            path = cells[2].hrefs[0].removeprefix("/ix?doc=")
            primary = "https://www.sec.gov" + path if path.startswith("/") else path
            break
    return FilingIndex(items, primary, filed[0] if filed else None)


def item_502_text(markup: str) -> str:
    """The body of item 5.02 in an 8-K document (without its heading), or ""."""
    text = document_text(markup)
    start = re.search(r"(?im)^\s*Item\s*5\.02\b.*$", text)
    if not start:
        return ""
    rest = text[start.end() :]
    end = re.search(r"(?im)^\s*(Item\s*\d+\.\d+\b|SIGNATURES?\b)", rest)
    return (rest[: end.start()] if end else rest).strip()


# first name (maybe hyphenated), middle initials, one or two surnames
_NAME = (
    r"[A-Z][a-z]+(?:-[A-Z]?[a-z]+)?(?:\s+[A-Z]\.)*"
    r"(?:\s+(?:Mc|Mac|O')?[A-Z][a-z]+(?:-[A-Z][a-z]+)?){1,2}"
)
_NAME_RE = re.compile(rf"\b{_NAME}\b(?:,? Jr\.)?")
_NAME_LINE_RE = re.compile(rf"^(?:Mr\.|Ms\.|Mrs\.|Dr\.)?\s*{_NAME}(?:,? Jr\.)?$")
# capitalised words that end up next to names in filings but are never part of one
_NOT_NAME_TEXT = (
    "Board Company Committee Compensation Directors Director Officer Chief Executive "
    "President Vice Plan Fiscal Year Item Form Exhibit Section Securities Exchange "
    "Act Agreement Corporation Annual Meeting General Counsel Secretary Operations "
    "Worldwide Field Target Award Base Named Performance Goals Report Current Nasdaq "
    "Market Global Select Common Stock Financial Statements January February March "
    "April May June July August September October November December Mr Ms Dr The "
    "This On In Effective "
)
_NOT_NAME_WORDS = frozenset(_NOT_NAME_TEXT.split())
_TITLE_WORDS_RE = re.compile(
    r"(?i)\b(officer|president|director|counsel|secretary|treasurer|controller|chair\w*|"
    r"founder|member of the board)\b"
)
_APPOINTED_RE = re.compile(
    r"(?i)\b(appoint\w*|elected|election of|promot\w*|(?:was|were|been|be) named|named \w+ as)\b"
)
# "termination" and "joined" are left out: they fill pay terms and biographies
_DEPARTED_RE = re.compile(
    r"(?i)\b(resign\w*|retire\w*|step(ped|ping|s)? down|depart\w*|will leave|"
    r"not (to )?stand for re-?election|separation from)\b"
)
_AS_TITLE_RE = re.compile(
    r"\bas (?:the Company's |its |our |the |a |an )?"
    r"((?:[A-Z][A-Za-z\-]+[ ,]*(?:and |of |& )?)*?(?:Officer|President|Director|Counsel|"
    r"Secretary|Treasurer|Controller|Chair\w*))"
)


def people_in_502(text: str) -> list[PersonChange]:
    """People item 5.02 names, with their title and change (see module docstring).

    Two shapes occur: narrative sentences ("X notified the Board of his decision to resign
    as Chief Financial Officer"; "the Board appointed Y as ...") and tables of named
    executive officers (a name line followed by a title line) when only pay is set.
    """
    found: dict[str, PersonChange] = {}
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line, following in itertools.pairwise(lines):
        if _is_name(line) and _TITLE_WORDS_RE.search(following) and not _is_name(following):
            name = re.sub(r"^(Mr|Ms|Mrs|Dr)\.\s*", "", line)
            found.setdefault(person_key(name), PersonChange(name, following.rstrip(" ,;"), None))
    for sentence in re.split(r"(?<=[a-z0-9)])\.\s+(?=[A-Z])", " ".join(lines)):
        verbs: list[tuple[int, Change]] = [
            (m.start(), "departed") for m in _DEPARTED_RE.finditer(sentence)
        ] + [(m.start(), "appointed") for m in _APPOINTED_RE.finditer(sentence)]
        if not verbs:
            continue
        titles = [(m.start(), m.group(1).strip(" ,")) for m in _AS_TITLE_RE.finditer(sentence)]
        for match in _NAME_RE.finditer(sentence):
            name = _trim_name(match.group(0))
            key = person_key(name)
            if not name or (key in found and found[key].change is not None):
                continue  # the first statement about a person is the news; later ones are bio
            where = match.start()
            change = min(verbs, key=lambda v: abs(v[0] - where))[1]
            title = min(titles, key=lambda t: abs(t[0] - where))[1] if titles else None
            if title is None and re.search(r"(?i)\bthe board\b", sentence):
                title = "Director"
            previous = found.get(key)
            found[key] = PersonChange(name, title or (previous.title if previous else None), change)
    return list(found.values())


def _trim_name(candidate: str) -> str:
    """A name regex match without capitalised non-name words stuck to either end."""
    words = candidate.split()
    while words and words[-1].strip(",.") in _NOT_NAME_WORDS:
        words.pop()
    while words and words[0].strip(",.") in _NOT_NAME_WORDS:
        words.pop(0)
    name = " ".join(words).rstrip(",")
    return name if len(words) >= 2 and _is_name(name) else ""


def _is_name(text: str) -> bool:
    if not _NAME_LINE_RE.match(text):
        return False
    words = re.findall(r"[A-Za-z]+", text)
    return not any(word in _NOT_NAME_WORDS for word in words)


# -- XML helpers (namespace-agnostic: Form D versions differ in namespace use)


def _xml_root(xml_text: str) -> ET.Element:
    text = xml_text.lstrip("\ufeff \t\r\n")
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        # Form D has no DTD; refusing one keeps entity-expansion tricks out of the parser
        raise ValueError("refusing XML with a DTD")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ValueError(f"not XML: {exc}") from exc
    for element in root.iter():
        element.tag = element.tag.rsplit("}", 1)[-1]
    if root.tag != "edgarSubmission":
        raise ValueError(f"not a Form D submission (<{root.tag}>)")
    return root


def _child(element: ET.Element, path: str) -> ET.Element | None:
    return element.find(path)


def _all(element: ET.Element, tag: str) -> list[ET.Element]:
    return list(element.iter(tag))


def _text(element: ET.Element, path: str) -> str | None:
    found = element.find(path)
    if found is None or found.text is None or not found.text.strip():
        return None
    return found.text.strip()


def _flag(offering: ET.Element, tag: str) -> bool:
    return _text(offering, f"typesOfSecuritiesOffered/{tag}") == "true"


def _number(value: str | None) -> int | None:
    """Dollar amounts and counts; "Indefinite" and blanks give None."""
    if value is None:
        return None
    try:
        return int(float(value.replace(",", "")))
    except ValueError:
        return None


def _is_iso_date(value: str | None) -> bool:
    return bool(value and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value))


def _date_time(value: str | None) -> datetime | None:
    return parse_datetime(value) if _is_iso_date(value) else None
