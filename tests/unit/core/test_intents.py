from __future__ import annotations

import pytest

from dossier.core.intents import classify


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("What technology do they use?", "tech_stack"),
        ("what's their tech stack", "tech_stack"),
        ("Have they raised money recently?", "funding"),
        ("Any SEC filings?", "funding"),
        ("Which teams are they hiring for?", "hiring"),
        ("Who is the CEO?", "people"),
        ("Who should I talk to?", "people"),
        ("What's new with them? any news", "news"),
        ("Give me talking points for my call", "fit"),
        ("How does our product fit them?", "fit"),
        ("Give me an overview", "overview"),
        ("What is still pending?", "pending"),
        ("asdf qwerty", "unknown"),
        ("", "unknown"),
    ],
)
def test_questions_map_to_intents(question: str, intent: str) -> None:
    assert classify(question).name == intent
