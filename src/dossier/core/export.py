"""A session's dossier as Markdown (the JSON export is the snapshot itself).

Pure: snapshot dict in, text out. The briefing keeps its paragraphs (a sentence that opens
with a label — "Talking point:", "Entry point:" — starts one, as on the page) and its
inline ``[n]`` markers; ``n`` numbers the sources in the order the briefing first cites
them, as the page's chips do, in one consecutive list. Findings are grouped by kind with
their own details (profile fields, a job's team and place) and carry ``[n]`` when cited.
"""

from __future__ import annotations

import re
from typing import Any

from dossier.core.coverage import DATA_TYPE_WORDS, STATE_WORDS, state_of
from dossier.core.records import WorkflowKind
from dossier.core.types import slugify

_ANALYSES = (
    (WorkflowKind.CUSTOMER_INTELLIGENCE, "Briefing"),
    (WorkflowKind.VENDOR_CONTEXT, "Our side"),
)
KIND_TITLES = (
    ("company_profile", "Profile"),
    ("funding_round", "Funding"),
    ("filing", "SEC filings"),
    ("person", "People"),
    ("job_posting", "Job postings"),
    ("technology", "Technology"),
    ("news_article", "News"),
)
_PROFILE_FIELDS = (
    ("headquarters", "Headquarters"),
    ("country", "Country"),
    ("founded_year", "Founded"),
    ("employees", "Employees"),
    ("industry", "Industry"),
    ("ticker", "Ticker"),
    ("website", "Website"),
    ("short_description", "In short"),
)
# where the page starts a paragraph: a sentence opening with a short label and a colon
# ("Entry point:", "Discovery question 2 (suggested):"), as web/findings.js paragraphsOf
_PARAGRAPH = re.compile(r"(?<=[.!?”\"])\s+(?=[A-Z][A-Za-z0-9 ,'’()-]{2,40}:\s)")


def _md(text: object) -> str:
    """Source text, made inert for Markdown (no links, emphasis or HTML injected)."""
    value = " ".join(str(text or "").split())
    for ch in ("\\", "`", "*", "_", "[", "]", "<", ">", "#", "|", "@"):
        value = value.replace(ch, "\\" + ch)
    # no autolinks either: viewers link bare "https://…" and "www.…" in text (GFM)
    value = value.replace("://", "\\://")
    return _WWW.sub(lambda m: m.group(0)[:-1] + "\\.", value)


_WWW = re.compile(r"(?i)\bwww\.")


def _inert(piece: str) -> str:
    """:func:`_md` for a piece of a longer text: the spaces at its ends are kept."""
    lead = " " if piece[:1].isspace() else ""
    trail = " " if piece[-1:].isspace() else ""
    body = _md(piece)
    return f"{lead}{body}{trail}" if body else lead


def _safe_url(url: object) -> bool:
    text = str(url or "")
    return text.startswith(("http://", "https://")) and not any(c in text for c in " <>\n\r\t")


def _date(value: object) -> str:
    return str(value)[:10] if value else ""


def file_name(snapshot: dict[str, Any], extension: str) -> str:
    """``dossier-stripe-2026-12-06.md``: the company and the day it was researched."""
    account = snapshot.get("account") or {}
    slug = slugify(str(account.get("name") or "")) or "account"
    slug = re.sub(r"[^a-z0-9-]+", "-", slug).strip("-")[:60] or "account"
    day = _date(snapshot.get("created_at")) or "undated"
    return f"dossier-{slug}-{day}.{extension}"


def source_numbers(snapshot: dict[str, Any], findings: dict[str, Any]) -> dict[str, int]:
    """Finding id -> n, in the order the briefings first cite them (the page's order)."""
    numbers: dict[str, int] = {}
    analyses = snapshot.get("analysis") or {}
    for workflow, _title in _ANALYSES:
        for cite in (analyses.get(workflow) or {}).get("citations") or []:
            finding = cite.get("finding") if isinstance(cite, dict) else None
            if finding in findings and finding not in numbers:
                numbers[finding] = len(numbers) + 1
    return numbers


def with_markers(text: str, citations: list[Any], numbers: dict[str, int]) -> str:
    """The analysis as Markdown with ``[n]`` after each sentence a source supports (before
    its full stop), and a paragraph per labelled sentence."""
    marks: dict[int, list[int]] = {}
    for cite in citations:
        if not isinstance(cite, dict) or not isinstance(cite.get("at"), int):
            continue
        n = numbers.get(str(cite.get("finding")))
        if n is not None:
            marks.setdefault(min(max(cite["at"], 0), len(text)), []).append(n)
    out, start = [], 0
    for at in sorted(marks):
        head = text[start:at]
        stop = "." if head.endswith(".") else ""
        out.append(_inert(head.removesuffix(stop) if stop else head))
        out.append(" " + "".join(f"[{n}]" for n in sorted(set(marks[at]))) + stop)
        start = at
    out.append(_inert(text[start:]))
    joined = "".join(out)
    return "\n\n".join(p.strip() for p in _PARAGRAPH.split(joined) if p.strip())


def to_markdown(snapshot: dict[str, Any]) -> str:
    account = snapshot.get("account") or {}
    vendor = snapshot.get("vendor") or {}
    findings: list[dict[str, Any]] = list(snapshot.get("findings") or [])
    by_id = {f["id"]: f for f in findings}
    numbers = source_numbers(snapshot, by_id)
    lines = [f"# Dossier: {_md(account.get('name') or 'unknown account')}", ""]
    meta = [f"Session `{snapshot.get('session_id')}`", f"status: {snapshot.get('status')}"]
    if snapshot.get("created_at"):
        meta.append(f"researched {_date(snapshot['created_at'])}")
    if vendor.get("name"):
        meta.append(f"for {_md(vendor['name'])}")
    lines += [" · ".join(meta), ""]
    if snapshot.get("hint"):
        lines += [f"> {_md(snapshot['hint'])}", ""]
    vendor_side = set(snapshot.get("vendor_findings") or [])
    profile = next(
        (f for f in findings if f.get("kind") == "company_profile" and f["id"] not in vendor_side),
        None,
    )
    lines += _profile_table(profile, numbers)
    analyses = snapshot.get("analysis") or {}
    for workflow, title in _ANALYSES:
        analysis = analyses.get(workflow)
        if not analysis or not analysis.get("text"):
            continue
        text = with_markers(analysis["text"], analysis.get("citations") or [], numbers)
        lines += [f"## {title}", "", text, ""]
    if numbers:
        lines += ["## Sources", ""]
        for finding_id, n in numbers.items():
            lines.append(f"{n}. {_finding_line(by_id[finding_id])}")
        lines.append("")
    lines += _coverage(snapshot.get("coverage") or {})
    for kind, title in KIND_TITLES[1:] if profile else KIND_TITLES:  # the table above
        group = [f for f in findings if f.get("kind") == kind]
        if not group:
            continue
        lines += [f"## {title}", ""]
        for f in group:
            cited = f"\\[{numbers[f['id']]}\\] " if f["id"] in numbers else ""
            lines.append(f"- {cited}{_finding_line(f)}")
            lines += [f"  - {detail}" for detail in _details(f)]
        lines.append("")
    lines += _chat(snapshot.get("chat") or [])
    return "\n".join(lines).rstrip() + "\n"


def _profile_table(profile: dict[str, Any] | None, numbers: dict[str, int]) -> list[str]:
    """The account's profile as a two-column table, citing the profile finding."""
    rows = [line.split(": ", 1) for line in (_details(profile) if profile else [])]
    if not profile or not rows:
        return []
    cited = f" \\[{numbers[profile['id']]}\\]" if profile["id"] in numbers else ""
    sample = " \\[sample data\\]" if (profile.get("fields") or {}).get("sample") is True else ""
    table = ["| Field | Value |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]
    return ["## Profile", "", f"From {_md(profile.get('title'))}{cited}{sample}.", "", *table, ""]


def _finding_line(f: dict[str, Any]) -> str:
    date = _date(f.get("published_at"))
    link = f" <{f['url']}>" if _safe_url(f.get("url")) else ""
    where = ", ".join(x for x in (_md(f.get("source")), date) if x)
    sample = "\\[sample data\\] " if (f.get("fields") or {}).get("sample") is True else ""
    return f"{sample}{_md(f.get('title'))} ({where}){link}"


def _details(f: dict[str, Any]) -> list[str]:
    fields = f.get("fields") or {}
    if f.get("kind") == "company_profile":
        return [
            f"{label}: {_md(_value(key, value, fields))}"
            for key, label in _PROFILE_FIELDS
            if (value := fields.get(key)) not in (None, "", [])
        ]
    if f.get("kind") == "job_posting":
        where = [fields.get("department"), fields.get("location")]
        said = " · ".join(_md(w) for w in where if w)
        return [said] if said else []
    if f.get("kind") == "person":
        roles = fields.get("roles")
        return [_md(", ".join(map(str, roles)))] if isinstance(roles, list) and roles else []
    return []


def _value(key: str, value: object, fields: dict[str, Any]) -> str:
    if key == "employees" and isinstance(value, int):
        as_of = fields.get("employees_as_of")
        return f"{value:,}" + (f" ({as_of})" if as_of else "")
    return str(value)


def _coverage(coverage: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for data_type, entry in sorted(coverage.items()):
        state = state_of(entry)
        if state is None:
            continue
        reason = f": {_md(entry['reason'])}" if entry.get("reason") else ""
        name = DATA_TYPE_WORDS.get(data_type, data_type)
        lines.append(f"- {_md(name)}: {STATE_WORDS[state]}{reason}")
    return ["## Coverage", "", *lines, ""] if lines else []


def _chat(turns: list[Any]) -> list[str]:
    answered = [t for t in turns if isinstance(t, dict) and t.get("answer")]
    if not answered:
        return []
    lines = ["## Chat", ""]
    for turn in answered:
        answer = (turn.get("revisions") or [turn["answer"]])[-1]
        lines += [
            f"**Q:** {_md(turn.get('question'))}",
            "",
            f"**A:** {_md(answer.get('text'))}",
            "",
        ]
    return lines
