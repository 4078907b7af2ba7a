"""The builtin analyst's answers: grounded, cited, honest about what is pending."""

from __future__ import annotations

import re

import pytest

from dossier.core.coverage import CoverageNote, CoverageState
from dossier.core.intents import IntentName
from dossier.core.ports import QuestionRequest
from dossier.core.types import Finding, FindingKind
from dossier.providers import answers, compose
from tests.fakes import make_analysis, make_finding

finding = make_finding


JOBS = [
    finding(
        FindingKind.JOB_POSTING,
        "Fraud Analyst",
        department="4378 SDC - Fraud Operations",
        location="Dublin",
    ),
    finding(
        FindingKind.JOB_POSTING,
        "Risk Engineer",
        department="Fraud Operations",
        location="Dublin",
        compensation={"min": 150000, "max": 200000, "currency": "USD", "interval": "year"},
    ),
    finding(
        FindingKind.JOB_POSTING, "Data Scientist", department="Data", location="Remote", remote=True
    ),
]
PEOPLE = [
    finding(FindingKind.PERSON, "Jane Roe — CEO", name="Jane Roe", roles=["CEO", "Founder"]),
    finding(FindingKind.PERSON, "John Doe — Director", name="John Doe", role="Director"),
]
TECH = [
    finding(
        FindingKind.TECHNOLOGY,
        "Kafka",
        category="Message queues",
        evidence=[{"type": "job_description", "value": "Risk Engineer"}],
    )
]


def ask(intent: str, findings: list[Finding], **extra: object) -> list[compose.Sentence]:
    request = QuestionRequest(
        question="q",
        intent=IntentName(intent),
        account_name="Acme",
        vendor_name="Us",
        vendor_description="fraud and risk analytics",
        findings=findings,
        **extra,  # type: ignore[arg-type]
    )
    return answers.answer(request)


def test_every_sentence_with_a_number_or_a_quote_cites_a_finding() -> None:
    for intent in ("hiring", "people", "tech_stack", "fit", "overview"):
        for sentence in ask(intent, JOBS + PEOPLE + TECH):
            if re.search(r"\\d|“", sentence.text):
                assert sentence.cites, (intent, sentence.text)


def test_hiring_answer_counts_roles_by_cleaned_department_with_pay() -> None:
    text = " ".join(s.text for s in ask("hiring", JOBS))
    assert "3 open roles, mostly in Fraud Operations (2); also Data (1)." in text
    assert "$150k–$200k per year" in text
    assert "1 of 3 roles are remote-friendly" in text


def test_people_answer_ranks_the_ceo_first() -> None:
    first = ask("people", PEOPLE)[0]
    assert first.text.startswith("Leadership: Jane Roe (CEO, Founder), John Doe (Director)")
    assert {f.title for f in first.cites} == {"Jane Roe — CEO", "John Doe — Director"}


def test_nothing_found_says_why_and_what_is_pending() -> None:
    waiting = ask("funding", [], pending=["funding"], pending_eta_s={"funding": 4.0})
    assert [s.text for s in waiting] == [
        "No funding rounds or SEC filings yet.",
        "Still collecting: funding and filings (~4 s); I will revise this when it lands.",
    ]
    soon = ask("funding", [], pending=["funding"], pending_eta_s={"funding": 0.3})
    assert "funding and filings (~1 s)" in soon[1].text
    assert all(not s.cites for s in waiting + soon)


@pytest.mark.parametrize(
    ("state", "reason", "said"),
    [
        (
            CoverageState.NONE_FOUND,
            "SEC EDGAR lists no funding rounds or filings",
            "No funding rounds or SEC filings: SEC EDGAR lists no funding rounds or filings.",
        ),
        (
            CoverageState.FAILED,
            "could not reach SEC EDGAR (network)",
            "Funding and filings unknown: could not reach SEC EDGAR (network).",
        ),
        (
            CoverageState.SKIPPED,
            "skipped at your request",
            "Funding and filings: skipped at your request.",
        ),
        (
            CoverageState.NOT_RECORDED,
            "SEC EDGAR not in this demo's recordings",
            "Funding and filings unknown: SEC EDGAR not in this demo's recordings.",
        ),
        (
            CoverageState.UNRESOLVED,
            "couldn't identify Acme: add its domain",
            "Funding and filings unknown: couldn't identify Acme: add its domain.",
        ),
    ],
)
def test_nothing_found_is_said_from_the_coverage_state(
    state: CoverageState, reason: str, said: str
) -> None:
    answer = ask("funding", [], coverage={"funding": CoverageNote(state, reason)})
    assert answer[0].text == said
    assert not answer[0].cites


def test_the_analysis_names_each_gap_by_its_cause() -> None:
    sentences = compose.analysis(
        make_analysis(
            coverage={
                "jobs": CoverageNote(CoverageState.FAILED, "could not reach Lever (network)"),
                "news": CoverageNote(CoverageState.SKIPPED, "skipped at your request"),
                "funding": CoverageNote(CoverageState.NONE_FOUND, "SEC EDGAR lists no filings"),
            },
        )
    )
    text = " ".join(s.text for s in sentences)
    assert "Job postings unknown: could not reach Lever (network)." in text
    assert "News: skipped at your request." in text
    assert "Funding and filings: none found (SEC EDGAR lists no filings)." in text
    assert "Not found" not in text and "could not be reached" not in text


def test_sentences_resting_on_sample_recordings_say_so() -> None:
    sample = finding(FindingKind.NEWS_ARTICLE, "Invented headline", sample=True)
    text = " ".join(s.text for s in ask("news", [sample]))
    assert "“Invented headline”" in text and "[sample data]" in text


def test_fit_links_what_we_sell_to_what_they_hire_for() -> None:
    text = " ".join(s.text for s in ask("fit", JOBS))
    assert "Talking point: they are hiring for Fraud Operations" in text
    assert "Us' fraud" in text or "Us' risk" in text


def test_the_analysis_of_the_customer_covers_signals_people_and_points() -> None:
    sentences = compose.analysis(
        make_analysis(
            JOBS + PEOPLE + TECH, vendor_name="Us", vendor_description="fraud and risk analytics"
        )
    )
    text = " ".join(s.text for s in sentences)
    for expected in (
        "Hiring signal: 3 open roles, led by Fraud Operations",
        "Entry point: nobody in fraud and risk analytics is named yet; their hiring for Fraud",
        "Opening hook (suggested):",
        "Now: hiring (3 open roles, Fraud Operations and Data).",
        "Discovery question 1 (suggested): What is driving the hiring in Fraud Operations?",
        "Named in their job posts: Kafka",
        "Talking point:",
    ):
        assert expected in text


def test_an_empty_vendor_is_told_what_to_configure() -> None:
    sentences = compose.analysis(
        make_analysis(workflow="vendor_context", account_name="Our company")
    )
    assert "DOSSIER_VENDOR_NAME" in sentences[0].text


def test_every_intent_has_a_topic_but_pending_and_unknown() -> None:
    answered = set(IntentName) - {IntentName.PENDING, IntentName.UNKNOWN}
    assert set(answers.TOPICS) == answered
    for name in answered:  # and each answers, even with nothing found
        assert ask(name, []), name
