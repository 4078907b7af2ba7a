"""What the builtin analyst says about an account: the analysis, and the sentences per
topic its answers are made of (``providers/answers.py``), as cited sentences (pure).

Rules: a sentence that states a fact about an account carries the findings behind it;
sentences without findings only say what is missing, pending or what we (the vendor) sell
(which comes from settings, not from sources). Nothing here invents a number, a name or
a date.
"""

from __future__ import annotations

from collections.abc import Sequence

from dossier.core.ports import AnalysisRequest
from dossier.core.records import WorkflowKind
from dossier.core.types import Finding, FindingKind
from dossier.core.words import join_words, plural
from dossier.providers import facts as F
from dossier.providers.call_prep import (
    discovery_questions,
    entry_point,
    opening_hook,
    qualification,
    quick_take,
)
from dossier.providers.changes import news
from dossier.providers.sentences import DATA_TYPE_TEXT, S, Sentence, gaps, marked

__all__ = ["DATA_TYPE_TEXT", "S", "Sentence", "analysis", "gaps", "marked"]

K = FindingKind

# -- pieces, one per topic


def profile(account: str, findings: Sequence[Finding]) -> list[Sentence]:
    found = F.of_kind(findings, K.COMPANY_PROFILE)
    if not found:
        return []
    p = found[0]
    out: list[Sentence] = []
    description = F.text_field(p, "description")
    if description:
        out.append(S(description if description.endswith(".") else description + ".", p))
    facts = []
    if industry := F.text_field(p, "industry"):
        facts.append(f"industry: {industry}")
    if hq := F.text_field(p, "headquarters"):
        facts.append(f"headquarters: {hq}")
    if founded := F.text_field(p, "founded"):
        facts.append(f"founded {founded[:4]}")
    if employees := F.text_field(p, "employees"):
        as_of = F.text_field(p, "employees_as_of")
        facts.append(f"{int(float(employees)):,} employees" + (f" ({as_of[:4]})" if as_of else ""))
    if facts:
        out.append(S(f"{account} — " + "; ".join(facts) + ".", p))
    return out


def hiring(account: str, findings: Sequence[Finding], *, detail: bool = False) -> list[Sentence]:
    jobs = F.of_kind(findings, K.JOB_POSTING)
    if not jobs:
        return []
    groups = F.by_department(jobs)
    roles = plural(len(jobs), "open role")
    top = groups[0]
    # "mostly" only when one team holds most of them: 1 and 1 is not "mostly" anything
    mostly = len(groups) > 1 and len(top.findings) * 2 > len(jobs)
    rest = groups[1:] if mostly else groups
    listed = [f"{g.label} ({len(g.findings)})" for g in rest]
    others = len(jobs) - sum(len(g.findings) for g in groups)
    if others:
        listed.append(f"{others} in other teams")
    if mostly:
        said = f"{account} lists {roles}, mostly in {top.label} ({len(top.findings)})"
        said += f"; also {join_words(listed)}." if listed else "."
    else:
        said = f"{account} lists {roles}: {join_words(listed)}."
    out = [S(said, *[g.findings[0] for g in groups])]
    places = F.locations(jobs)
    if places:
        out.append(S(f"Hiring in {', '.join(places)}.", *jobs[:3]))
    newest = F.newest_first(jobs)[0]
    out.append(S(f"Newest posting: “{newest.title}” ({F.when(newest)}).", newest))
    if detail:
        paid = [(j, r) for j in jobs if (r := F.pay_range(j))]
        for job, pay in paid[:3]:
            out.append(S(f"“{job.title}” pays {pay}.", job))
        remote = [j for j in jobs if j.fields.get("remote") is True]
        if remote:
            out.append(S(f"{len(remote)} of {len(jobs)} roles are remote-friendly.", *remote[:3]))
    return out


def funding(account: str, findings: Sequence[Finding]) -> list[Sentence]:
    out: list[Sentence] = []
    for r in F.newest_first(F.of_kind(findings, K.FUNDING_ROUND))[:2]:
        out.append(S(F.round_words(r) + ".", r))
    filings = F.newest_first(F.of_kind(findings, K.FILING))
    if filings:
        listed = "; ".join(
            f"{F.text_field(f, 'form') or f.title} ({F.when(f)}"
            + (f", items {', '.join(items)}" if (items := F.list_field(f, "items")) else "")
            + ")"
            for f in filings[:3]
        )
        out.append(S(f"Latest SEC filings: {listed}.", *filings[:3]))
    return out


def people(findings: Sequence[Finding], *, limit: int = 4) -> list[Sentence]:
    found = sorted(F.of_kind(findings, K.PERSON), key=lambda p: (F.seniority(p), F.person_name(p)))
    if not found:
        return []
    named = [
        f"{F.person_name(p)} ({', '.join(roles)})"
        if (roles := F.person_roles(p))
        else F.person_name(p)
        for p in found[:limit]
    ]
    out = [S(f"Leadership: {', '.join(named)}.", *found[:limit])]
    for change in F.executive_changes(findings)[:2]:
        since = F.text_field(change, "since")
        out.append(
            S(
                f"Executive change: {F.person_name(change)} {F.text_field(change, 'change')}"
                + (f" ({since})" if since else "")
                + ".",
                change,
            )
        )
    return out


def tech(findings: Sequence[Finding], *, limit: int = 10) -> list[Sentence]:
    found = F.of_kind(findings, K.TECHNOLOGY)
    if not found:
        return []
    site = [t for t in found if F.seen_on_site(t)]
    jobs = [t for t in found if t not in site]
    out: list[Sentence] = []
    if site:
        names = ", ".join(
            f"{t.title} ({cat})" if (cat := F.text_field(t, "category")) else t.title
            for t in site[:limit]
        )
        out.append(S(f"Seen on their website: {names}.", *site[:limit]))
    if jobs:
        out.append(
            S(
                f"Named in their job posts: {', '.join(t.title for t in jobs[:limit])}.",
                *jobs[:limit],
            )
        )
    return out


def signals(account: str, findings: Sequence[Finding]) -> list[Sentence]:
    """Buying signals: hiring momentum, fresh money, new leaders, recent moves."""
    out: list[Sentence] = []
    jobs = F.of_kind(findings, K.JOB_POSTING)
    if jobs:
        groups = F.by_department(jobs, top=3)
        roles = plural(len(jobs), "open role")
        if len(groups) > 1 and len(groups[0].findings) > len(groups[1].findings):
            said = f"Hiring signal: {roles}, led by {groups[0].label}"
        else:  # one team, or a tie: nobody "leads"
            teams = join_words([g.label for g in groups[:2]])
            said = f"Hiring signal: {roles}, in {teams}" + (" among others" * (len(groups) > 2))
        out.append(
            S(f"{said}; a team that hires is a team that buys tools.", *groups[0].findings[:3])
        )
    for r in F.recent(F.of_kind(findings, K.FUNDING_ROUND), days=548)[:1]:
        out.append(
            S(
                f"Budget signal: {F.round_words(r)}; fresh money is usually spent within the year.",
                r,
            )
        )
    for change in F.executive_changes(findings)[:1]:
        out.append(
            S(
                f"Leadership signal: {F.person_name(change)} {F.text_field(change, 'change')}; "
                "a new leader reviews tools and vendors in the first months.",
                change,
            )
        )
    moves = [
        n
        for n in F.recent(F.of_kind(findings, K.NEWS_ARTICLE), days=365)
        if any(
            w in n.title.lower()
            for w in ("acqui", "launch", "raise", "funding", "expan", "partner")
        )
    ]
    if moves:
        out.append(
            S(
                f"Recent move: “{moves[0].title}” ({F.when(moves[0])}); a move like this "
                "resets priorities and opens the door to new tools.",
                moves[0],
            )
        )
    return out


def priorities(findings: Sequence[Finding]) -> list[Sentence]:
    jobs = F.of_kind(findings, K.JOB_POSTING)
    if len(jobs) < 2:
        return []
    groups = F.by_department(jobs, top=3)
    labels = ", ".join(g.label for g in groups)
    return [S(f"Where they invest, judging by hiring: {labels}.", *[g.findings[0] for g in groups])]


def talking_points(
    account: str,
    findings: Sequence[Finding],
    vendor_name: str | None,
    vendor_description: str | None,
    *,
    limit: int = 3,
) -> list[Sentence]:
    """Points where what we sell meets what they do: shared words, with the evidence."""
    words = F.keyword_forms(vendor_description)
    if not words:
        return []
    us = _possessive(vendor_name) if vendor_name else "our"
    candidates = [
        (F.overlap(set(words), f), f)
        for f in findings
        if f.kind in (K.JOB_POSTING, K.NEWS_ARTICLE, K.TECHNOLOGY)
    ]
    scored = sorted(
        ((shared, f) for shared, f in candidates if shared),
        key=lambda pair: (
            -len(pair[0]),
            -(pair[1].published_at or pair[1].observed_at).timestamp(),
        ),
    )
    out: list[Sentence] = []
    seen_departments: set[str] = set()
    for shared_stems, f in scored:
        if len(out) >= limit:
            break
        shared = " and ".join(sorted(words[w] for w in shared_stems)[:2])
        if f.kind is K.JOB_POSTING:
            team = F.department(f)
            if team in seen_departments:
                continue
            seen_departments.add(team)
            out.append(
                S(
                    f"Talking point: they are hiring for {team} (“{f.title}”), where {us} "
                    f"{shared} work fits.",
                    f,
                )
            )
        elif f.kind is K.NEWS_ARTICLE:
            out.append(
                S(f"Talking point: “{f.title}” ({F.when(f)}) opens a conversation on {shared}.", f)
            )
        else:
            out.append(S(f"Talking point: they run {f.title}, which fits {us} {shared} work.", f))
    return out


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def _labelled(label: str, sentences: list[Sentence]) -> list[Sentence]:
    """A part of the brief opens with its label ("News: …"): a paragraph of its own on the
    page, in the terminal and in the export."""
    if not sentences:
        return sentences
    first = sentences[0]
    return [Sentence(f"{label}: {first.text}", first.cites), *sentences[1:]]


def analysis(request: AnalysisRequest) -> list[Sentence]:
    return marked(_analysis(request))


def _analysis(request: AnalysisRequest) -> list[Sentence]:
    account, found = request.account_name, request.findings
    if request.workflow == WorkflowKind.VENDOR_CONTEXT:
        out: list[Sentence] = []
        if request.vendor_description:
            out.append(Sentence(f"What we sell: {request.vendor_description.strip().rstrip('.')}."))
        elif not request.vendor_name:
            out.append(
                Sentence(
                    "No vendor configured: set DOSSIER_VENDOR_NAME and "
                    "DOSSIER_VENDOR_DESCRIPTION (or send `vendor` with the request)."
                )
            )
        out += profile(account, found) + tech(found) + news(account, found, limit=2)
        return out + gaps(request.coverage)
    out = quick_take(account, found)
    out += _labelled("Profile", profile(account, found))
    out += signals(account, found)
    out += priorities(found)
    out += _labelled("Hiring", hiring(account, found))
    # filings are reports, not money raised: the part is named for what it holds
    money = "Funding" if F.of_kind(found, K.FUNDING_ROUND) else "Filings"
    out += _labelled(money, funding(account, found))
    out += people(found)
    # call prep rests on what was collected: with nothing in, it would only advise blind
    prep = bool(found)
    out += entry_point(found, request.vendor_description, request.vendor_sells_to) if prep else []
    if prep:
        out += qualification(account, found, request.vendor_description, request.vendor_sells_to)
    out += tech(found)
    out += _labelled("News", news(account, found, limit=2))
    out += talking_points(account, found, request.vendor_name, request.vendor_description)
    out += opening_hook(account, found)
    if prep and request.vendor_description:  # questions about what we sell need to know what it is
        out += discovery_questions(
            account, found, request.coverage, request.vendor_description, request.vendor_sells_to
        )
    if not out:
        out.append(Sentence(f"Nothing was collected about {account}."))
    return out + gaps(request.coverage)
