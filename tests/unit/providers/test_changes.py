"""What changed, inside a stated window: news, leadership changes, money raised."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta

from dossier.core.intents import IntentName
from dossier.core.types import FindingKind
from dossier.providers.changes import leadership_changes, news, raised_money
from tests.fakes import FIXED_TIME, make_finding, make_question

K = FindingKind
NOW = FIXED_TIME + timedelta(days=1)
finding = functools.partial(make_finding, at=FIXED_TIME)  # dated against NOW, not the clock


def text(sentences: list) -> str:  # type: ignore[type-arg]
    return " ".join(s.text for s in sentences)


def test_news_says_how_many_stories_fall_inside_the_window() -> None:
    fresh = finding(K.NEWS_ARTICLE, "Acme opens Berlin office", days_ago=3)
    old = finding(K.NEWS_ARTICLE, "Acme founded", days_ago=400)
    said = text(news("Acme", [old, fresh], days=180, now=NOW))
    assert said.startswith("2 stories mention Acme, 1 in the last 180 days (since ")
    assert said.index("Berlin") < said.index("founded")  # newest first
    only_old = text(news("Acme", [old], days=30, now=NOW))
    assert only_old.startswith("1 story mentions Acme, none in the last 30 days")


def test_a_recent_appointment_is_a_change_with_why_it_matters() -> None:
    cfo = finding(
        K.PERSON, "Jane Roe — appointed CFO", days_ago=10, name="Jane Roe", role="CFO",
        change="appointed",
    )  # fmt: skip
    request = make_question("Any leadership changes?", IntentName.PEOPLE, [cfo])
    said = text(leadership_changes(request, now=NOW))
    assert "Leadership changes in the last 180 days" in said
    assert "Jane Roe appointed as CFO" in said and "Why it matters" in said


def test_filings_are_not_money_raised_and_a_recent_round_is() -> None:
    filing = finding(K.FILING, "10-K filed", days_ago=20, form="10-K", filed_at="2026-01-02")
    request = make_question("Have they raised money recently?", IntentName.FUNDING, [filing])
    said = text(raised_money(request, now=NOW))
    assert said.startswith("No funding round in what we hold about Acme Corp.")
    assert "(10-K) are reports, not money raised" in said
    offering = finding(
        K.FUNDING_ROUND, "Form D", days_ago=30, amount=8_000_000, amount_sold=5_730_000,
        round_type="Form D offering",
    )  # fmt: skip
    request = make_question("Have they raised money?", IntentName.FUNDING, [offering, filing])
    said = text(raised_money(request, now=NOW))
    assert said.startswith("Yes, in the last 180 days: Form D offering on ")
    assert "$8M offered" in said or "$8.0M offered" in said
    stale = text(raised_money(request, now=datetime(2030, 1, 1, tzinfo=UTC)))
    assert stale.startswith("Not in the last 180 days")
