"""What to take into the call: the entry point, an opening hook and discovery questions.

Every sentence either states a cited fact or is marked as a suggestion drawn from the
cited facts it names ("Suggested: …"); unknowns become questions to ask, never claims.
Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from dossier.core.coverage import CoverageNote, CoverageState
from dossier.core.types import DataType, Finding, FindingKind
from dossier.core.words import join_words, plural
from dossier.providers import facts as F
from dossier.providers.sentences import S, Sentence

K = FindingKind
HOOK_DAYS = 365  # an opening hook older than a year is history, not news


def area_of(vendor_description: str | None) -> str | None:
    """What we sell, in a few words ("fraud and risk analytics for payment teams" ->
    "fraud and risk analytics"): the topic of the questions."""
    if not vendor_description:
        return None
    text = vendor_description.strip().rstrip(".")
    for cut in (" for ", " to ", " that ", " which ", ", "):
        if cut in text:
            text = text.split(cut, 1)[0]
    return text or None


class _Fit:
    """Whether a role or a team is one we sell to: it shares a word with what we sell, or
    holds every word of a role we sell to ("fraud operations" is not any "operations")."""

    def __init__(self, vendor_description: str | None, sells_to: Sequence[str]) -> None:
        self.described = F.keywords(vendor_description)
        self.roles = [words for r in sells_to if (words := F.keywords(r))]

    def __call__(self, text: str) -> bool:
        held = F.keywords(text)
        return bool(self.described & held) or any(role <= held for role in self.roles)


def matching_people(
    findings: Sequence[Finding], vendor_description: str | None, sells_to: Sequence[str] = ()
) -> list[Finding]:
    """People in a role we sell to (see :class:`_Fit`), most senior first."""
    fits = _Fit(vendor_description, sells_to)
    ranked = sorted(F.of_kind(findings, K.PERSON), key=lambda p: (F.seniority(p), F.person_name(p)))
    return [
        p for p in ranked if fits(" ".join([*F.person_roles(p), F.text_field(p, "title") or ""]))
    ]


def entry_point(
    findings: Sequence[Finding], vendor_description: str | None, sells_to: Sequence[str] = ()
) -> list[Sentence]:
    """Who to approach: a named person in a matching role; otherwise the role to look for
    and what in the data points to it, never the CEO of a large company by default."""
    matching = matching_people(findings, vendor_description, sells_to)
    if matching:
        names = join_words([_named(p) for p in matching[:2]])
        return [S(f"Entry point: {names}, closest to what we sell.", *matching[:2])]
    area = join_words(list(sells_to), "or") if sells_to else area_of(vendor_description)
    if not area:
        return []
    jobs = F.of_kind(findings, K.JOB_POSTING)
    fits = _Fit(vendor_description, sells_to)
    teams = [g for g in F.by_department(jobs, top=5) if fits(g.label)]
    if teams:
        team = teams[0]
        return [
            S(
                f"Entry point: nobody in {area} is named yet; their hiring for {team.label} "
                f"(“{team.findings[0].title}”) points to that team's leader.",
                *team.findings[:2],
            )
        ]
    return [Sentence(f"Entry point: nobody in {area} is named yet; ask who owns it (suggested).")]


def quick_take(
    account: str, findings: Sequence[Finding], *, now: datetime | None = None
) -> list[Sentence]:
    """At most two lines a seller reads first: who they are, and what is moving now."""
    out: list[Sentence] = []
    profiles = F.of_kind(findings, K.COMPANY_PROFILE)
    if profiles:
        p = profiles[0]
        what = F.text_field(p, "short_description") or F.text_field(p, "industry")
        parts = [what] if what else []
        if hq := F.text_field(p, "headquarters"):
            parts.append(f"based in {hq}")
        if isinstance(employees := p.fields.get("employees"), int):
            parts.append(f"about {employees:,} employees")
        if parts:
            out.append(S(f"Quick take: {account}, {', '.join(parts)}.", p))
    moving: list[Sentence] = []
    jobs = F.of_kind(findings, K.JOB_POSTING)
    if jobs:
        teams = join_words([g.label for g in F.by_department(jobs, top=2)])
        moving.append(S(f"hiring ({plural(len(jobs), 'open role')}, {teams})", *jobs[:2]))
    rounds = F.recent(F.of_kind(findings, K.FUNDING_ROUND), days=HOOK_DAYS, now=now)
    if rounds:
        latest = F.newest_first(rounds)[0]
        moving.append(S(F.round_words(latest), latest))
    changes = F.recent(F.executive_changes(findings), days=HOOK_DAYS, now=now)
    if changes:
        moving.append(S(f"a leadership change ({F.person_name(changes[0])})", changes[0]))
    if moving:
        cites = tuple(c for m in moving for c in m.cites)
        out.append(Sentence(f"Now: {'; '.join(m.text for m in moving)}.", cites))
    return out


def opening_hook(
    account: str, findings: Sequence[Finding], *, now: datetime | None = None
) -> list[Sentence]:
    """The freshest dated signal, as a way to open: a new leader, money raised, a hire
    in a growing team, a recent move in the news."""
    now = now or datetime.now(UTC)
    for change in F.newest_first(F.executive_changes(findings)):
        if F.recent([change], days=HOOK_DAYS, now=now):
            return [
                S(
                    f"Opening hook (suggested): {F.person_name(change)} "
                    f"{F.text_field(change, 'change')} ({F.when(change)}); ask what they want "
                    "to change first.",
                    change,
                )
            ]
    rounds = F.recent(F.of_kind(findings, K.FUNDING_ROUND), days=HOOK_DAYS, now=now)
    if rounds:
        latest = F.newest_first(rounds)[0]
        return [
            S(
                f"Opening hook (suggested): their {F.round_words(latest)}; ask where the money "
                "goes first.",
                latest,
            )
        ]
    jobs = F.newest_first(F.of_kind(findings, K.JOB_POSTING))
    if jobs:
        team = F.department(jobs[0])
        return [
            S(
                f"Opening hook (suggested): they are hiring for {team} (“{jobs[0].title}”, "
                f"{F.when(jobs[0])}); ask what is driving it.",
                jobs[0],
            )
        ]
    news = F.recent(F.of_kind(findings, K.NEWS_ARTICLE), days=HOOK_DAYS, now=now)
    if news:
        latest = F.newest_first(news)[0]
        return [
            S(
                f"Opening hook (suggested): “{latest.title}” ({F.when(latest)}); ask how it "
                f"changes {account}'s priorities.",
                latest,
            )
        ]
    return []


def discovery_questions(
    account: str,
    findings: Sequence[Finding],
    coverage: Mapping[str, CoverageNote],
    vendor_description: str | None,
    sells_to: Sequence[str] = (),
    *,
    limit: int = 5,
) -> list[Sentence]:
    """3-5 questions for discovery: what the facts raise, and what they leave unknown."""
    area = area_of(vendor_description) or "this"
    questions: list[Sentence] = []
    jobs = F.of_kind(findings, K.JOB_POSTING)
    for group in F.by_department(jobs, top=2):
        questions.append(S(f"What is driving the hiring in {group.label}?", *group.findings[:1]))
    if not matching_people(findings, vendor_description, sells_to):
        questions.append(Sentence(f"Who owns {area} today, and who else signs off?"))
    tech = F.of_kind(findings, K.TECHNOLOGY)
    questions.append(
        S(
            f"What do you use for {area} today, beside {join_words([t.title for t in tech[:2]])}?",
            *tech[:2],
        )
        if tech
        else Sentence(f"What do you use for {area} today, and what does it miss?")
    )
    rounds = F.recent(F.of_kind(findings, K.FUNDING_ROUND), days=HOOK_DAYS)
    if _unknown(coverage, DataType.FUNDING) or not rounds:
        questions.append(Sentence(f"Is there budget for {area} this year, and who holds it?"))
    else:
        latest = F.newest_first(rounds)[0]
        questions.append(
            S(f"How does the {F.when(latest)} round change this year's plans?", latest)
        )
    questions.append(Sentence(f"What would make {area} a priority for {account} this quarter?"))
    picked = questions[:limit]
    return [
        Sentence(f"Discovery question {i} (suggested): {q.text}", q.cites)
        for i, q in enumerate(picked, 1)
    ]


def qualification(
    account: str,
    findings: Sequence[Finding],
    vendor_description: str | None,
    sells_to: Sequence[str] = (),
    *,
    now: datetime | None = None,
) -> list[Sentence]:
    """Budget, authority, need and timing: what the facts say (cited), and what they
    leave unknown, as something to ask in discovery (suggested), one line each."""
    area = area_of(vendor_description) or "what we sell"
    fits = _Fit(vendor_description, sells_to)
    out: list[Sentence] = []
    rounds = F.newest_first(F.recent(F.of_kind(findings, K.FUNDING_ROUND), days=HOOK_DAYS, now=now))
    annual = [f for f in F.newest_first(F.of_kind(findings, K.FILING)) if _annual(f)]
    if rounds:
        out.append(S(f"Budget: known — {F.round_words(rounds[0])}.", rounds[0]))
    elif annual:
        out.append(
            S(
                f"Budget: known — they file annual reports ({F.text_field(annual[0], 'form')}, "
                f"{F.when(annual[0])}); budgets follow their fiscal year.",
                annual[0],
            )
        )
    else:
        out.append(
            Sentence(f"Budget: unknown — ask whether {area} has budget this year (suggested).")
        )
    people = matching_people(findings, vendor_description, sells_to)
    if people:
        names = join_words([_named(p) for p in people[:2]])
        out.append(S(f"Authority: known — {names}, in a role we sell to.", *people[:2]))
    else:
        out.append(
            Sentence(f"Authority: unknown — ask who owns {area} and who signs off (suggested).")
        )
    teams = [g for g in F.by_department(F.of_kind(findings, K.JOB_POSTING), top=5) if fits(g.label)]
    if teams and (vendor_description or sells_to):
        team = teams[0]
        roles = plural(len(team.findings), "open role")
        out.append(
            S(f"Need: known — they are hiring in {team.label} ({roles}).", *team.findings[:2])
        )
    else:
        out.append(Sentence(f"Need: unknown — ask what {area} costs them today (suggested)."))
    changes = F.recent(F.executive_changes(findings), days=HOOK_DAYS, now=now)
    if changes:
        change = F.newest_first(changes)[0]
        out.append(
            S(
                f"Timing: known — {F.person_name(change)} {F.text_field(change, 'change')} "
                f"({F.when(change)}); a new leader reopens decisions.",
                change,
            )
        )
    elif rounds:
        out.append(
            S(
                f"Timing: known — money raised on {F.when(rounds[0])} is usually spent "
                "within the year.",
                rounds[0],
            )
        )
    else:
        out.append(
            Sentence(
                f"Timing: unknown — ask what would make {area} a priority for {account} "
                "this quarter (suggested)."
            )
        )
    return out


def _annual(filing: Finding) -> bool:
    return (F.text_field(filing, "form") or "").upper() in ("10-K", "20-F", "40-F")


def _unknown(coverage: Mapping[str, CoverageNote], data_type: DataType) -> bool:
    note = coverage.get(data_type.value)
    return note is not None and note.state not in (None, CoverageState.FOUND)


def _named(person: Finding) -> str:
    roles = F.person_roles(person)
    return f"{F.person_name(person)} ({roles[0]})" if roles else F.person_name(person)
