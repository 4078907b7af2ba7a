"""What a chat question is about: one intent, and the data types that answer it.

Deterministic keyword scoring (no model): the intent picks which findings answer, which
pending data an answer waits for (and is revised on), the answer-cache key, and the
builtin analyst's composition. Ties go to the earlier intent in :data:`INTENTS`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import StrEnum

from dossier.core.types import DataType


class IntentName(StrEnum):
    """What a question is about (one table per use is keyed by these: a new intent that a
    table misses fails a test, not a user)."""

    PENDING = "pending"
    TECH_STACK = "tech_stack"
    FUNDING = "funding"
    HIRING = "hiring"
    PEOPLE = "people"
    NEWS = "news"
    FIT = "fit"
    CALL_PREP = "call_prep"
    PROFILE = "profile"  # one attribute: where, when founded, how big (core/questions.py)
    OVERVIEW = "overview"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Intent:
    name: IntentName
    data_types: tuple[DataType, ...]
    keywords: tuple[str, ...]


_ALL = tuple(DataType)

INTENTS: tuple[Intent, ...] = (
    Intent(
        IntentName.PENDING,
        (),
        (
            "pending",
            "still running",
            "still working",
            "still collecting",
            "waiting",
            "how long",
            "eta",
            "progress",
            "status",
            "done yet",
            "finished",
            "being collected",
            "still being",
        ),
    ),
    Intent(
        IntentName.TECH_STACK,
        (DataType.TECH, DataType.JOBS),
        (
            "tech",
            "technology",
            "technologies",
            "stack",
            "software",
            "tools",
            "framework",
            "language",
            "languages",
            "cloud",
            "aws",
            "gcp",
            "azure",
            "database",
            "infrastructure",
            "built with",
            "platform",
            "analytics",
            "crm",
            "vendor",
        ),
    ),
    Intent(
        IntentName.FUNDING,
        (DataType.FUNDING,),
        (
            "funding",
            "raised",
            "raise",
            "investors",
            "investor",
            "valuation",
            "series",
            "round",
            "money",
            "capital",
            "filing",
            "filings",
            "sec",
            "form d",
            "revenue",
            "ipo",
            "public",
        ),
    ),
    Intent(
        IntentName.HIRING,
        (DataType.JOBS,),
        (
            "hiring",
            "hire",
            "jobs",
            "job",
            "roles",
            "role",
            "openings",
            "positions",
            "recruiting",
            "headcount",
            "team",
            "teams",
            "growing",
            "careers",
            "departments",
            "pay",
            "salary",
            "salaries",
            "compensation",
        ),
    ),
    Intent(
        IntentName.PEOPLE,
        (DataType.PEOPLE,),
        (
            "who",
            "people",
            "person",
            "ceo",
            "cto",
            "cfo",
            "founder",
            "founders",
            "leadership",
            "executive",
            "executives",
            "decision maker",
            "decision makers",
            "contact",
            "buyer",
            "champion",
            "leaders",
            "management",
            "board",
        ),
    ),
    Intent(
        IntentName.NEWS,
        (DataType.NEWS,),
        (
            "news",
            "recent",
            "latest",
            "announce",
            "announced",
            "announcement",
            "press",
            "happening",
            "headlines",
            "blog",
            "launch",
            "launched",
            "acquisition",
            "acquired",
            "what's new",
            "what is new",
            "anything new",
            "new with",
        ),
    ),
    Intent(
        IntentName.CALL_PREP,
        _ALL,
        (
            "open the call",
            "open with",
            "opening",
            "opener",
            "hook",
            "icebreaker",
            "discovery",
            "questions should i ask",
            "what should i ask",
            "prepare",
            "prep",
            "call",
            "meeting",
        ),
    ),
    Intent(
        IntentName.FIT,
        _ALL,
        (
            "fit",
            "pitch",
            "talking points",
            "talking point",
            "why us",
            "sell",
            "selling",
            "opportunity",
            "approach",
            "angle",
            "value",
            "relevant",
            "our product",
            "priorities",
            "pain",
            "needs",
            "use case",
            "buying signals",
            "signals",
        ),
    ),
    Intent(
        IntentName.OVERVIEW,
        _ALL,
        (
            "overview",
            "summary",
            "summarize",
            "about",
            "tell me",
            "what do they do",
            "profile",
            "company",
            "background",
            "brief",
            "who are they",
            "industry",
            "headquarters",
            "employees",
            "size",
            "founded",
        ),
    ),
)
# asked through its slot (an attribute), never by keyword score
PROFILE = Intent(IntentName.PROFILE, (DataType.PROFILE,), ())
UNKNOWN = Intent(IntentName.UNKNOWN, (), ())
BY_NAME: dict[str, Intent] = {intent.name: intent for intent in (*INTENTS, PROFILE, UNKNOWN)}

_WORD = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*")


def _score(text: str, words: set[str], keyword: str) -> int:
    if " " in keyword:
        return 2 if keyword in text else 0
    return 1 if keyword in words else 0


@functools.lru_cache(maxsize=4096)
def classify(question: str) -> Intent:
    """The best-matching intent (``unknown`` when nothing matches). Memoised: the same
    questions come back (suggestion chips, repeated asks, every tab's snapshot fold)."""
    text = " ".join(_WORD.findall(question.lower()))
    words = set(text.split())
    best, best_score = UNKNOWN, 0
    for intent in INTENTS:
        score = sum(_score(text, words, k) for k in intent.keywords)
        if score > best_score:
            best, best_score = intent, score
    return best


def normalize_question(question: str) -> str:
    """Case/punctuation-insensitive question text (answer-cache key for LLM answers)."""
    return " ".join(_WORD.findall(question.lower()))
