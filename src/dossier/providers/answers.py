"""How the builtin analyst answers a question: one :class:`Topic` per intent (the
sentences, what to say when there is nothing, the data the answer rests on), and what is
still pending. Pure; the sentences come from ``providers/compose.py``.

A new intent: its name and patterns in ``core/intents.py``, its row in :data:`TOPICS`
(a unit test holds the table complete).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from dossier.core.coverage import SETTLED, CoverageState
from dossier.core.intents import IntentName
from dossier.core.ports import QuestionRequest
from dossier.core.types import DataType, FindingKind
from dossier.core.words import join_words
from dossier.providers import facts as F
from dossier.providers.asked import slot_answer, unanswerable
from dossier.providers.call_prep import discovery_questions, entry_point, opening_hook
from dossier.providers.changes import news, window_of
from dossier.providers.compose import (
    funding,
    hiring,
    people,
    priorities,
    profile,
    signals,
    talking_points,
    tech,
)
from dossier.providers.sentences import DATA_TYPE_TEXT, Sentence, gaps, marked

K = FindingKind
_CAN_ANSWER = (
    "profile (where they are based, size, founding)",
    "people and roles",
    "hiring",
    "funding and filings",
    "news",
    "tech stack",
    "how our offer fits",
)


@dataclass(frozen=True)
class Topic:
    """How the builtin analyst answers one intent: its sentences, what it says when there
    is nothing, and the data type (with the finding kinds) the answer rests on."""

    sentences: Callable[[QuestionRequest], list[Sentence]]
    nothing: str
    primary: tuple[DataType, tuple[FindingKind, ...]] | None = None


_I = IntentName
# One table, keyed by every intent but "pending" and "unknown" (a unit test holds it so).
TOPICS: dict[IntentName, Topic] = {
    _I.TECH_STACK: Topic(
        lambda r: tech(r.findings) + hiring(r.account_name, r.findings)[:1],
        "No technology signals",
        (DataType.TECH, (K.TECHNOLOGY,)),
    ),
    _I.FUNDING: Topic(
        lambda r: funding(r.account_name, r.findings),
        "No funding rounds or SEC filings",
        (DataType.FUNDING, (K.FUNDING_ROUND, K.FILING)),
    ),
    _I.HIRING: Topic(
        lambda r: hiring(r.account_name, r.findings, detail=True) + priorities(r.findings),
        "No job postings",
        (DataType.JOBS, (K.JOB_POSTING,)),
    ),
    _I.PEOPLE: Topic(
        lambda r: (
            people(r.findings, limit=6)
            + entry_point(r.findings, r.vendor_description, r.vendor_sells_to)
        ),
        "No decision makers identified",
        (DataType.PEOPLE, (K.PERSON,)),
    ),
    _I.NEWS: Topic(
        lambda r: news(r.account_name, r.findings, limit=5, days=window_of(r)),
        "No recent news",
        (DataType.NEWS, (K.NEWS_ARTICLE,)),
    ),
    _I.FIT: Topic(
        lambda r: (
            signals(r.account_name, r.findings)
            + talking_points(r.account_name, r.findings, r.vendor_name, r.vendor_description)
            + entry_point(r.findings, r.vendor_description, r.vendor_sells_to)
        ),
        "Not enough data to link our offer to them",
    ),
    _I.CALL_PREP: Topic(
        lambda r: (
            opening_hook(r.account_name, r.findings)
            + entry_point(r.findings, r.vendor_description, r.vendor_sells_to)
            + discovery_questions(
                r.account_name, r.findings, r.coverage, r.vendor_description, r.vendor_sells_to
            )
        ),
        "Not enough data to prepare the call",
    ),
    _I.PROFILE: Topic(
        lambda r: profile(r.account_name, r.findings),
        "No company profile",
        (DataType.PROFILE, (K.COMPANY_PROFILE,)),
    ),
    _I.OVERVIEW: Topic(
        lambda r: (
            profile(r.account_name, r.findings)
            + hiring(r.account_name, r.findings)[:1]
            + funding(r.account_name, r.findings)[:1]
            + people(r.findings, limit=3)
            + news(r.account_name, r.findings, limit=1)
        ),
        "Nothing about them",
    ),
}


def pending_sentence(request: QuestionRequest) -> list[Sentence]:
    if not request.pending:
        return []
    parts = []
    for data_type in request.pending:
        eta = request.pending_eta_s.get(data_type)
        label = DATA_TYPE_TEXT.get(data_type, data_type)
        # Rounded up: "~0 s" for something still running reads as a promise broken.
        parts.append(f"{label} (~{max(1, math.ceil(eta))} s)" if eta else label)
    return [
        Sentence("Still collecting: " + ", ".join(parts) + "; I will revise this when it lands.")
    ]


def _nothing(topic: Topic, request: QuestionRequest) -> Sentence:
    """Say why there is nothing, from the coverage state: still coming, none exists, the
    sources failed, skipped, not recorded, or the company is not identified."""
    nothing, primary = topic.nothing, topic.primary
    note = request.coverage.get(primary[0].value) if primary else None
    if primary and primary[0].value in request.pending:
        return Sentence(f"{nothing} yet.")
    if note is None or note.state is None or note.state is CoverageState.FOUND:
        return Sentence(f"{nothing} yet." if request.pending else f"{nothing}.")
    why = note.reason.rstrip(".")
    if note.state in (CoverageState.NONE_FOUND, CoverageState.NOT_APPLICABLE):
        return Sentence(f"{nothing}: {why}.")
    # not "none": nobody looked, or nobody could say (a seller should retry or ask, not
    # conclude there is nothing)
    name = DATA_TYPE_TEXT.get(primary[0].value, primary[0].value) if primary else "this"
    name = name[:1].upper() + name[1:]
    if note.state is CoverageState.SKIPPED:
        return Sentence(f"{name}: skipped at your request.")
    return Sentence(f"{name} unknown: {why}.")


def answer(request: QuestionRequest) -> list[Sentence]:
    return marked(_answer(request))


def _answer(request: QuestionRequest) -> list[Sentence]:
    intent = request.intent
    if intent == IntentName.PENDING:
        settled = [
            DATA_TYPE_TEXT.get(t, t)
            for t, note in request.coverage.items()
            if note.state in SETTLED and t not in request.pending
        ]
        out = [Sentence("Collected: " + join_words(settled) + ".")] if settled else []
        if not request.pending:
            out.append(Sentence("Nothing is still being collected."))
            out += gaps(request.coverage)
        return out + pending_sentence(request)
    asked = slot_answer(request)
    if asked is not None:  # the question names what it wants: answer that, not the topic
        return asked + pending_sentence(request)
    topic = TOPICS.get(intent)
    if topic is None:  # nothing we could match: say so, never recite a topic
        return unanswerable(request, _CAN_ANSWER) + pending_sentence(request)
    body = topic.sentences(request)
    if topic.primary and not F.of_kind(request.findings, *topic.primary[1]):
        body = [_nothing(topic, request), *body]
    elif not body:
        body = [_nothing(topic, request)]
    return body + pending_sentence(request)
