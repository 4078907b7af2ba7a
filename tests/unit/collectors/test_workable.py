"""Workable: the recording is constructed (no real one exists) from the documented widget
format; see src/dossier/fixtures/workable/PROVENANCE.md."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from dossier.collectors.workable import WorkableCollector, parse_account
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

RECORDING = "workable/constructed_northwind_account_details.json"


def _jobs() -> list[dict[str, object]]:
    payload = fixture_json(RECORDING)
    assert isinstance(payload, dict)
    return list(payload["jobs"])


def test_account_yields_one_finding_per_published_job() -> None:
    jobs = parse_account(fixture_json(RECORDING), board="northwind", observed_at=OBSERVED_AT)
    assert [j.title for j in jobs] == [
        "Senior Backend Engineer (Python)",
        "Field Service Technician",
        "Data Analyst (12-month contract)",
    ]
    backend = jobs[0]
    assert backend.id == finding_id(FindingKind.JOB_POSTING, "workable", "northwind", "4F2A9C1E7B")
    assert backend.url == "https://apply.workable.com/j/4F2A9C1E7B"
    assert backend.published_at == datetime(2026, 10, 12, tzinfo=UTC)
    assert backend.fields["apply_url"] == "https://apply.workable.com/j/4F2A9C1E7B/apply"


def test_telecommuting_is_the_remote_flag() -> None:
    jobs = parse_account(fixture_json(RECORDING), board="northwind", observed_at=OBSERVED_AT)
    assert [j.fields["remote"] for j in jobs] == [True, False, False]


def test_locations_join_city_state_country_and_hide_hidden_ones() -> None:
    backend, technician, analyst = parse_account(
        fixture_json(RECORDING), board="northwind", observed_at=OBSERVED_AT
    )
    assert backend.fields["location"] == "Berlin, Berlin, Germany"
    assert technician.fields["locations"] == ["Rotterdam, South Holland, Netherlands"]
    # empty city and state: the country alone, never ", , United Kingdom"
    assert analyst.fields["location"] == "United Kingdom"


def test_empty_department_falls_back_to_the_job_function() -> None:
    jobs = parse_account(fixture_json(RECORDING), board="northwind", observed_at=OBSERVED_AT)
    assert [j.fields["department"] for j in jobs] == ["Engineering", "Customer Service", "Data"]


def test_pay_and_technologies_are_read_from_the_html_description() -> None:
    backend, technician, analyst = parse_account(
        fixture_json(RECORDING), board="northwind", observed_at=OBSERVED_AT
    )
    assert backend.fields["compensation"] == pay(70000, 90000, "EUR")
    assert technician.fields["compensation"] == {
        "min": 22,
        "max": 28,
        "currency": "EUR",
        "interval": "hour",
    }
    assert analyst.fields["compensation"] is None
    assert backend.fields["technologies"] == [
        "Python",
        "FastAPI",
        "Django",
        "PostgreSQL",
        "Apache Kafka",
        "Kubernetes",
        "Terraform",
        "Amazon Web Services",
    ]
    assert analyst.fields["technologies"] == ["SQL", "dbt", "Snowflake", "Looker"]
    description = backend.fields["description"]
    assert isinstance(description, str)
    assert "Kubernetes & Terraform on AWS" in description
    assert "<li>" not in description


def test_employment_type_and_workable_extras() -> None:
    backend, _, analyst = parse_account(
        fixture_json(RECORDING), board="northwind", observed_at=OBSERVED_AT
    )
    assert backend.fields["employment_type"] == "Full-time"
    assert analyst.fields["employment_type"] == "Contract"
    assert backend.fields["experience"] == "Mid-Senior level"
    assert backend.fields["education"] is None  # "" in the payload


def test_job_without_shortcode_or_title_is_skipped() -> None:
    jobs = _jobs()
    jobs[0] = dict(jobs[0], shortcode="")
    jobs[1] = dict(jobs[1], title="  ")
    found = parse_account({"name": "X", "jobs": jobs}, board="x", observed_at=OBSERVED_AT)
    assert [j.title for j in found] == ["Data Analyst (12-month contract)"]


def test_html_interstitial_payload_is_rejected() -> None:
    with pytest.raises(ValueError, match="not a Workable account payload"):
        parse_account({"jobs": "nope"}, board="x", observed_at=OBSERVED_AT)


async def test_collects_northwind_with_descriptions_through_replay(settings: Settings) -> None:
    recorder = Recorder()
    result = await recorder.run(
        WorkableCollector, replay_http(), settings, name="Northwind Labs", workable="northwind"
    )
    assert len(result.findings) == 3
    assert recorder.emitted == result.findings
    assert result.negative is False


async def test_request_asks_for_details(settings: Settings) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"name": "Acme", "description": "", "jobs": []})

    result = await Recorder().run(WorkableCollector, mock_http(handler), settings, workable="acme")
    assert seen == ["https://apply.workable.com/api/v1/widget/accounts/acme?details=true"]
    assert result.findings == [] and result.negative is False


async def test_html_answer_is_source_unavailable(settings: Settings) -> None:
    http = mock_http(lambda request: httpx.Response(200, text="<html>Access denied</html>"))
    with pytest.raises(SourceUnavailable, match="Workable sent something unexpected"):
        await Recorder().run(WorkableCollector, http, settings, workable="acme")
