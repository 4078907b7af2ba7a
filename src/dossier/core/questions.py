"""What a chat question asks: its intent and its slots.

"Who is the CFO?" is not the ``people`` topic: it asks for one role. "Do they use
Snowflake?" asks yes or no about one technology; "Where are they based?" asks for one
attribute of the profile. The slots say so, so the analyst answers the question asked (and
says plainly when nothing holds the answer) instead of reciting the topic. Deterministic
pattern reading, no model; memoised (chips and repeated questions come back).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from dossier.core.intents import BY_NAME, Intent, IntentName, classify
from dossier.core.technologies import technologies_in_text

# Roles a seller asks for by their short name; "head of security" style titles are read
# by _TITLE and kept as written.
_ACRONYMS = ("ceo", "cfo", "cto", "coo", "cio", "ciso", "cmo", "cro", "cpo", "chro", "cso")
_NAMED_ROLES = {
    "general counsel": "General Counsel",
    "co-founder": "Founder",
    "cofounder": "Founder",
    "founder": "Founder",
    "founders": "Founder",
    "chairman": "Chair",
    "chairwoman": "Chair",
    "chair": "Chair",
    "president": "President",
}
_ROLE = re.compile(
    r"\b(" + "|".join([*_ACRONYMS, *sorted(_NAMED_ROLES, key=len, reverse=True)]) + r")\b",
    re.IGNORECASE,
)
_CHIEF = re.compile(r"\bchief ((?:[a-z]+ ){1,3})officer\b", re.IGNORECASE)
_TITLE = re.compile(
    r"\b(head|vp|vice president|director|leader|lead)\s+(?:of\s+)?"
    r"([a-z][a-z&/ -]{1,40}?)\s*(?=[?.!,;]|$|\bat\b|\bfor\b|\bin\b|\bthere\b)",
    re.IGNORECASE,
)

# Attributes of the company profile, by the words that ask for them (phrases first).
ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "headquarters": (
        "where are they based",
        "where is it based",
        "where are they located",
        "where is it located",
        "where is their office",
        "headquartered",
        "headquarters",
        "based",
        "hq",
    ),
    "founded": ("when were they founded", "how old", "founded", "established", "since when"),
    "employees": ("how many employees", "how many people work", "employees", "how big", "size"),
    "ticker": ("stock ticker", "ticker", "stock symbol", "publicly traded", "listed"),
    "website": ("website", "homepage", "web site"),
    "revenue": ("revenue", "turnover", "annual sales", "arr"),
    "industry": ("which industry", "what industry", "industry", "sector"),
}
# Words that make "based" or "size" about something else ("teams based in Dublin").
_NOT_PROFILE = frozenset({"hiring", "jobs", "job", "roles", "openings", "team", "teams", "deal"})

_YES_NO = re.compile(
    r"^\s*(?:and\s+|so\s+)?(do|does|did|is|are|was|were|have|has|had|can|will|any)\b",
    re.IGNORECASE,
)
_TECH = re.compile(
    r"\b(?:use|uses|using|used|run|runs|running|built (?:on|with)|customers? of|rely on|"
    r"relies on|(?:they|it) on)"
    r"\s+([A-Za-z][\w.+#-]*(?:\s+[A-Z][\w.+#-]*)?)",
)
_NOT_TECH = frozenset(
    {"the", "a", "an", "any", "it", "them", "their", "our", "us", "my", "your", "this",
     "that", "what", "which", "some", "other", "cloud", "tech", "technology", "software"}
)  # fmt: skip
_CHANGE_WORDS = frozenset(
    {"change", "changes", "changed", "joined", "left", "departed", "departure", "departures",
     "appointed", "appointment", "appointments", "stepped", "turnover", "resigned"}
)  # fmt: skip
_RAISE_WORDS = frozenset(
    {"raise", "raised", "raising", "funding", "funded", "investors", "investment", "round",
     "valuation", "money", "capital"}
)  # fmt: skip
_WINDOWS = (
    (re.compile(r"\b(this|the last|past) week\b", re.IGNORECASE), 7),
    (re.compile(r"\b(this|the last|past) month\b", re.IGNORECASE), 31),
    (re.compile(r"\b(this|the last|past) quarter\b", re.IGNORECASE), 92),
    (re.compile(r"\b(this|the last|past) year\b", re.IGNORECASE), 365),
    (re.compile(r"\b(recent|recently|lately|latest|new|newest)\b", re.IGNORECASE), 180),
)


@dataclass(frozen=True)
class Question:
    """A question's meaning: the intent and the slots the answer must address."""

    intent: Intent
    role: str | None = None  # "CFO", "Head of Security"
    attribute: str | None = None  # a key of ATTRIBUTES
    technology: str | None = None  # as the user wrote it: "Snowflake"
    yes_no: bool = False
    window_days: int | None = None  # "recently": 180, "this year": 365
    event: str | None = None  # "leadership_change" | "funding_raise": dated events asked for

    @property
    def slots(self) -> dict[str, str]:
        """The filled slots, as words (for prompts and the answer cache)."""
        out: dict[str, str] = {}
        if self.role:
            out["role"] = self.role
        if self.attribute:
            out["attribute"] = self.attribute
        if self.technology:
            out["technology"] = self.technology
        if self.yes_no:
            out["yes_no"] = "yes"
        if self.window_days:
            out["window_days"] = str(self.window_days)
        if self.event:
            out["event"] = self.event
        return out

    @property
    def key(self) -> str:
        """The answer-cache key of a deterministic analyst: same meaning, same answer
        ("Who is the CFO?" and "who's their cfo" share one; "Who is the CEO?" does not)."""
        parts = [self.intent.name.value]
        parts += [f"{k}={v.lower()}" for k, v in sorted(self.slots.items())]
        return "|".join(parts)


@functools.lru_cache(maxsize=4096)
def understand(text: str) -> Question:
    """The question's intent and slots; the slots can override the keyword intent (a
    question for a role is about people, one for a technology about the tech stack)."""
    lowered = " ".join(text.lower().split())
    yes_no = bool(_YES_NO.match(lowered))
    window = next((days for pattern, days in _WINDOWS if pattern.search(text)), None)
    role = _role_of(text)
    technology = _technology_of(text) if yes_no else None
    attribute = None if role or technology else _attribute_of(lowered)
    if role:
        intent = BY_NAME[IntentName.PEOPLE]
    elif technology:
        intent = BY_NAME[IntentName.TECH_STACK]
    elif attribute:
        intent = BY_NAME[IntentName.PROFILE]
    else:
        intent = classify(text)
    words = set(re.findall(r"[a-z]+", lowered))
    event = None
    if words & _CHANGE_WORDS and intent.name in (IntentName.PEOPLE, IntentName.NEWS):
        intent, event = BY_NAME[IntentName.PEOPLE], "leadership_change"
    elif words & _RAISE_WORDS and intent.name is IntentName.FUNDING:
        event = "funding_raise"
    return Question(intent, role, attribute, technology, yes_no, window, event)


def _role_of(text: str) -> str | None:
    if chief := _CHIEF.search(text):
        words = chief.group(1).split()
        return "C" + "".join(w[0].upper() for w in words) + "O"
    if title := _TITLE.search(text):
        what = " ".join(title.group(2).split())
        if what.lower() not in {"the company", "them", "it", "their company"}:
            return f"{title.group(1).title()} of {what.title()}".replace("Vp ", "VP ")
    if role := _ROLE.search(text):
        word = role.group(1).lower()
        return word.upper() if word in _ACRONYMS else _NAMED_ROLES[word]
    return None


def _technology_of(text: str) -> str | None:
    # a name in the vocabulary, as written ("Amazon Web Services", "Postgres"), first
    known = technologies_in_text(text)
    for match in _TECH.finditer(text):
        tail = text[match.start(1) :]
        if known and (spelled := _spelling(tail, known[0])):
            return spelled
        name = match.group(1).strip(" ?.!,")
        first = name.split()[0].lower()
        if first in _NOT_TECH or len(name) < 2:
            continue
        return name
    return None


def _spelling(text: str, name: str) -> str | None:
    """How ``text`` spells the technology ``name`` ("AWS" for Amazon Web Services)."""
    for word_count in range(1, min(4, len(text.split())) + 1):  # the fewest words
        words = " ".join(text.split()[:word_count]).strip(" ?.!,")
        if technologies_in_text(words) == [name]:
            return words
    return None


def _attribute_of(lowered: str) -> str | None:
    words = set(re.findall(r"[a-z]+", lowered))
    if words & _NOT_PROFILE:
        return None
    for attribute, asks in ATTRIBUTES.items():
        for ask in asks:
            if (" " in ask and ask in lowered) or ask in words:
                return attribute
    return None
