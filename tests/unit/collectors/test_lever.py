from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from dossier.collectors.lever import LeverCollector, parse_postings
from dossier.core.types import FindingKind, finding_id
from dossier.errors import SourceUnavailable
from dossier.settings import Settings
from tests.unit.collectors import (
    OBSERVED_AT,
    Recorder,
    fixture_json,
    mock_http,
    pay,
    replay_http,
)

SPOTIFY_ID = "2193db3f-77c5-43b8-b030-8f92c9882bf1"


def test_spotify_posting_becomes_a_job_finding_with_lever_categories() -> None:
    (job,) = parse_postings(
        fixture_json("lever/spotify_postings.json"), board="spotify", observed_at=OBSERVED_AT
    )
    assert job.kind is FindingKind.JOB_POSTING
    assert job.source == "lever"
    assert job.title == "Android Engineer - Experience"
    assert job.id == finding_id(FindingKind.JOB_POSTING, "lever", "spotify", SPOTIFY_ID)
    assert job.url == f"https://jobs.lever.co/spotify/{SPOTIFY_ID}"
    assert job.published_at == datetime(2026, 6, 23, 11, 29, 45, 805000, tzinfo=UTC)
    assert job.observed_at == OBSERVED_AT
    fields = job.fields
    assert fields["board"] == "lever"
    assert fields["board_token"] == "spotify"
    assert fields["job_id"] == SPOTIFY_ID
    assert fields["department"] == "Engineering"
    assert fields["team"] == "Experience"
    assert fields["location"] == "London"
    assert fields["all_locations"] == ["London", "Stockholm"]
    assert fields["employment_type"] == "Permanent"
    assert fields["workplace_type"] == "hybrid"
    assert fields["remote"] is False  # hybrid is not remote
    assert fields["language"] is None


def test_spotify_posting_without_salary_range_has_no_compensation() -> None:
    (job,) = parse_postings(
        fixture_json("lever/spotify_postings.json"), board="spotify", observed_at=OBSERVED_AT
    )
    assert job.fields["compensation"] is None


def test_description_joins_opening_lists_and_closing_as_plain_text() -> None:
    (job,) = parse_postings(
        fixture_json("lever/spotify_postings.json"), board="spotify", observed_at=OBSERVED_AT
    )
    description = job.fields["description"]
    assert isinstance(description, str)
    assert description.startswith("We design Spotify’s consumer experience")
    assert "What You'll Do\nDevelop and maintain mobile client components" in description
    assert "This role is based in London or Stockholm." in description
    assert "Spotify is an equal opportunity employer." in description
    assert "<li>" not in description and "&nbsp;" not in description
    assert len(description) <= 4000


def test_technologies_are_read_from_the_lists_too() -> None:
    (job,) = parse_postings(
        fixture_json("lever/spotify_postings.json"), board="spotify", observed_at=OBSERVED_AT
    )
    assert job.fields["technologies"] == ["Android", "Kotlin", "iOS", "Swift", "Objective-C"]


def test_salary_range_is_used_when_published() -> None:
    posting = dict(fixture_json("lever/spotify_postings.json")[0])  # type: ignore[index]
    posting["salaryRange"] = {
        "currency": "GBP",
        "interval": "per-year-salary",
        "min": 65000,
        "max": 85000,
    }
    (job,) = parse_postings([posting], board="spotify", observed_at=OBSERVED_AT)
    assert job.fields["compensation"] == pay(65000, 85000, "GBP")


def test_empty_array_is_an_empty_board() -> None:
    assert (
        parse_postings(
            fixture_json("lever/empty_board.json"), board="mistral", observed_at=OBSERVED_AT
        )
        == []
    )


def test_document_not_found_body_is_not_a_postings_array() -> None:
    with pytest.raises(ValueError, match="not a Lever postings array"):
        parse_postings(
            fixture_json("lever/unknown_company_404.json"), board="x", observed_at=OBSERVED_AT
        )


async def test_collects_the_spotify_board_through_replay(settings: Settings) -> None:
    recorder = Recorder()
    result = await recorder.run(
        LeverCollector, replay_http(), settings, name="Spotify", lever="spotify"
    )
    assert [f.title for f in result.findings] == ["Android Engineer - Experience"]
    assert recorder.emitted == result.findings
    assert result.negative is False
    last = recorder.progress[-1]
    assert (last.done, last.total, last.found) == (1, 1, 1)


async def test_board_without_openings_is_not_negative(settings: Settings) -> None:
    result = await Recorder().run(
        LeverCollector, replay_http(), settings, name="Mistral AI", lever="mistral"
    )
    assert result.findings == []
    assert result.negative is False
    assert result.notes == ["Lever board 'mistral' has no openings"]


async def test_garbage_body_is_source_unavailable(settings: Settings) -> None:
    http = mock_http(lambda request: httpx.Response(200, text="<html>maintenance</html>"))
    with pytest.raises(SourceUnavailable, match="Lever sent something unexpected"):
        await Recorder().run(LeverCollector, http, settings, lever="spotify")
