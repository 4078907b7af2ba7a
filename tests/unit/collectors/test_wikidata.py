"""Wikidata: company profile and leaders of Stripe, NVIDIA and Shopify from real recordings."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest

from dossier.collectors.normalize import person_key
from dossier.collectors.replay import ReplayTransport
from dossier.collectors.wikidata import (
    API_URL,
    CompanyClaims,
    WikidataCollector,
    company_findings,
    company_hits,
    entity_params,
    labels_params,
    parse_entity,
    parse_labels,
)
from dossier.core.types import Finding, FindingKind, finding_id
from dossier.errors import SourceUnavailable
from dossier.settings import Settings
from tests.unit.collectors import Extra, Recorder, fixture_json, replayed

NOW = datetime(2026, 9, 1, tzinfo=UTC)


def load(name: str) -> object:
    return fixture_json(f"wikidata/{name}")


def claims_of(qid: str, name: str | None = None) -> CompanyClaims:
    claims = parse_entity(load(name or f"wbgetentities_{qid}.json"), qid=qid)
    assert claims is not None
    return claims


def collector(
    settings: Settings, extra: Extra | None = None
) -> tuple[WikidataCollector, ReplayTransport]:
    return replayed(WikidataCollector, settings, extra)


def by_name(findings: list[Finding]) -> dict[str, Finding]:
    return {str(f.fields["name"]): f for f in findings if f.kind is FindingKind.PERSON}


def test_referenced_items_are_batched_in_numeric_order() -> None:
    assert claims_of("Q182477").referenced_ids() == [
        "Q30",
        "Q159260",
        "Q305177",
        "Q5107317",
        "Q5195858",
    ]
    assert labels_params(["Q16", "Q1930"])["ids"] == "Q16|Q1930"
    assert labels_params(["Q16"])["props"] == "labels"
    assert entity_params("Q182477")["props"] == "labels|claims"


def test_labels_come_from_the_real_referenced_entities_recording() -> None:
    labels = parse_labels(load("wbgetentities_Q1930_Q20684647.json"))
    assert labels == {"Q1930": "Ottawa", "Q20684647": "Tobias Lütke"}


def test_nvidia_profile_and_people() -> None:
    labels = parse_labels(load("constructed_labels_Q30_Q159260_Q305177_Q5107317_Q5195858.json"))
    findings = company_findings(claims_of("Q182477"), labels, account_key="nvidia", observed_at=NOW)
    profile = findings[0]
    assert profile.kind is FindingKind.COMPANY_PROFILE
    assert profile.id == finding_id(FindingKind.COMPANY_PROFILE, "nvidia")
    assert profile.url == "https://www.wikidata.org/wiki/Q182477"
    fields = profile.fields
    assert fields["name"] == "Nvidia"
    assert fields["headquarters"] == "Santa Clara"
    assert fields["country"] == "United States"
    assert fields["founded"] == "1993-04-05"
    assert fields["founded_year"] == 1993
    # four P1128 values; the preferred one (also the latest) wins
    assert fields["employees"] == 42000
    assert fields["employees_as_of"] == "2026-01-25"
    assert fields["wikidata"] == "Q182477"
    people = by_name(findings)
    assert set(people) == {"Jensen Huang", "Chris Malachowsky", "Curtis Priem"}
    huang = people["Jensen Huang"]
    assert huang.fields["role"] == "CEO"
    assert huang.fields["roles"] == ["CEO", "Founder"]  # one finding for both roles
    assert huang.fields["since"] == "1993"  # P580 at year precision
    assert huang.fields["source_entity"] == "Q305177"
    assert huang.id == finding_id(FindingKind.PERSON, person_key("Jensen Huang"))
    assert people["Curtis Priem"].fields["roles"] == ["Founder"]


def test_stripe_ceo_and_founder_are_one_person() -> None:
    labels = parse_labels(load("constructed_labels_Q27_Q30_Q62_Q927122_Q7146257_Q16233063.json"))
    findings = company_findings(
        claims_of("Q7624104"), labels, account_key="stripe", observed_at=NOW
    )
    fields = findings[0].fields
    assert fields["founded"] == 2010  # "+2010-00-00T00:00:00Z", precision 9
    # two normal-rank P1128 values: the latest point in time wins
    assert (fields["employees"], fields["employees_as_of"]) == (8000, 2022)
    assert fields["headquarters"] == "San Francisco"
    assert fields["headquarters_all"] == ["San Francisco", "South San Francisco"]
    assert fields["countries"] == ["United States", "Ireland"]
    people = by_name(findings)
    assert set(people) == {"Patrick Collison", "John Collison"}
    assert people["Patrick Collison"].fields["roles"] == ["CEO", "Founder"]
    assert people["Patrick Collison"].title == "Patrick Collison — CEO and Founder of Stripe"
    assert people["John Collison"].fields["role"] == "Founder"


def test_shopify_preferred_employee_count_beats_a_larger_older_one() -> None:
    labels = parse_labels(load("constructed_labels_Q16_Q1930_Q20684647.json"))
    findings = company_findings(
        claims_of("Q7501150"), labels, account_key="shopify", observed_at=NOW
    )
    fields = findings[0].fields
    assert (fields["employees"], fields["employees_as_of"]) == (8300, 2023)
    assert (fields["headquarters"], fields["country"], fields["founded"]) == (
        "Ottawa",
        "Canada",
        2006,
    )
    (founder,) = by_name(findings).values()
    assert founder.fields["name"] == "Tobias Lütke"
    assert founder.fields["roles"] == ["Founder"]
    assert founder.id == finding_id(FindingKind.PERSON, "tobias lutke")


def test_identifier_claims_of_the_full_stripe_entity() -> None:
    claims = claims_of("Q7624104", "Q7624104.json")
    fields = company_findings(claims, {}, account_key="stripe", observed_at=NOW)[0].fields
    assert fields["website"] == "https://stripe.com/"
    assert fields["cik"] == "0001691342"
    assert fields["lei"] == "549300CLHGIPTCYHQ143"
    # without labels nobody is named, rather than showing bare Q-ids
    assert fields["industry"] is None


def test_missing_item_and_foreign_payloads() -> None:
    missing = {"entities": {"Q1": {"id": "Q1", "missing": ""}}, "success": 1}
    assert parse_entity(missing, qid="Q1") is None
    error = {"error": {"code": "no-such-entity", "info": "Could not find..."}}
    assert parse_entity(error, qid="Q1") is None
    with pytest.raises(ValueError):
        parse_entity(["nope"], qid="Q1")
    with pytest.raises(ValueError):
        parse_labels({"search": []})


def test_search_hits_keep_only_the_company() -> None:
    companies, others = company_hits(load("wbsearchentities_Stripe.json"), name="Stripe")
    assert [c["wikidata"] for c in companies] == ["Q7624104"]
    assert companies[0]["description"] == "Irish-American payment technology company"
    # the colour band, the Gremlins character and the progamer share the name; the beetle
    # (matched on the alias "Striped Blister Beetle") does not
    assert [o["wikidata"] for o in others] == ["Q3421342", "Q127900502", "Q117454382"]
    assert company_hits(load("wbsearchentities_nothing.json"), name="zzqx") == ([], [])


@pytest.mark.parametrize(
    ("qid", "name", "ceo", "people"),
    [
        ("Q7624104", "Stripe", "Patrick Collison", 2),
        ("Q182477", "NVIDIA", "Jensen Huang", 3),
        ("Q7501150", "Shopify", None, 1),
    ],
)
async def test_end_to_end(
    settings: Settings, qid: str, name: str, ceo: str | None, people: int
) -> None:
    wikidata, transport = collector(settings)
    recorder = Recorder()
    ctx = recorder.account(name, {"wikidata": qid})
    result = await wikidata.collect(ctx)
    assert len(transport.requests) == 2  # the item, then one batch of labels
    assert "props=labels%7Cclaims" in transport.requests[0]
    assert "props=labels&" in transport.requests[1]
    assert recorder.emitted == result.findings
    persons = by_name(result.findings)
    assert len(persons) == people
    ceos = [n for n, f in persons.items() if "CEO" in f.fields["roles"]]  # type: ignore[operator]
    assert ceos == ([ceo] if ceo else [])
    assert recorder.progress[-1].done == recorder.progress[-1].total == 2


async def test_unknown_item_is_negative(settings: Settings) -> None:
    url = f"{API_URL}?{urlencode(entity_params('Q999999999'))}"
    body = b'{"entities":{"Q999999999":{"id":"Q999999999","missing":""}},"success":1}'
    wikidata, _ = collector(settings, {url: (200, {"content-type": "application/json"}, body)})
    result = await wikidata.collect(Recorder().account("Nobody", {"wikidata": "Q999999999"}))
    assert result.negative and result.findings == []


async def test_server_error_is_unavailable(settings: Settings) -> None:
    url = f"{API_URL}?{urlencode(entity_params('Q182477'))}"
    wikidata, _ = collector(settings, {url: (500, {}, b"")})
    with pytest.raises(SourceUnavailable):
        await wikidata.collect(Recorder().account("NVIDIA", {"wikidata": "Q182477"}))
