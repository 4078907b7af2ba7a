from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from dossier.collectors.smartrecruiters import SmartRecruitersCollector, parse_postings
from dossier.core.types import FindingKind, finding_id
from dossier.errors import SourceUnavailable
from dossier.settings import Settings
from tests.unit.collectors import (
    OBSERVED_AT,
    Handler,
    Recorder,
    deps,
    fixture_bytes,
    fixture_json,
    mock_http,
    replay_http,
)

RECORDING = "smartrecruiters/Ubisoft2_postings.json"


def test_page_yields_postings_and_total_found() -> None:
    jobs, total = parse_postings(fixture_json(RECORDING), board="Ubisoft2", observed_at=OBSERVED_AT)
    assert total == 310
    assert [j.title for j in jobs] == [
        "Spécialiste Fiabilité outils et infrastructures - TGQF",
        "CRM Webmarketing Assistant",
    ]
    assert jobs[0].id == finding_id(
        FindingKind.JOB_POSTING, "smartrecruiters", "Ubisoft2", "744000151912444"
    )
    assert jobs[0].url == "https://jobs.smartrecruiters.com/Ubisoft2/744000151912444"
    assert jobs[0].published_at == datetime(2026, 9, 25, 18, 18, 52, 891000, tzinfo=UTC)


def test_non_english_postings_are_kept_with_their_language() -> None:
    jobs, _ = parse_postings(fixture_json(RECORDING), board="Ubisoft2", observed_at=OBSERVED_AT)
    assert [j.fields["language"] for j in jobs] == ["fr-CA", "fr"]


def test_department_is_the_job_function_not_the_company_name() -> None:
    jobs, _ = parse_postings(fixture_json(RECORDING), board="Ubisoft2", observed_at=OBSERVED_AT)
    assert [j.fields["department"] for j in jobs] == ["Engineering", "Marketing"]
    assert [j.fields["company_department"] for j in jobs] == ["Ubisoft", "Ubisoft"]


def test_location_employment_and_remote_fields() -> None:
    montreal, paris = parse_postings(
        fixture_json(RECORDING), board="Ubisoft2", observed_at=OBSERVED_AT
    )[0]
    assert montreal.fields["location"] == "Montreal, QC, Canada"
    assert paris.fields["location"] == "Paris, IDF, France"
    assert montreal.fields["employment_type"] == "Full-time"
    assert paris.fields["employment_type"] == "Intern"
    assert montreal.fields["remote"] is False
    assert montreal.fields["experience_level"] == "Mid-Senior Level"
    # the list has no description: nothing to read pay or technologies from
    assert montreal.fields["description"] == ""
    assert montreal.fields["compensation"] is None


def test_non_page_payload_is_rejected() -> None:
    with pytest.raises(ValueError, match="not a SmartRecruiters postings page"):
        parse_postings([], board="Ubisoft2", observed_at=OBSERVED_AT)


async def test_collects_ubisoft_and_reports_the_total_it_could_not_read(
    settings: Settings,
) -> None:
    recorder = Recorder()
    result = await recorder.run(
        SmartRecruitersCollector,
        replay_http(),
        settings,
        name="Ubisoft",
        smartrecruiters="Ubisoft2",
    )
    # the recording is a 2-posting page: shorter than the 100 asked for, so the last one
    assert len(result.findings) == 2
    assert result.negative is False
    assert result.notes == ["SmartRecruiters lists 310 postings for 'Ubisoft2'; read 2"]
    last = recorder.progress[-1]
    assert (last.done, last.total, last.found) == (2, 310, 2)


class _SmallPages(SmartRecruitersCollector):
    page_size = 2


def _paged(pages: dict[int, list[dict[str, object]]], total: int, seen: list[str]) -> Handler:
    """Pages of 2 by offset, as SmartRecruiters shapes them."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        offset = int(request.url.params["offset"])
        body = {"offset": offset, "limit": 2, "totalFound": total, "content": pages.get(offset, [])}
        return httpx.Response(200, json=body)

    return handler


def _postings_with_ids(*ids: str) -> list[dict[str, object]]:
    """The recorded postings, re-identified (derived in the test, not a recording)."""
    base = json.loads(fixture_bytes(RECORDING))["content"]
    return [dict(base[i % 2], id=posting_id) for i, posting_id in enumerate(ids)]


async def test_pages_until_a_short_page_and_reports_progress_per_page(
    settings: Settings,
) -> None:
    pages = {
        0: _postings_with_ids("1", "2"),
        2: _postings_with_ids("3", "4"),
        4: _postings_with_ids("5"),
    }
    seen: list[str] = []
    collector = _SmallPages(deps(mock_http(_paged(pages, 5, seen)), settings))
    recorder = Recorder()
    result = await collector.collect(recorder.context(smartrecruiters="Ubisoft2"))
    assert [f.fields["job_id"] for f in result.findings] == ["1", "2", "3", "4", "5"]
    assert [(p.done, p.total) for p in recorder.progress[1:]] == [(2, 5), (4, 5), (5, 5)]
    assert seen[0].endswith("/companies/Ubisoft2/postings?limit=2&offset=0")
    assert len(seen) == 3
    assert result.notes == []


async def test_stops_at_the_page_cap_and_says_how_many_were_left(settings: Settings) -> None:
    pages = {offset: _postings_with_ids(str(offset), str(offset + 1)) for offset in range(0, 20, 2)}
    seen: list[str] = []
    collector = _SmallPages(deps(mock_http(_paged(pages, 310, seen)), settings))
    result = await collector.collect(Recorder().context(smartrecruiters="Ubisoft2"))
    assert len(result.findings) == 2 * collector.max_pages == len(seen) * 2
    assert result.notes == ["SmartRecruiters lists 310 postings for 'Ubisoft2'; read 10"]


async def test_no_postings_is_a_negative_answer(settings: Settings) -> None:
    empty = {"offset": 0, "limit": 100, "totalFound": 0, "content": []}
    http = mock_http(lambda request: httpx.Response(200, json=empty))
    result = await Recorder().run(
        SmartRecruitersCollector, http, settings, smartrecruiters="NoSuchCompany"
    )
    assert result.negative is True
    assert result.findings == []


async def test_failure_on_a_later_page_raises_after_emitting_the_first(
    settings: Settings,
) -> None:
    first = _postings_with_ids("1", "2")

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params["offset"] == "0":
            return httpx.Response(200, json={"totalFound": 4, "content": first})
        return httpx.Response(502, text="bad gateway")

    collector = _SmallPages(deps(mock_http(handler, retries=0), settings))
    recorder = Recorder()
    with pytest.raises(SourceUnavailable, match="HTTP 502"):
        await collector.collect(recorder.context(smartrecruiters="Ubisoft2"))
    assert [f.fields["job_id"] for f in recorder.emitted] == ["1", "2"]
