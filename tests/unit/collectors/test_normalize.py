"""De-duplication: one story, one person, one profile, whatever the number of sources."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import JsonValue

from dossier.collectors.normalize import (
    canonical_url,
    merge_findings,
    person_key,
    same_story,
    short_roles,
    url_key,
)
from dossier.collectors.wikidata import company_findings, parse_entity, parse_labels
from dossier.core.types import Finding, FindingKind, finding_id
from tests.fakes import make_finding

FIXTURES = Path(__file__).parents[3] / "src" / "dossier" / "fixtures" / "wikidata"
NOW = datetime(2026, 9, 1, tzinfo=UTC)


def story(
    source: str,
    url: str,
    title: str,
    published: datetime | None,
    confidence: float = 0.6,
) -> Finding:
    return make_finding(
        FindingKind.NEWS_ARTICLE,
        title,
        key=(url,),
        url=url,
        at=NOW,
        published_at=published,
        source=source,
        confidence=confidence,
        outlet=source,
    )


def person(source: str, name: str, roles: list[str], confidence: float) -> Finding:
    return make_finding(
        FindingKind.PERSON,
        name,
        key=(person_key(name),),
        url=None,
        at=NOW,
        published_at=None,
        source=source,
        confidence=confidence,
        name=name,
        role=roles[0],
        roles=list[JsonValue](roles),
    )


def stripe_people() -> list[Finding]:
    claims = parse_entity(
        json.loads((FIXTURES / "wbgetentities_Q7624104.json").read_text()), qid="Q7624104"
    )
    assert claims is not None
    batch = FIXTURES / "constructed_labels_Q27_Q30_Q62_Q927122_Q7146257_Q16233063.json"
    labels = parse_labels(json.loads(batch.read_text(encoding="utf-8")))
    return company_findings(claims, labels, account_key="stripe", observed_at=NOW)[1:]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (
            "https://www.Example.com/news/stripe-raises/?utm_source=hn&utm_medium=x",
            "http://example.com/news/stripe-raises",
        ),
        ("https://example.com/a?id=7&fbclid=XYZ#comments", "https://example.com/a?id=7"),
        ("https://example.com/a?ref=hn&b=2&a=1", "https://example.com/a?a=1&b=2"),
        ("https://example.com:443/a/", "https://example.com/a"),
    ],
)
def test_links_to_one_article_share_a_key(a: str, b: str) -> None:
    assert url_key(a) == url_key(b)


def test_url_key_keeps_what_identifies_the_page() -> None:
    assert url_key("https://example.com/a?id=7") != url_key("https://example.com/a?id=8")
    assert url_key("https://blog.example.com/a") != url_key("https://example.com/a")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Collison, Patrick", "Patrick Collison"),
        ("Daniel M. Wallach", "Daniel Wallach"),
        ("Dr. Jane Q. Doe, Jr.", "Jane Doe"),
        ("Tobias Lütke", "Tobias Lutke"),
        ("PATRICK COLLISON", "patrick collison"),
        ("John Patrick Collison", "John Collison"),
    ],
)
def test_person_keys_of_one_person_agree(a: str, b: str) -> None:
    assert person_key(a) == person_key(b) != ""


def test_person_keys_of_different_people_differ() -> None:
    assert person_key("Patrick Collison") != person_key("John Collison")
    assert person_key("") == ""


def test_short_roles() -> None:
    assert short_roles("President and Chief Executive Officer") == ["CEO", "President"]
    assert short_roles("Executive Vice President and Chief Financial Officer") == [
        "CFO",
        "Executive Vice President",
    ]
    assert short_roles("Chief Human Resources Officer") == ["CHRO"]
    assert short_roles("Member of the Board of Managers") == ["Director"]
    assert short_roles("Executive Vice President, General Counsel and Secretary") == [
        "Executive Vice President",
        "General Counsel",
        "Secretary",
    ]


def test_same_story_from_hn_and_gdelt_merges() -> None:
    when = datetime(2026, 3, 1, 12, tzinfo=UTC)
    hn = story(
        "hn",
        "https://www.example.com/stripe-bridge/?utm_source=hn",
        "Stripe closes Bridge deal",
        when,
        0.8,
    )
    gdelt = story(
        "gdelt", "http://example.com/stripe-bridge", "Stripe Closes Bridge Deal", when, 0.7
    )
    (merged,) = merge_findings([gdelt, hn])
    assert merged.id == hn.id  # the most confident keeps its (already cited) id
    assert merged.fields["sources"] == ["gdelt", "hn"]
    assert merged.fields["merged_ids"] == [gdelt.id]
    assert merged.confidence == 0.8


def test_near_identical_titles_within_three_days_merge() -> None:
    day = datetime(2026, 3, 1, tzinfo=UTC)
    title = "Stripe launches stablecoin accounts in 101 countries"
    a = story("hn", "https://a.example/1", title, day)
    b = story("gdelt", "https://b.example/2", title + "!", day + timedelta(days=2))
    far = story("rss", "https://c.example/3", title, day + timedelta(days=10))
    other = story("gdelt", "https://d.example/4", "Stripe tender offer values company", day)
    merged = merge_findings([a, b, far, other])
    assert len(merged) == 3
    assert merged[0].fields["sources"] == ["gdelt", "hn"]
    assert merged[0].published_at == day  # the earliest publication


def test_same_person_from_wikidata_and_form_d_merges() -> None:
    patrick, john = stripe_people()
    form_d = person("sec_edgar", "Collison, Patrick", ["Director", "Executive Officer"], 0.9)
    merged = merge_findings([patrick, john, form_d])
    assert len(merged) == 2
    combined = next(f for f in merged if f.fields["name"] == "Patrick Collison")
    assert combined.source == "sec_edgar"  # the more confident source is the base
    assert combined.title == "Collison, Patrick"
    assert combined.id == finding_id(FindingKind.PERSON, "patrick collison")
    assert combined.fields["sources"] == ["sec_edgar", "wikidata"]
    assert combined.fields["roles"] == ["Director", "Executive Officer", "CEO", "Founder"]


def test_profiles_with_one_id_fill_each_other() -> None:
    def profile(source: str, confidence: float, **fields: JsonValue) -> Finding:
        return make_finding(
            FindingKind.COMPANY_PROFILE,
            "Stripe",
            key=("stripe",),
            url=None,
            at=NOW,
            published_at=None,
            source=source,
            confidence=confidence,
        ).model_copy(update={"fields": dict(fields)})

    wikidata = profile("wikidata", 0.85, employees=8000, description=None, founded=2010)
    wikipedia = profile("wikipedia", 0.8, description="Stripe, Inc. is ...", employees=None)
    (merged,) = merge_findings([wikipedia, wikidata])
    assert merged.source == "wikidata"
    assert merged.fields["employees"] == 8000
    assert merged.fields["description"] == "Stripe, Inc. is ..."
    assert merged.fields["sources"] == ["wikidata", "wikipedia"]
    assert "merged_ids" not in merged.fields


def test_merge_does_not_depend_on_arrival_order() -> None:
    findings = [*stripe_people(), person("sec_edgar", "Patrick Collison", ["Director"], 0.9)]
    forward = merge_findings(findings)
    backward = merge_findings(list(reversed(findings)))
    assert sorted(f.model_dump_json() for f in forward) == sorted(
        f.model_dump_json() for f in backward
    )


def test_dates_come_out_in_utc() -> None:
    tokyo = timezone(timedelta(hours=9))
    local = story("hn", "https://example.com/x", "X", datetime(2026, 3, 2, 9, tzinfo=tokyo))
    (merged,) = merge_findings([local])
    assert merged.published_at == datetime(2026, 3, 2, 0, tzinfo=UTC)
    assert merged.published_at is not None and merged.published_at.utcoffset() == timedelta(0)


def test_same_story_needs_dates_to_compare_similar_titles() -> None:
    undated_a = story("hn", "https://a.example/1", "Stripe raises money", None)
    undated_b = story("gdelt", "https://b.example/2", "Stripe raises money!", None)
    assert same_story(undated_a, undated_b)  # identical once normalised
    undated_c = story("gdelt", "https://b.example/3", "Stripe raises more money", None)
    assert not same_story(undated_a, undated_c)


def test_canonical_url_is_a_link_to_follow_and_url_key_compares_links() -> None:
    link = canonical_url("HTTPS://Www.Example.com:443/a/b/?utm_source=x&id=3&fbclid=y#top")
    assert link == "https://www.example.com/a/b?id=3"  # scheme and www kept: it must still open
    assert url_key("http://example.com/a/b?b=2&a=1") == url_key(
        "https://www.example.com/a/b/?a=1&b=2"
    )
    assert url_key("https://example.com/a?ref=hn") == url_key("https://example.com/a")
