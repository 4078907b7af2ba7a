from __future__ import annotations

from datetime import UTC, datetime

from dossier.collectors.greenhouse import GreenhouseCollector, parse_jobs
from dossier.core.types import FindingKind, finding_id
from dossier.settings import Settings
from tests.unit.collectors import (
    OBSERVED_AT,
    Recorder,
    fixture_json,
    pay,
    replay_http,
)

RECORDING = "greenhouse/stripe_jobs_content.json"


def test_stripe_board_yields_both_recorded_jobs() -> None:
    mexico, dublin = parse_jobs(fixture_json(RECORDING), board="stripe", observed_at=OBSERVED_AT)
    assert mexico.title == "Operations Associate, New Grad (Mexico)"
    assert dublin.title == "Abuse Investigator"
    assert mexico.id == finding_id(FindingKind.JOB_POSTING, "greenhouse", "stripe", "7544547")
    assert mexico.url == "https://stripe.com/jobs/search?gh_jid=7544547"
    assert mexico.published_at == datetime(2026, 1, 28, 19, 0, 36, tzinfo=UTC)
    assert dublin.published_at == datetime(2026, 9, 3, 17, 32, 53, tzinfo=UTC)


def test_cost_centre_codes_are_stripped_from_departments() -> None:
    mexico, dublin = parse_jobs(fixture_json(RECORDING), board="stripe", observed_at=OBSERVED_AT)
    assert mexico.fields["department"] == "Fraud Operations"
    assert mexico.fields["department_raw"] == "4378 SDC - Fraud Operations"
    assert dublin.fields["department"] == "Security Analytics"
    assert dublin.fields["departments"] == ["8611 Security Analytics"]


def test_fields_follow_the_job_posting_convention() -> None:
    mexico, dublin = parse_jobs(fixture_json(RECORDING), board="stripe", observed_at=OBSERVED_AT)
    assert mexico.fields["location"] == "Mexico City, Mexico"
    assert mexico.fields["offices"] == ["MX-Mexico City"]
    assert mexico.fields["language"] == "en"
    assert mexico.fields["remote"] is None  # nothing says either way
    assert mexico.fields["employment_type"] is None
    # the recorded content is cut before Stripe's pay paragraph
    assert mexico.fields["compensation"] is None
    assert dublin.fields["technologies"] == []
    description = dublin.fields["description"]
    assert isinstance(description, str)
    assert description.startswith("Who we are\nAbout Stripe\nStripe is a financial")
    assert "&lt;" not in description and "<h2>" not in description


def test_pay_in_content_text_is_read() -> None:
    payload = fixture_json(RECORDING)
    assert isinstance(payload, dict)
    payload["jobs"][1]["content"] += (
        "&lt;p&gt;The annual US base salary range for this role is $116,600 - $174,900.&lt;/p&gt;"
    )
    dublin = parse_jobs(payload, board="stripe", observed_at=OBSERVED_AT)[1]
    assert dublin.fields["compensation"] == pay(116600, 174900, "USD")


async def test_collects_stripe_through_replay(settings: Settings) -> None:
    recorder = Recorder()
    result = await recorder.run(
        GreenhouseCollector, replay_http(), settings, name="Stripe", greenhouse="stripe"
    )
    assert [f.title for f in result.findings] == [
        "Operations Associate, New Grad (Mexico)",
        "Abuse Investigator",
    ]
    assert recorder.emitted == result.findings


async def test_empty_board_is_an_empty_answer(settings: Settings) -> None:
    result = await Recorder().run(
        GreenhouseCollector, replay_http(), settings, greenhouse="hubspot"
    )
    assert result.findings == [] and result.negative is False
