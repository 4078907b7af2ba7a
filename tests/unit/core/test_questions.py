"""Question understanding: the intent and the slots a seller's question carries."""

from __future__ import annotations

import pytest

from dossier.core.intents import IntentName
from dossier.core.questions import understand
from dossier.core.suggestions import _SUGGESTIONS


@pytest.mark.parametrize(
    ("question", "key"),
    [
        ("Who is the CFO?", "people|role=cfo"),
        ("who's their cfo", "people|role=cfo"),
        ("Is their CFO a golfer?", "people|role=cfo|yes_no=yes"),
        ("Who is their chief revenue officer?", "people|role=cro"),
        ("Who is the head of security?", "people|role=head of security"),
        ("Who are the founders?", "people|role=founder"),
        ("Do they use Snowflake?", "tech_stack|technology=snowflake|yes_no=yes"),
        ("Are they on AWS?", "tech_stack|technology=aws|yes_no=yes"),
        ("Do they use any cloud?", "tech_stack|yes_no=yes"),
        ("Where are they based?", "profile|attribute=headquarters"),
        ("How many employees do they have?", "profile|attribute=employees"),
        ("When were they founded?", "profile|attribute=founded"),
        ("What is their stock ticker?", "profile|attribute=ticker"),
        ("What is their revenue?", "profile|attribute=revenue"),
        ("Which teams are they hiring for?", "hiring"),
        ("Which teams are based in Dublin?", "hiring"),
        ("What is still being collected?", "pending"),
        ("What is new with them?", "news|window_days=180"),
        ("What's new?", "news|window_days=180"),
        ("Any news this month?", "news|window_days=31|yes_no=yes"),
        # by keywords alone
        ("What technology do they use?", "tech_stack"),
        ("what's their tech stack", "tech_stack"),
        (
            "Have they raised money recently?",
            "funding|event=funding_raise|window_days=180|yes_no=yes",
        ),
        ("Any SEC filings?", "funding|yes_no=yes"),
        ("Who should I talk to?", "people"),
        ("What's new with them? any news", "news|window_days=180"),
        ("Give me talking points for my call", "fit"),
        ("How does our product fit them?", "fit"),
        ("What should I open the call with?", "call_prep"),
        ("Give me an overview", "overview"),
        ("What is still pending?", "pending"),
        ("asdf qwerty", "unknown"),
        ("", "unknown"),
    ],
)
def test_a_question_is_read_as_its_intent_and_slots(question: str, key: str) -> None:
    assert understand(question).key == key


def test_the_same_meaning_shares_a_key_and_another_role_does_not() -> None:
    assert understand("Who is the CFO?").key == understand("who is their CFO ?").key
    assert understand("Who is the CFO?").key != understand("Who is the CEO?").key


def test_every_suggestion_chip_is_read_as_its_own_intent() -> None:
    for intent, text, _needs in _SUGGESTIONS:
        assert understand(text).intent.name is intent, text


def test_a_question_with_no_known_words_is_unknown() -> None:
    assert understand("Is the sky blue on Tuesdays?").intent.name is IntentName.UNKNOWN


@pytest.mark.parametrize(
    ("text", "technology"),
    [
        ("Do they use Amazon Web Services?", "Amazon Web Services"),
        ("Do they use AWS for storage?", "AWS"),
        ("Are they on Postgres today?", "Postgres"),
        ("Do they use Snowflake?", "Snowflake"),
    ],
)
def test_technology_slots_keep_the_spelling_asked(text: str, technology: str) -> None:
    assert understand(text).technology == technology
