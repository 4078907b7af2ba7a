"""SEC EDGAR: submissions, Form D and 8-K item 5.02 on the recorded NVIDIA, Shopify and
Shepherd's Finance responses; end to end through SourceHttp over the replay transport."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from dossier.collectors.replay import ReplayTransport
from dossier.collectors.sec_edgar import SecEdgarCollector, filing_rows, parse_submissions
from dossier.collectors.sec_forms import (
    item_502_text,
    parse_filing_index,
    parse_form_d,
    people_in_502,
)
from dossier.collectors.sec_tickers import cik10
from dossier.core.coverage import FailureCause
from dossier.core.types import FindingKind, finding_id
from dossier.errors import SourceUnavailable
from dossier.settings import Settings
from tests.unit.collectors import Extra, Recorder, fixture_json, recorded, replayed

FIXTURES = Path(__file__).parents[3] / "src" / "dossier" / "fixtures" / "sec"
NOW = datetime(2026, 9, 1, tzinfo=UTC)
NVIDIA_8K = "0001045810-26-000024"


def load(name: str) -> object:
    return fixture_json(f"sec/{name}")


def collector(
    settings: Settings, extra: Extra | None = None
) -> tuple[SecEdgarCollector, ReplayTransport]:
    return replayed(SecEdgarCollector, settings, extra)


# -- pure parsers


def test_cik_is_zero_padded_to_ten_digits() -> None:
    assert cik10(1045810) == "0001045810"
    assert cik10("CIK0001594805") == "0001594805"
    with pytest.raises(ValueError):
        cik10("NVDA")


def test_nvidia_submissions_give_profile_and_recent_filings() -> None:
    findings = parse_submissions(
        load("submissions/CIK0001045810.json"), account_key="nvidia", observed_at=NOW
    )
    profile = findings[0]
    assert profile.id == finding_id(FindingKind.COMPANY_PROFILE, "nvidia")
    assert profile.fields["name"] == "NVIDIA CORP"
    assert profile.fields["cik"] == "0001045810"
    assert profile.fields["ticker"] == "NVDA"
    assert profile.fields["headquarters"] == "Santa Clara, CA"
    assert profile.fields["country"] == "United States"
    assert profile.fields["industry"] == "Semiconductors & Related Devices"
    filings = {f.fields["accession"]: f for f in findings[1:]}
    # forms 4, 144, 13F and 13G are not company news; the 10-K and both 8-Ks are
    assert set(filings) == {
        "0001045810-26-000021",
        "0001045810-26-000019",
        "0001045810-26-000003",
    }
    ten_k = filings["0001045810-26-000021"]
    assert ten_k.fields["form"] == "10-K"
    assert ten_k.fields["filed_at"] == "2026-02-25"
    # acceptanceDateTime "2026-02-25T16:42:19.000Z" is Eastern wall-clock time
    assert ten_k.published_at == datetime(2026, 2, 25, 21, 42, 19, tzinfo=UTC)
    assert filings["0001045810-26-000019"].fields["items"] == ["2.02", "9.01"]
    exec_change = filings["0001045810-26-000003"]
    assert exec_change.fields["items"] == ["5.02"]
    assert "officers or directors (appointment, departure or pay)" in exec_change.title
    assert exec_change.url == (
        "https://www.sec.gov/Archives/edgar/data/1045810/000104581026000003/nvda-20260120.htm"
    )
    assert exec_change.id == finding_id(FindingKind.FILING, "0001045810-26-000003")


def test_foreign_filer_without_filings_parses() -> None:
    payload = load("submissions/CIK0001594805.json")
    assert filing_rows(payload) == []
    (profile,) = parse_submissions(payload, account_key="shopify", observed_at=NOW)
    assert profile.fields["name"] == "SHOPIFY INC."
    assert profile.fields["headquarters"] == "Ottawa, Ontario, Canada"
    assert profile.fields["country"] == "Canada"
    assert profile.fields["ticker"] == "SHOP"


def test_submissions_parser_rejects_other_payloads() -> None:
    with pytest.raises(ValueError):
        parse_submissions({"error": "nope"}, account_key="x", observed_at=NOW)


def test_form_d_gives_offering_and_related_people() -> None:
    xml = (FIXTURES / "formd/primary_doc.xml").read_text(encoding="utf-8")
    assert xml.startswith("\n")  # the real file: blank line before the XML declaration
    findings = parse_form_d(
        xml,
        cik="0001544190",
        accession="0001544190-23-000001",
        filing_url="https://www.sec.gov/x/primary_doc.xml",
        filed_on=date(2023, 1, 31),
        observed_at=NOW,
    )
    funding = findings[0]
    assert funding.kind is FindingKind.FUNDING_ROUND
    assert funding.id == finding_id(FindingKind.FUNDING_ROUND, "0001544190", "0001544190-23-000001")
    assert funding.fields["amount"] == 8000000
    assert funding.fields["amount_sold"] == 5725051
    assert funding.fields["currency"] == "USD"
    assert funding.fields["date"] == "2017-03-16"  # date of first sale
    assert funding.fields["filed_at"] == "2023-01-31"
    assert funding.fields["round_type"] == "Form D offering"
    assert funding.fields["securities"] == ["Equity"]
    assert funding.fields["industry"] == "Other Banking and Financial Services"
    assert funding.fields["is_amendment"] is True
    assert funding.fields["previous_accession"] == "0001544190-19-000002"
    assert funding.fields["investors"] == 13
    assert "$5,725,051 sold of $8,000,000 offered" in funding.title
    people = {f.fields["name"]: f.fields for f in findings[1:]}
    assert list(people) == [
        "Daniel M. Wallach",
        "Barbara L. Harshman",
        "Catherine Loftin",
        "William Myrick",
        "Kenneth R. Summers",
        "Eric A. Rauscher",
        "Gregory L. Sheldon",
    ]
    assert people["Daniel M. Wallach"]["role"] == "CEO"
    assert people["Daniel M. Wallach"]["roles"] == ["CEO", "Director", "Executive Officer"]
    assert people["Catherine Loftin"]["role"] == "CFO"
    assert people["Kenneth R. Summers"]["roles"] == ["Director"]
    assert people["William Myrick"]["roles"] == ["Executive Officer"]
    assert all(p["source_entity"] == "0001544190-23-000001" for p in people.values())


def test_form_d_parser_refuses_non_form_d_and_dtds() -> None:
    kwargs = {"cik": "1", "accession": "a", "filing_url": "u", "filed_on": None}
    with pytest.raises(ValueError):
        parse_form_d("<html/>", observed_at=NOW, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="DTD"):
        parse_form_d(
            '<!DOCTYPE x [<!ENTITY a "aaaa">]><edgarSubmission/>',
            observed_at=NOW,
            **kwargs,  # type: ignore[arg-type]
        )


def test_filing_index_names_items_and_primary_document() -> None:
    index = parse_filing_index(
        (FIXTURES / f"8k/{NVIDIA_8K}-index.html").read_text(encoding="utf-8")
    )
    assert [code for code, _ in index.items] == ["5.02", "9.01"]
    assert index.items[0][1].startswith("Departure of Directors or Certain Officers")
    assert index.filed_on == "2026-03-06"
    assert index.primary_document == (
        "https://www.sec.gov/Archives/edgar/data/1045810/000104581026000024/nvda-20260302.htm"
    )


def test_item_502_of_the_real_nvidia_8k_lists_the_named_executive_officers() -> None:
    text = item_502_text((FIXTURES / "8k/nvda-20260302.htm").read_text(encoding="utf-8"))
    assert text.startswith("Adoption of Fiscal Year 2027 Variable Compensation Plan")
    assert "Item 9.01" not in text and "SIGNATURE" not in text
    people = people_in_502(text)
    # this 5.02 sets pay; nobody is appointed or leaving, so change is None for all
    assert [(p.name, p.title, p.change) for p in people] == [
        ("Jen-Hsun Huang", "President and Chief Executive Officer", None),
        ("Colette M. Kress", "Executive Vice President and Chief Financial Officer", None),
        ("Ajay K. Puri", "Executive Vice President, Worldwide Field Operations", None),
        ("Debora Shoquist", "Executive Vice President, Operations", None),
        ("Timothy S. Teter", "Executive Vice President, General Counsel and Secretary", None),
    ]


def test_item_502_narrative_appointments_and_departures() -> None:
    # Written here in the usual 5.02 phrasing (no recorded appointment 8-K is available).
    text = (
        "On January 5, 2026, Jane Q. Doe notified the Board of Directors of her decision "
        "to resign as Chief Financial Officer of the Company, effective February 1, 2026. "
        "Ms. Doe's decision was not the result of any disagreement with the Company.\n"
        "On January 6, 2026, the Board appointed John Smith as Chief Financial Officer, "
        "effective February 1, 2026. Mr. Smith joined the Company in 2015 as Vice "
        "President of Finance.\n"
        "Also on January 6, 2026, the Board elected Maria Garcia-Lopez to the Board of "
        "Directors. Robert T. Brown will retire as Chairman of the Board."
    )
    people = {p.name: (p.title, p.change) for p in people_in_502(text)}
    assert people == {
        "Jane Q. Doe": ("Chief Financial Officer", "departed"),
        "John Smith": ("Chief Financial Officer", "appointed"),
        "Maria Garcia-Lopez": ("Director", "appointed"),
        "Robert T. Brown": ("Chairman", "departed"),
    }


# -- end to end through SourceHttp and the replay transport


async def test_nvidia_end_to_end_with_the_recorded_item_502(settings: Settings) -> None:
    sec, transport = collector(settings)
    recorder = Recorder()
    ctx = recorder.account("NVIDIA", {"cik": "1045810", "account_key": "nvidia"})
    result = await sec.collect(ctx)
    assert transport.requests == [
        "https://data.sec.gov/submissions/CIK0001045810.json",
        f"https://www.sec.gov/Archives/edgar/data/1045810/{NVIDIA_8K}-index.html",
        "https://www.sec.gov/Archives/edgar/data/1045810/000104581026000024/nvda-20260302.htm",
    ]
    assert not result.negative and result.notes == []
    assert {f.id for f in result.findings} == {f.id for f in recorder.emitted}
    (profile,) = recorder.of(FindingKind.COMPANY_PROFILE)
    assert profile.fields["ticker"] == "NVDA"
    filings = {f.fields["accession"]: f for f in recorder.of(FindingKind.FILING)}
    assert len(filings) == 4
    change = filings[NVIDIA_8K]
    assert change.fields["items"] == ["5.02", "9.01"]
    assert change.fields["form"] == "8-K"
    assert change.fields["filed_at"] == "2026-03-06"
    description = str(change.fields["description"])
    assert "Variable Compensation Plan for Fiscal Year 2027" in description
    assert change.published_at == datetime(2026, 3, 6, 21, 11, 25, tzinfo=UTC)
    people = {f.fields["name"]: f for f in recorder.of(FindingKind.PERSON)}
    assert set(people) == {
        "Jen-Hsun Huang",
        "Colette M. Kress",
        "Ajay K. Puri",
        "Debora Shoquist",
        "Timothy S. Teter",
    }
    huang = people["Jen-Hsun Huang"].fields
    assert huang["role"] == "CEO"
    assert huang["roles"] == ["CEO", "President"]
    assert huang["change"] is None
    assert huang["source_entity"] == NVIDIA_8K
    assert people["Colette M. Kress"].fields["role"] == "CFO"
    assert recorder.progress[-1].done == recorder.progress[-1].total
    assert recorder.progress[-1].found == len(result.findings)


async def test_shopify_foreign_filer_end_to_end(settings: Settings) -> None:
    sec, _ = collector(settings)
    recorder = Recorder()
    ctx = recorder.account("Shopify", {"cik": "0001594805", "account_key": "shopify"})
    result = await sec.collect(ctx)
    assert not result.negative
    (profile,) = result.findings
    assert profile.fields["country"] == "Canada"


async def test_form_d_end_to_end(settings: Settings) -> None:
    # A submissions body written for this test (Shepherd's Finance's real one was not
    # recorded, nor the accession of its Form D/A): one D/A row, shaped like EDGAR's.
    submissions = {
        "cik": "0001544190",
        "name": "Shepherd's Finance, LLC",
        "filings": {
            "recent": {
                "accessionNumber": ["0001544190-23-000001"],
                "filingDate": ["2023-01-31"],
                "acceptanceDateTime": ["2023-01-31T10:00:00.000Z"],
                "form": ["D/A"],
                "items": [""],
                "primaryDocument": ["xslFormDX01/primary_doc.xml"],
                "primaryDocDescription": [""],
            }
        },
    }
    url = "https://data.sec.gov/submissions/CIK0001544190.json"
    body = json.dumps(submissions).encode()
    form_d = "https://www.sec.gov/Archives/edgar/data/1544190/000154419023000001/primary_doc.xml"
    sec, transport = collector(
        settings,
        {
            url: (200, {"content-type": "application/json"}, body),
            form_d: (200, {"content-type": "text/xml"}, recorded("sec/formd/primary_doc.xml")[2]),
        },
    )
    recorder = Recorder()
    ctx = recorder.account("Shepherd's Finance", {"cik": "1544190"})
    await sec.collect(ctx)
    assert transport.requests[-1] == (
        "https://www.sec.gov/Archives/edgar/data/1544190/000154419023000001/primary_doc.xml"
    )
    (funding,) = recorder.of(FindingKind.FUNDING_ROUND)
    assert (funding.fields["amount"], funding.fields["amount_sold"]) == (8000000, 5725051)
    assert funding.fields["cik"] == "0001544190"
    assert funding.fields["accession"] == "0001544190-23-000001"
    assert len(recorder.of(FindingKind.PERSON)) == 7
    assert len(recorder.of(FindingKind.FILING)) == 1


async def test_unknown_cik_is_a_negative_answer(settings: Settings) -> None:
    url = "https://data.sec.gov/submissions/CIK0999999999.json"
    sec, _ = collector(
        settings, {url: recorded("sec/errors/submissions_CIK-000000001_404.xml", 404)}
    )
    recorder = Recorder()
    ctx = recorder.account("NVIDIA", {"cik": "999999999"})
    result = await sec.collect(ctx)
    assert result.negative
    assert result.findings == [] and recorder.emitted == []
    assert result.notes == ["SEC has no filer with CIK 0999999999"]


async def test_undeclared_tool_403_asks_for_a_contact_email(settings: Settings) -> None:
    page = (FIXTURES / "errors/undeclared_automated_tool_403.html").read_bytes()
    url = "https://data.sec.gov/submissions/CIK0001045810.json"
    sec, _ = collector(settings, {url: (403, {"content-type": "text/html"}, page)})
    with pytest.raises(SourceUnavailable, match="DOSSIER_CONTACT_EMAIL"):
        await sec.collect(Recorder().account("NVIDIA", {"cik": "1045810"}))


async def test_garbage_is_source_unavailable(settings: Settings) -> None:
    url = "https://data.sec.gov/submissions/CIK0001045810.json"
    sec, _ = collector(settings, {url: (200, {"content-type": "text/html"}, b"<html>oops")})
    with pytest.raises(SourceUnavailable):
        await sec.collect(Recorder().account("NVIDIA", {"cik": "1045810"}))


async def test_an_unreadable_8k_leaves_the_rest(settings: Settings) -> None:
    index = f"https://www.sec.gov/Archives/edgar/data/1045810/{NVIDIA_8K}-index.html"
    sec, _ = collector(settings, {index: (200, {"content-type": "text/html"}, b"<html/>")})
    recorder = Recorder()
    ctx = recorder.account("NVIDIA", {"cik": "1045810"})
    result = await sec.collect(ctx)
    assert len(recorder.of(FindingKind.FILING)) == 4
    assert recorder.of(FindingKind.PERSON) == []
    assert result.notes == ["8-K 0001045810-26-000024: filing index names no primary document"]
    (failure,) = result.failures
    assert failure.cause is FailureCause.GARBAGE


def test_collector_contract(settings: Settings) -> None:
    sec, _ = collector(settings)
    assert sec.name == "sec_edgar"
    assert sec.applicable({"cik": "1045810"})
    assert not sec.applicable({"name": "Stripe"})
