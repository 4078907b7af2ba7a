"""Signals read from text: money raised and executive changes in news headlines."""

from __future__ import annotations

import pytest

from dossier.collectors.hn import parse_search
from dossier.collectors.normalize import merge_findings
from dossier.collectors.text_signals import (
    CONFIDENCE,
    amount_of,
    funding_from_news,
    people_from_news,
    signals_from_news,
)
from dossier.core.types import Finding, FindingKind
from dossier.providers.facts import round_words
from tests.fakes import make_finding
from tests.unit.collectors import OBSERVED_AT, fixture_json


def headline(title: str, *, sample: bool = False) -> Finding:
    return make_finding(FindingKind.NEWS_ARTICLE, title, sample=sample)


def test_the_recorded_stripe_tender_offer_headline_is_a_funding_signal() -> None:
    stories = parse_search(
        fixture_json("hn/constructed_search_stripe_story.json"),
        company="Stripe",
        observed_at=OBSERVED_AT,
    )
    (tender,) = funding_from_news(stories, observed_at=OBSERVED_AT)
    story = next(s for s in stories if s.id == tender.fields["read_from"])
    assert story.title == "Stripe tender offer values company at $91.5B"
    assert tender.kind is FindingKind.FUNDING_ROUND
    assert tender.fields["round_type"] == "Tender Offer"
    assert tender.fields["valuation"] == 91.5e9 and tender.fields["amount"] is None
    assert tender.confidence == CONFIDENCE < 0.9  # below a filing
    assert tender.published_at == story.published_at and tender.url == story.url


@pytest.mark.parametrize(
    ("title", "round_type", "amount", "valuation", "currency"),
    [
        (
            "Ramp raises $150 million Series D at $13 billion valuation",
            "Series D",
            150e6,
            13e9,
            "USD",
        ),
        ("Acme closes €20M seed round", "Seed", 20e6, None, "EUR"),
        ("Acme secures £5m in funding", None, 5e6, None, "GBP"),
    ],
)
def test_rounds_in_headlines(
    title: str, round_type: str | None, amount: float, valuation: float | None, currency: str
) -> None:
    (signal,) = funding_from_news([headline(title)], observed_at=OBSERVED_AT)
    fields = signal.fields
    assert (fields["round_type"], fields["amount"], fields["valuation"]) == (
        round_type,
        amount,
        valuation,
    )
    assert fields["currency"] == currency


@pytest.mark.parametrize(
    "title",
    [
        "Stripe launches Optimized Checkout Suite for Payment Element",
        "Ask HN: Anyone migrated billing from Stripe Billing to an in-house system?",
        "Stripe is hiring engineers to work on its payments foundation model",
        "Acme cuts prices by $5",  # money without a raise
    ],
)
def test_other_headlines_are_no_signal(title: str) -> None:
    item = headline(title)
    assert funding_from_news([item], observed_at=OBSERVED_AT) == []
    assert people_from_news([item], observed_at=OBSERVED_AT) == []


@pytest.mark.parametrize(
    ("title", "name", "change", "role"),
    [
        ("NVIDIA names Jane Doe as CFO", "Jane Doe", "appointed", "CFO"),
        (
            "Acme hires John Smith as Chief Revenue Officer",
            "John Smith",
            "appointed",
            "Chief Revenue Officer",
        ),
        ("Mary Jones joins Acme as CTO", "Mary Jones", "appointed", "CTO"),
        ("CFO Colette Kress to step down", "Colette Kress", "departed", "CFO"),
        ("Jane Doe resigns as CEO", "Jane Doe", "departed", "CEO"),
    ],
)
def test_executive_changes_in_headlines(title: str, name: str, change: str, role: str) -> None:
    item = headline(title, sample=True)
    (person,) = people_from_news([item], observed_at=OBSERVED_AT)
    assert (person.fields["name"], person.fields["change"], person.fields["role"]) == (
        name,
        change,
        role,
    )
    assert person.fields["read_from"] == item.id
    assert person.fields["sample"] is True  # read from a sample, still a sample


def test_amounts() -> None:
    assert amount_of("values it at $91.5B") == (91.5e9, "USD")
    assert amount_of("US$2.5 billion") == (2.5e9, "USD")
    assert amount_of("no money here") is None


def form_d(amount_sold: float, *, days_ago: int) -> Finding:
    return make_finding(
        FindingKind.FUNDING_ROUND,
        "Acme: D offering, $48M sold",
        source="sec_edgar",
        days_ago=days_ago,
        confidence=0.95,
        amount=None,
        amount_sold=amount_sold,
        round_type="Form D offering",
        currency="USD",
    )


def test_a_headline_restating_a_form_d_is_one_round_with_two_sources() -> None:
    filing = form_d(48e6, days_ago=20)
    story = make_finding(FindingKind.NEWS_ARTICLE, "Acme raises $50M Series B", days_ago=5)
    (read,) = signals_from_news([filing, story], observed_at=OBSERVED_AT)
    assert read.id == filing.id and read.fields["corroborates"] == filing.id
    (merged,) = merge_findings([filing, read])
    assert merged.source == "sec_edgar" and merged.fields["sources"] == [
        "news_signals",
        "sec_edgar",
    ]
    said = round_words(merged)
    assert "$48M sold" in said and "also reported: “Acme raises $50M Series B”" in said


@pytest.mark.parametrize(
    ("amount_sold", "days_ago"),
    [(48e6, 200), (10e6, 20)],  # months apart, or another amount: another round
)
def test_a_headline_about_another_round_stays_its_own(amount_sold: float, days_ago: int) -> None:
    filing = form_d(amount_sold, days_ago=days_ago)
    story = make_finding(FindingKind.NEWS_ARTICLE, "Acme raises $50M Series B", days_ago=5)
    (read,) = signals_from_news([filing, story], observed_at=OBSERVED_AT)
    assert read.id != filing.id and "corroborates" not in read.fields
    assert "read from the headline" in round_words(read)
