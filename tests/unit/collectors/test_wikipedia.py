"""Wikipedia REST summary -> company_profile; title from Wikidata when only the Q-id is known."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from dossier.collectors.replay import ReplayTransport
from dossier.collectors.wikipedia import (
    WikipediaCollector,
    parse_sitelink,
    parse_summary,
    summary_url,
)
from dossier.core.types import FindingKind, finding_id
from dossier.errors import SourceUnavailable
from dossier.settings import Settings
from tests.unit.collectors import Extra, Recorder, fixture_json, replayed

NOW = datetime(2026, 9, 1, tzinfo=UTC)
STRIPE_SUMMARY = "https://en.wikipedia.org/api/rest_v1/page/summary/Stripe,_Inc."


def load(name: str) -> object:
    return fixture_json(f"{name}")


def collector(
    settings: Settings, extra: Extra | None = None
) -> tuple[WikipediaCollector, ReplayTransport]:
    return replayed(WikipediaCollector, settings, extra)


@pytest.mark.parametrize(
    ("title", "url_tail"),
    [
        ("Stripe, Inc.", "Stripe,_Inc."),
        ("Dart (programming language)", "Dart_(programming_language)"),
        ("Tobias Lütke", "Tobias_L%C3%BCtke"),
        ("AC/DC", "AC%2FDC"),
        ("AT&T", "AT%26T"),
    ],
)
def test_titles_are_encoded_as_wikipedia_writes_them(title: str, url_tail: str) -> None:
    assert summary_url(title) == "https://en.wikipedia.org/api/rest_v1/page/summary/" + url_tail


def test_stripe_summary_gives_a_profile() -> None:
    (profile,) = parse_summary(
        load("wikipedia/summary_Stripe,_Inc..json"), account_key="stripe", observed_at=NOW
    )
    assert profile.id == finding_id(FindingKind.COMPANY_PROFILE, "stripe")
    assert profile.source == "wikipedia"
    assert profile.url == "https://en.wikipedia.org/wiki/Stripe,_Inc."
    assert profile.fields["name"] == "Stripe, Inc."
    assert profile.fields["wikidata"] == "Q7624104"
    assert profile.fields["short_description"] == "Irish-American payment technology company"
    description = str(profile.fields["description"])
    assert description.startswith("Stripe, Inc. is an Irish-American financial services")
    assert "Patrick and John Collison" in description


@pytest.mark.parametrize(
    ("name", "qid", "title"),
    [
        ("wikipedia/summary_Dart_(programming_language).json", "Q406009", "Dart"),
        ("wikipedia/summary_Christopher_Cassidy.json", "Q52046", "Christopher Cassidy"),
    ],
)
def test_real_summaries_of_both_shapes_parse(name: str, qid: str, title: str) -> None:
    (profile,) = parse_summary(load(name), account_key="x", observed_at=NOW)
    assert profile.fields["wikidata"] == qid
    assert str(profile.fields["name"]).startswith(title)
    assert profile.published_at is not None and profile.published_at.tzinfo is not None


def test_disambiguation_pages_give_nothing() -> None:
    payload = {"type": "disambiguation", "title": "Stripe", "extract": "Stripe may refer to:"}
    assert parse_summary(payload, account_key="stripe", observed_at=NOW) == []
    with pytest.raises(ValueError):
        parse_summary({"detail": "Not found"}, account_key="x", observed_at=NOW)


def test_sitelink_of_the_stripe_item() -> None:
    payload = load("wikidata/constructed_sitelinks_Q7624104.json")
    assert parse_sitelink(payload, qid="Q7624104") == "Stripe, Inc."
    assert parse_sitelink({"entities": {"Q1": {"id": "Q1"}}}, qid="Q1") is None


async def test_end_to_end_with_a_title(settings: Settings) -> None:
    wikipedia, transport = collector(settings)
    recorder = Recorder()
    ctx = recorder.account("Stripe", {"wikipedia": "Stripe, Inc.", "wikidata": "Q7624104"})
    result = await wikipedia.collect(ctx)
    assert transport.requests == [STRIPE_SUMMARY]
    assert recorder.emitted == result.findings
    assert result.findings[0].fields["wikidata"] == "Q7624104"


async def test_end_to_end_from_the_wikidata_id_alone(settings: Settings) -> None:
    wikipedia, transport = collector(settings)
    result = await wikipedia.collect(Recorder().account("Stripe", {"wikidata": "Q7624104"}))
    assert len(transport.requests) == 2
    assert "props=sitelinks" in transport.requests[0]
    assert transport.requests[1] == STRIPE_SUMMARY
    assert result.findings[0].fields["name"] == "Stripe, Inc."


async def test_article_about_another_item_is_negative(settings: Settings) -> None:
    wikipedia, _ = collector(settings)
    result = await wikipedia.collect(
        Recorder().account("Stripe", {"wikipedia": "Stripe, Inc.", "wikidata": "Q3421342"})
    )
    assert result.negative and result.findings == []
    assert "Q7624104" in result.notes[0]


async def test_missing_article_is_negative(settings: Settings) -> None:
    url = "https://en.wikipedia.org/api/rest_v1/page/summary/No_such_company_zzqx"
    # the REST API's not-found problem document
    body = json.dumps(
        {"type": "https://mediawiki.org/wiki/HyperSwitch/errors/not_found", "title": "Not found."}
    ).encode()
    wikipedia, _ = collector(settings, {url: (404, {"content-type": "application/json"}, body)})
    result = await wikipedia.collect(
        Recorder().account("Stripe", {"wikipedia": "No such company zzqx"})
    )
    assert result.negative
    assert result.notes == ["no English Wikipedia article 'No such company zzqx'"]


async def test_garbage_is_unavailable(settings: Settings) -> None:
    wikipedia, _ = collector(settings, {STRIPE_SUMMARY: (200, {}, b"<html>")})
    with pytest.raises(SourceUnavailable):
        await wikipedia.collect(Recorder().account("Stripe", {"wikipedia": "Stripe, Inc."}))


def test_applicable_with_either_identifier(settings: Settings) -> None:
    wikipedia, _ = collector(settings)
    assert wikipedia.applicable({"wikidata": "Q1"})
    assert wikipedia.applicable({"wikipedia": "Stripe, Inc."})
    assert not wikipedia.applicable({"name": "Stripe"})
