from __future__ import annotations

import pytest

from dossier.collectors.greenhouse import parse_jobs
from dossier.collectors.jobs import (
    JobPosting,
    compensation,
    detect_remote,
    hiring_signals,
    job_finding,
    normalize_department,
    normalize_interval,
    parse_compensation,
)
from dossier.collectors.lever import parse_postings
from dossier.core.types import FindingKind
from tests.fakes import make_finding
from tests.unit.collectors import OBSERVED_AT, fixture_json, pay


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$180,000 - $250,000", (180000, 250000, "USD", "year")),
        ("€60k–€80k per year", (60000, 80000, "EUR", "year")),
        ("USD 120000", (120000, 120000, "USD", "year")),
        ("$211.4K – $290.6K", (211400, 290600, "USD", "year")),
        ("£45 to £55 per hour", (45, 55, "GBP", "hour")),
        ("120 000 - 150 000 CAD", (120000, 150000, "CAD", "year")),
        ("$60-80k", (60000, 80000, "USD", "year")),
        ("The annual base salary range is $150,000–$200,000 USD.", (150000, 200000, "USD", "year")),
        ("CA$95,000 to CA$110,000", (95000, 110000, "CAD", "year")),
        ("salary €4.000 - €5.000 monthly", (4000, 5000, "EUR", "month")),
        ("Hourly rate: $45 - $60", (45, 60, "USD", "hour")),
        ("$50/hr", (50, 50, "USD", "hour")),
        ("Base salary $120,000 - $150,000 plus a monthly stipend", (120000, 150000, "USD", "year")),
    ],
)
def test_pay_written_in_text(text: str, expected: tuple[object, ...]) -> None:
    found = parse_compensation(text)
    assert found is not None
    assert (found["min"], found["max"], found["currency"], found["interval"]) == expected


@pytest.mark.parametrize(
    "text",
    [
        "We automate how over $200B in annualized spend flows in and out of 70,000+ companies",
        "We raised a $1.2 million seed and a $5M series A.",
        "Minimum 5 years of experience, 2024-2026 roadmap.",
        "A $5,000 learning budget per year for every employee.",
        "Our account executives close " + "x" * 60 + " $100K deals every quarter.",
        "",
    ],
)
def test_figures_that_are_not_pay(text: str) -> None:
    assert parse_compensation(text) is None


def test_structured_compensation_and_intervals() -> None:
    assert compensation(120000, 90000, "usd", "per-year-salary") == pay(90000, 120000, "USD")
    assert compensation(None, None, "USD", "1 YEAR") is None
    assert normalize_interval("1 YEAR") == "year"
    assert normalize_interval("per-hour-wage") == "hour"
    assert normalize_interval("per-month-salary") == "month"
    assert normalize_interval("NONE") is None


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("8611 Security Analytics", "Security Analytics"),
        ("4378 SDC - Fraud Operations", "Fraud Operations"),
        ("Engineering (1234)", "Engineering"),
        ("  Sales   EMEA ", "Sales EMEA"),
        ("HR - Recruiting", "HR - Recruiting"),  # no cost-centre number: the name as given
        ("R&D", "R&D"),
        ("", None),
        (None, None),
    ],
)
def test_department_normalisation(raw: str | None, clean: str | None) -> None:
    assert normalize_department(raw) == clean


def test_hiring_signals_count_open_roles_per_department() -> None:
    stripe = parse_jobs(
        fixture_json("greenhouse/stripe_jobs_content.json"), board="stripe", observed_at=OBSERVED_AT
    )
    spotify = parse_postings(
        fixture_json("lever/spotify_postings.json"), board="spotify", observed_at=OBSERVED_AT
    )
    news = make_finding(FindingKind.NEWS_ARTICLE, "Not a job")
    unassigned = job_finding(
        JobPosting(board="lever", board_token="x", job_id="9", title="Generalist", url=None),
        observed_at=OBSERVED_AT,
    )
    signals = hiring_signals([*stripe, *spotify, news, unassigned])
    assert signals == {
        "Engineering": 1,
        "Fraud Operations": 1,
        "Security Analytics": 1,
        "Unspecified": 1,
    }


@pytest.mark.parametrize(
    ("workplace", "locations", "remote"),
    [
        ("remote", (), True),
        ("Remote", ("London",), True),
        ("hybrid", ("Remote (US)",), False),
        ("on-site", (), False),
        ("OnSite", (), False),
        (None, ("Remote (Canada)",), True),
        (None, ("Dublin", None), None),
        ("unspecified", ("Remotely Ltd office",), None),
    ],
)
def test_remote_detection(
    workplace: str | None, locations: tuple[str | None, ...], remote: bool | None
) -> None:
    assert detect_remote(workplace, *locations) is remote


def test_job_finding_clips_the_description_and_keeps_the_raw_department() -> None:
    finding = job_finding(
        JobPosting(
            board="greenhouse",
            board_token="acme",
            job_id="1",
            title=" Platform Engineer ",
            url="https://boards.example/1",
            description="Python " * 1000,
            department="8611 Platform",
        ),
        observed_at=OBSERVED_AT,
    )
    assert finding.title == "Platform Engineer"
    description = finding.fields["description"]
    assert isinstance(description, str) and len(description) == 4000
    assert finding.fields["department"] == "Platform"
    assert finding.fields["department_raw"] == "8611 Platform"
    assert finding.fields["technologies"] == ["Python"]
    assert finding.fields["compensation"] is None
