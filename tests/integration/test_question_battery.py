"""A seller's questions against the recorded Stripe and NVIDIA researches: each answer
answers the question asked (a role, an attribute, yes/no about a technology), cites what
holds its names, and says plainly when nothing does — never a topic dump."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import httpx

from tests.sse import read_stream


@dataclass(frozen=True)
class Ask:
    question: str
    must: tuple[str, ...] = ()
    must_not: tuple[str, ...] = ()
    cites: bool = True  # at least one citation


_DUMP = "I can answer about their tech stack, funding, hiring, people, news and how we fit"

STRIPE = [
    Ask("Who is the CEO?", ("Patrick Collison",), ("John Collison",)),
    Ask("Who is the CFO?", ("No CFO is named", "discovery", "Patrick Collison (CEO"), cites=True),
    Ask("Is their CFO a golfer?", ("No CFO is named", "discovery")),
    Ask("Who are the founders?", ("Patrick Collison", "John Collison")),
    Ask("Who is the head of security?", ("No Head of Security", "discovery")),
    Ask("Where are they based?", ("Headquarters:", "San Francisco"), ("Patrick",)),
    Ask("How many employees do they have?", ("8,000 employees", "2022")),
    Ask("When were they founded?", ("Founded in 2010",)),
    Ask(
        "What is their stock ticker?",
        ("Nothing we hold says a stock ticker", "discovery"),
        cites=False,
    ),
    Ask("What is their revenue?", ("Nothing we hold says their revenue",), cites=False),
    Ask(
        "Do they use Snowflake?",
        ("Unknown: nothing we hold names Snowflake", "discovery"),
        ("Yes",),
        cites=False,
    ),
    Ask("What is new with them?", ("7 stories mention Stripe", "in the last 180 days"), (_DUMP,)),
    Ask(
        "Have they raised money recently?",
        ("Not in the last 180 days", "Tender Offer on 2025-02-27", "valued at $91.5B"),
        ("Latest SEC filings",),
    ),
    Ask("What's new?", (), (_DUMP,)),
    Ask(
        "What is still being collected?",
        ("Nothing is still being collected",),
        (_DUMP,),
        cites=False,
    ),
    Ask(
        "Which teams are they hiring for?",
        ("2 open roles: Fraud Operations (1) and Security Analytics (1)",),
        ("mostly", "led by"),
    ),
    Ask(
        "What should I open the call with?",
        ("Opening hook (suggested)", "Entry point", "Discovery question 3 (suggested)"),
        (_DUMP,),
    ),
    Ask(
        "What discovery questions should I ask?",
        ("Who owns fraud and risk analytics today",),
        ("Discovery question 6",),
    ),
    Ask(
        "Who should I talk to?",
        ("Entry point", "Fraud Operations"),
        ("Decision makers to approach",),
    ),
    Ask(
        "Is the sky blue on Tuesdays?",
        ("answers that; ask it in discovery",),
        (_DUMP, "Patrick"),
        cites=False,
    ),
]

NVIDIA = [
    Ask("Who is the CFO?", ("Colette M. Kress",), ("Jen-Hsun Huang",)),
    Ask("Who is their chief financial officer?", ("Colette M. Kress",)),
    Ask("Who is the CEO?", ("Jen-Hsun Huang",)),
    Ask("Who is their general counsel?", ("Timothy S. Teter",)),
    Ask("Is their CFO a golfer?", ("Colette M. Kress", "discovery")),
    Ask("Who is the CTO?", ("No CTO is named", "discovery")),
    Ask("Where are they based?", ("Santa Clara",)),
    Ask("What is their stock ticker?", ("NVDA", "Nasdaq")),
    Ask("What is their revenue?", ("Revenue is not among the findings", "10-K")),
    Ask("Which industry are they in?", ("Semiconductors",)),
    Ask(
        "Do they use Kubernetes?",
        ("Unknown: nothing we hold names Kubernetes",),
        ("Yes",),
        cites=False,
    ),
    Ask(
        "Any recent leadership changes?",
        (
            "No appointment or departure in the last 180 days",
            "(item 5.02: an appointment, a departure or pay)",
            "2026-01-23",
        ),
        ("Leadership:",),
    ),
    Ask(
        "Have they raised money recently?",
        ("No funding round", "reports, not money raised"),
        ("Latest SEC filings",),
    ),
    Ask(
        "What should I open the call with?",
        ("Entry point: nobody in fraud and risk analytics is named yet", "Discovery question 4"),
        ("Jen-Hsun Huang",),
        cites=False,  # nothing dated to open with: every line is a suggestion
    ),
    Ask(
        "What is new with them?",
        ("News unknown: Hacker News and GDELT not in this demo",),
        cites=False,
    ),
]


RAMP = [
    # named only in job posts: "likely", quoting the sentence that names it
    Ask(
        "Do they use Terraform?",
        ("Likely: their job posts name Terraform: “", "(with Terraform)”"),
        ("Yes",),
    ),
    # "AWS" is Amazon Web Services: the alias finds the technology finding
    Ask(
        "Do they use Amazon Web Services?", ("Likely: their job posts name Amazon Web Services: “",)
    ),
    Ask("Do they use AWS?", ("Likely: their job posts name AWS: “", "building in AWS")),
    Ask("What do they pay?", ("pays $211.4k–$290.6k per year",), (_DUMP, "answers that")),
    Ask("Which teams are they hiring for?", ("2 open roles", "Engineering (2)"), ("mostly",)),
]

SHOPIFY = [
    Ask("Where are they based?", ("Headquarters: Ottawa",)),
    Ask("What is their stock ticker?", ("Ticker: SHOP",)),
    Ask("Who is the CEO?", ("No CEO is named", "discovery"), cites=False),
    Ask(
        "Have they raised money recently?",
        ("No funding round", "none found (SEC EDGAR lists no funding rounds or filings)"),
        cites=False,
    ),
]


async def _answers(live: httpx.AsyncClient, account: str, asks: list[Ask]) -> None:
    opened = (await live.post("/api/sessions", json={"account": {"name": account}})).json()
    session_id = opened["session_id"]
    await read_stream(live, f"/api/sessions/{session_id}/events", timeout_s=60)
    snapshot = (await live.get(f"/api/sessions/{session_id}")).json()
    known = {f["id"]: f for f in snapshot["findings"]}
    failures = []
    for ask in asks:
        response = await live.post(
            f"/api/sessions/{session_id}/questions", json={"content": ask.question}
        )
        text, cited = _read(response.text)
        problems = [f"missing {m!r}" for m in ask.must if m not in text]
        problems += [f"has {m!r}" for m in ask.must_not if m in text]
        if ask.cites and not cited:
            problems.append("cites nothing")
        problems += [f"cites unknown {c}" for c in cited if c not in known]
        if problems:
            failures.append(f"{ask.question} -> {text!r}: {', '.join(problems)}")
    assert not failures, "\n".join(failures)


def _read(body: str) -> tuple[str, list[str]]:
    text, cited, event = [], [], ""
    for line in body.splitlines():
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data = json.loads(line.removeprefix("data: "))
            if event == "answer.delta":
                text.append(data["text"])
            elif event == "answer.citation":
                cited.append(data["finding"])
    return re.sub(r"\s+", " ", "".join(text)), cited


async def test_stripe_questions_are_answered_as_asked(live: httpx.AsyncClient) -> None:
    await _answers(live, "Stripe", STRIPE)


async def test_nvidia_questions_are_answered_as_asked(live: httpx.AsyncClient) -> None:
    await _answers(live, "NVIDIA", NVIDIA)


async def test_ramp_questions_are_answered_as_asked(live: httpx.AsyncClient) -> None:
    await _answers(live, "Ramp", RAMP)


async def test_shopify_questions_are_answered_as_asked(live: httpx.AsyncClient) -> None:
    await _answers(live, "Shopify", SHOPIFY)
