"""Answers to what a question asks beyond its topic (its slots, ``core/questions.py``): a
role, one attribute of the profile, a yes/no about a technology, or nothing we can answer.

Each answer addresses the question first (the name, the value, yes / likely / unknown),
cites the finding that holds it, and when nothing holds it says so in one sentence with
where to get it (discovery), instead of reciting the topic. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from dossier.core.coverage import CoverageState
from dossier.core.ports import QuestionRequest
from dossier.core.technologies import technologies_in_text
from dossier.core.types import DataType, Finding, FindingKind
from dossier.core.words import join_words
from dossier.providers import facts as F
from dossier.providers.changes import leadership_changes, raised_money
from dossier.providers.sentences import S, Sentence

K = FindingKind

_ATTRIBUTE_WORDS = {
    "headquarters": "where they are based",
    "founded": "when they were founded",
    "employees": "how many people they employ",
    "ticker": "a stock ticker",
    "website": "their website",
    "revenue": "their revenue",
    "industry": "their industry",
}


def slot_answer(request: QuestionRequest) -> list[Sentence] | None:
    """The answer to the question's slot, or None when it has none to answer."""
    slots = request.slots
    if slots.get("event") == "leadership_change":
        return leadership_changes(request)
    if slots.get("event") == "funding_raise":
        return raised_money(request)
    if role := slots.get("role"):
        return role_answer(request, role, yes_no="yes_no" in slots)
    if technology := slots.get("technology"):
        return technology_answer(request, technology)
    if attribute := slots.get("attribute"):
        return attribute_answer(request, attribute)
    return None


# -- roles


def holds_role(person: Finding, role: str) -> bool:
    """Whether a person's roles or title name ``role`` ("CFO", "Founder", "Head of
    Security": every word of what follows "of" in the title)."""
    roles = [r.lower() for r in F.person_roles(person)]
    title = " ".join([*roles, (F.text_field(person, "title") or "").lower()])
    wanted = role.lower()
    if wanted in roles:
        return True
    if " of " in wanted:
        area = wanted.split(" of ", 1)[1]
        return all(word in title for word in area.split())
    return bool(re.search(rf"\b{re.escape(wanted)}s?\b", title))


def role_answer(request: QuestionRequest, role: str, *, yes_no: bool) -> list[Sentence]:
    people = F.of_kind(request.findings, K.PERSON)
    holders = sorted(
        (p for p in people if holds_role(p, role)), key=lambda p: (F.seniority(p), F.person_name(p))
    )
    if holders and yes_no:
        # "Is their CFO a golfer?": who holds the role is known, the rest is not
        names = join_words([F.person_name(p) for p in holders])
        return [
            S(f"Their {role}: {names}.", *holders),
            Sentence("Nothing we hold answers the rest of that question; ask it in discovery."),
        ]
    if holders:
        named = [_with_title(p) for p in holders[:3]]
        if len(holders) == 1:
            lead = f"Their {role}: {named[0]}."
        else:  # "Founders: …", "Executive Vice Presidents: …"
            lead = f"{role if role.endswith('s') else role + 's'}: {join_words(named)}."
        return [S(lead, *holders[:3])]
    pending = DataType.PEOPLE.value in request.pending
    out = [
        Sentence(f"No {role} named yet.")
        if pending
        else Sentence(f"No {role} is named in what we hold about {request.account_name}.")
    ]
    known = sorted(people, key=lambda p: (F.seniority(p), F.person_name(p)))[:3]
    if known:
        out.append(S(f"People we know: {join_words([_with_roles(p) for p in known])}.", *known))
    if not pending:
        out.append(Sentence(f"Ask in discovery who their {role} is."))
    return out


def _with_title(person: Finding) -> str:
    title = F.text_field(person, "title")
    return f"{F.person_name(person)} ({title})" if title else F.person_name(person)


def _with_roles(person: Finding) -> str:
    roles = F.person_roles(person)
    return f"{F.person_name(person)} ({', '.join(roles)})" if roles else F.person_name(person)


# -- technologies


def mentions(text: str, name: str) -> bool:
    return bool(re.search(rf"(?<![\w.+#-]){re.escape(name)}(?![\w+#-])", text, re.IGNORECASE))


def technology_answer(request: QuestionRequest, name: str) -> list[Sentence]:
    # "AWS" and "Amazon Web Services" are one technology: match every spelling we know
    names = {name, *technologies_in_text(name)}

    def named(text: str) -> bool:
        return any(mentions(text, n) for n in names)

    seen = [
        t
        for t in F.of_kind(request.findings, K.TECHNOLOGY)
        if named(t.title) or named(F.text_field(t, "name") or "")
    ]
    on_site = [t for t in seen if F.seen_on_site(t)]
    if on_site:
        return [
            S(
                f"Yes: {name} is among the technologies seen at {request.account_name}.",
                *on_site[:2],
            )
        ]
    if seen:  # only their job posts name it: likely, with the sentence that says so
        said = F.job_sentence(seen[0])
        quote = f": “{said}”" if said else ""
        return [S(f"Likely: their job posts name {name}{quote}.", *seen[:2])]
    posts = [
        j
        for j in F.of_kind(request.findings, K.JOB_POSTING)
        if named(F.finding_text(j)) or named(F.text_field(j, "description") or "")
    ]
    if posts:
        titles = join_words([f"“{j.title}”" for j in posts[:2]])
        more = f" and {len(posts) - 2} more" if len(posts) > 2 else ""
        return [S(f"Likely: their job posts {titles}{more} name {name}.", *posts[:2])]
    if DataType.TECH.value in request.pending:
        return [Sentence(f"Not seen yet: nothing collected so far names {name}.")]
    note = request.coverage.get(DataType.TECH.value)
    why = f" ({note.reason.rstrip('.')})" if note and note.state is not CoverageState.FOUND else ""
    return [
        Sentence(f"Unknown: nothing we hold names {name}{why}."),
        Sentence(f"Ask in discovery whether they use {name}."),
    ]


# -- attributes of the profile


def attribute_answer(request: QuestionRequest, attribute: str) -> list[Sentence]:
    profiles = F.of_kind(request.findings, K.COMPANY_PROFILE)
    for profile in profiles:
        said = _attribute_words(profile, attribute)
        if said:
            return [S(said, profile)]
    what = _ATTRIBUTE_WORDS.get(attribute, attribute)
    if attribute == "revenue":
        annual = [
            f for f in F.of_kind(request.findings, K.FILING) if F.text_field(f, "form") == "10-K"
        ]
        if annual:
            latest = F.newest_first(annual)[0]
            return [
                Sentence("Revenue is not among the findings."),
                S(f"Their annual report holds it: 10-K filed {F.when(latest)}.", latest),
            ]
    if DataType.PROFILE.value in request.pending:
        return [Sentence(f"Not known yet: nothing collected so far says {what}.")]
    return [Sentence(f"Nothing we hold says {what}; ask in discovery.")]


def _attribute_words(profile: Finding, attribute: str) -> str | None:
    fields = profile.fields
    if attribute == "headquarters":
        places = F.list_field(profile, "headquarters_all") or _one(fields.get("headquarters"))
        if not places:
            return None
        countries = F.list_field(profile, "countries") or _one(fields.get("country"))
        where = join_words(places) + (f" ({', '.join(countries)})" if countries else "")
        return f"Headquarters: {where}."
    if attribute == "founded":
        year = fields.get("founded_year") or fields.get("founded")
        return f"Founded in {year}." if year else None
    if attribute == "employees":
        count = fields.get("employees")
        if not isinstance(count, int | float):
            return None
        as_of = fields.get("employees_as_of")
        return f"About {int(count):,} employees" + (f" (as of {as_of})." if as_of else ".")
    if attribute == "ticker":
        tickers = F.list_field(profile, "tickers") or _one(fields.get("ticker"))
        if not tickers:
            return None
        exchanges = F.list_field(profile, "exchanges")
        return f"Ticker: {', '.join(tickers)}" + (
            f" ({', '.join(exchanges)})." if exchanges else "."
        )
    if attribute == "website":
        site = F.text_field(profile, "website")
        return f"Website: {site}." if site else None
    if attribute == "industry":
        industry = F.text_field(profile, "industry") or F.text_field(profile, "short_description")
        return f"Industry: {industry}." if industry else None
    return None


def _one(value: object) -> list[str]:
    return [value] if isinstance(value, str) and value.strip() else []


# -- nothing to answer with


def unanswerable(request: QuestionRequest, topics: Sequence[str]) -> list[Sentence]:
    """A question no intent or slot covers: say so in one sentence, and where to go."""
    return [
        Sentence(
            f"Nothing we hold about {request.account_name} answers that; ask it in discovery."
        ),
        Sentence(f"I can answer about their {join_words(list(topics))}."),
    ]
