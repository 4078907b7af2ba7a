from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from dossier.collectors.gdelt import GdeltCollector, parse_artlist, parse_seendate
from dossier.collectors.http import DEFAULT_HOST_INTERVALS_S
from dossier.core.types import FindingKind, finding_id
from dossier.errors import RateLimited, SourceUnavailable
from dossier.settings import Settings
from tests.unit.collectors import (
    OBSERVED_AT,
    Handler,
    Recorder,
    fixture_bytes,
    fixture_json,
    mock_http,
    recorded,
    replay_http,
)

ARTLIST = "gdelt/artlist_stripe.json"


def test_seendate_is_utc() -> None:
    assert parse_seendate("20260101T120000Z") == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert parse_seendate("2026-01-01") is None
    assert parse_seendate(None) is None


def test_artlist_articles_become_news_findings() -> None:
    first, second = parse_artlist(fixture_json(ARTLIST), company="Stripe", observed_at=OBSERVED_AT)
    assert first.kind is FindingKind.NEWS_ARTICLE
    assert first.source == "gdelt"
    assert first.title == "Example headline mentioning Stripe (constructed)"
    assert first.url == "https://example.com/news/2026/10/stripe-payments-expansion"
    assert first.id == finding_id(FindingKind.NEWS_ARTICLE, first.url)
    assert first.published_at == datetime(2026, 10, 4, 12, 0, tzinfo=UTC)
    assert first.fields["domain"] == "example.com"
    assert first.fields["outlet"] == "example.com"
    assert first.fields["language"] == "English"
    assert first.fields["source_country"] == "United States"
    assert first.fields["author"] is None
    assert second.published_at == datetime(2026, 10, 3, 8, 15, tzinfo=UTC)
    assert second.fields["image"] == "https://example.org/img/og.jpg"


def test_only_titles_naming_the_company_are_kept() -> None:
    payload = fixture_json(ARTLIST)
    assert isinstance(payload, dict)
    payload["articles"][1]["title"] = "Stripes are back on the catwalk"
    kept = parse_artlist(payload, company="Stripe", observed_at=OBSERVED_AT)
    assert [a.title for a in kept] == ["Example headline mentioning Stripe (constructed)"]


def test_empty_object_means_no_articles() -> None:
    assert (
        parse_artlist(fixture_json("gdelt/empty.json"), company="x", observed_at=OBSERVED_AT) == []
    )


def test_non_object_payload_is_rejected() -> None:
    with pytest.raises(ValueError):
        parse_artlist([], company="Stripe", observed_at=OBSERVED_AT)


async def test_collects_stripe_news_through_replay(settings: Settings) -> None:
    recorder = Recorder()
    result = await recorder.run(GdeltCollector, replay_http(), settings, name="Stripe, Inc.")
    assert [f.title for f in result.findings] == [
        "Example headline mentioning Stripe (constructed)",
        "Second constructed headline about Stripe",
    ]
    assert recorder.emitted == result.findings
    assert result.negative is False


async def test_no_results_is_a_negative_answer(settings: Settings) -> None:
    url = (
        "https://api.gdeltproject.org/api/v2/doc/doc?query=%22zzqqxx%22&mode=artlist"
        "&format=json&maxrecords=75&sort=datedesc"
    )
    http = replay_http({url: recorded("gdelt/empty.json")})
    result = await Recorder().run(GdeltCollector, http, settings, name="Zzqqxx Holdings")
    assert result.findings == []
    assert result.negative is True


async def test_query_is_the_quoted_name_without_legal_suffix(settings: Settings) -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, content=fixture_bytes("gdelt/empty.json"))

    await Recorder().run(GdeltCollector, mock_http(handler), settings, name="Acme Analytics, Inc.")
    params = seen[0].params
    assert params["query"] == '"acme analytics"'
    assert params["sort"] == "datedesc"
    assert (params["mode"], params["format"], params["maxrecords"]) == ("artlist", "json", "75")


def _429_then(final: httpx.Response, failures: int) -> tuple[list[int], Handler]:
    calls: list[int] = []
    limited = fixture_bytes("gdelt/rate_limit_429.txt")

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) <= failures:
            return httpx.Response(429, content=limited, headers={"content-type": "text/plain"})
        return final

    return calls, handler


async def test_rate_limit_429_is_retried_then_succeeds(settings: Settings) -> None:
    calls, handler = _429_then(httpx.Response(200, content=fixture_bytes(ARTLIST)), failures=1)
    recorder = Recorder()
    result = await recorder.run(GdeltCollector, mock_http(handler), settings, name="Stripe")
    assert len(calls) == 2
    assert [(r.attempt, r.error) for r in recorder.retries] == [(1, "HTTP 429")]
    assert len(result.findings) == 2


async def test_rate_limit_that_persists_raises_rate_limited(settings: Settings) -> None:
    calls, handler = _429_then(httpx.Response(200), failures=99)
    recorder = Recorder()
    with pytest.raises(RateLimited, match=r"api\.gdeltproject\.org rate-limited us"):
        await recorder.run(GdeltCollector, mock_http(handler, retries=2), settings, name="Stripe")
    assert len(calls) == 3
    assert len(recorder.retries) == 2


async def test_plain_text_answer_is_source_unavailable_with_the_text(settings: Settings) -> None:
    body = "The specified phrase is too short."
    http = mock_http(lambda request: httpx.Response(200, text=body))
    with pytest.raises(SourceUnavailable, match="phrase is too short"):
        await Recorder().run(GdeltCollector, http, settings, name="X")


async def test_gdelt_that_never_answers_is_source_unavailable(settings: Settings) -> None:
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer", request=request)

    with pytest.raises(SourceUnavailable, match="timeout: ReadTimeout"):
        await Recorder().run(GdeltCollector, mock_http(hang, retries=1), settings, name="Stripe")


def test_live_pacing_for_gdelt_is_one_request_per_five_seconds() -> None:
    assert DEFAULT_HOST_INTERVALS_S["api.gdeltproject.org"] == 5.0
