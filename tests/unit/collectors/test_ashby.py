from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dossier.collectors.ashby import AshbyCollector, parse_job_board
from dossier.core.types import FindingKind, finding_id
from dossier.settings import Settings
from tests.unit.collectors import OBSERVED_AT, Recorder, fixture_json, pay, replay_http

WITH_PAY = "ashby/ramp_job_board.json"
WITHOUT_PAY = "ashby/derived_ramp_job_board_no_compensation.json"
SECURITY_ID = "34413f8d-26bf-4bbc-8ade-eb309a0e2245"


def test_ramp_board_yields_both_jobs_with_titles_stripped() -> None:
    jobs = parse_job_board(fixture_json(WITH_PAY), board="ramp", observed_at=OBSERVED_AT)
    # the recording has " Security Engineer, Cloud" with a leading space
    assert [j.title for j in jobs] == ["Security Engineer, Cloud", "Mobile Engineer, Android"]
    assert jobs[0].id == finding_id(FindingKind.JOB_POSTING, "ashby", "ramp", SECURITY_ID)
    assert jobs[0].url == f"https://jobs.ashbyhq.com/ramp/{SECURITY_ID}"
    assert jobs[0].published_at == datetime(2026, 4, 7, 17, 12, 35, 753000, tzinfo=UTC)
    assert all(j.source == "ashby" for j in jobs)


def test_compensation_comes_from_the_salary_component() -> None:
    security, mobile = parse_job_board(
        fixture_json(WITH_PAY), board="ramp", observed_at=OBSERVED_AT
    )
    assert security.fields["compensation"] == pay(211400, 290600, "USD")
    assert security.fields["compensation_summary"] == "$211.4K – $290.6K • Offers Equity"
    assert mobile.fields["compensation"] == pay(189000, 330000, "USD")


def test_without_compensation_key_there_is_no_pay_and_no_false_match_on_spend() -> None:
    jobs = parse_job_board(fixture_json(WITHOUT_PAY), board="ramp", observed_at=OBSERVED_AT)
    # the text says "over $200B in annualized spend": funding-style figures are never pay
    assert [j.fields["compensation"] for j in jobs] == [None, None]
    assert [j.fields["compensation_summary"] for j in jobs] == [None, None]


def test_plain_description_is_used_when_html_is_empty() -> None:
    security, _ = parse_job_board(fixture_json(WITH_PAY), board="ramp", observed_at=OBSERVED_AT)
    description = security.fields["description"]
    assert isinstance(description, str)
    assert description.startswith("ABOUT RAMP\n\nRamp is building the smart infrastructure")
    assert "Minimum 3 years of experience building in AWS (with Terraform)" in description


def test_fields_follow_the_job_posting_convention() -> None:
    security, mobile = parse_job_board(
        fixture_json(WITH_PAY), board="ramp", observed_at=OBSERVED_AT
    )
    assert security.fields["department"] == "Engineering"
    assert security.fields["team"] == "Backend"
    assert security.fields["location"] == "New York, NY (HQ)"
    assert security.fields["secondary_locations"] == ["Remote (Canada)", "Remote (US)", "Miami, FL"]
    assert security.fields["employment_type"] == "Full-time"
    assert security.fields["workplace_type"] == "Hybrid"
    assert security.fields["remote"] is True  # isRemote: remote in the US and Canada
    assert security.fields["technologies"] == ["Amazon Web Services", "Terraform"]
    assert mobile.fields["technologies"] == ["Android"]
    assert security.fields["language"] is None


def test_unlisted_jobs_are_skipped() -> None:
    payload = fixture_json(WITH_PAY)
    assert isinstance(payload, dict)
    payload["jobs"][1]["isListed"] = False
    jobs = parse_job_board(payload, board="ramp", observed_at=OBSERVED_AT)
    assert [j.title for j in jobs] == ["Security Engineer, Cloud"]


def test_non_board_payload_is_rejected() -> None:
    with pytest.raises(ValueError, match="not an Ashby job-board payload"):
        parse_job_board({"success": False}, board="ramp", observed_at=OBSERVED_AT)


async def test_collects_ramp_with_compensation_through_replay(settings: Settings) -> None:
    recorder = Recorder()
    result = await recorder.run(AshbyCollector, replay_http(), settings, name="Ramp", ashby="ramp")
    assert [f.fields["compensation"] is not None for f in result.findings] == [True, True]
    assert recorder.emitted == result.findings
    assert (recorder.progress[-1].done, recorder.progress[-1].found) == (1, 2)
