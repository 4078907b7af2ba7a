"""A session's dossier as Markdown (the JSON export is the snapshot itself).

Pure: snapshot dict in, text out. Every finding is listed with its source, date and link,
and the analyses keep their citation numbers, so the document stands on its own in a CRM
note or an email.
"""

from __future__ import annotations

from typing import Any

from dossier.core.coverage import DATA_TYPE_WORDS, STATE_WORDS, state_of
from dossier.core.records import WorkflowKind

_ANALYSES = (
    (WorkflowKind.CUSTOMER_INTELLIGENCE, "Analysis"),
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


def _md(text: object) -> str:
    """Source text, made inert for Markdown (no links, emphasis or HTML injected)."""
    value = " ".join(str(text or "").split())
    for ch in ("\\", "`", "*", "_", "[", "]", "<", ">", "#", "|"):
        value = value.replace(ch, "\\" + ch)
    return value


def _safe_url(url: object) -> bool:
    text = str(url or "")
    return text.startswith(("http://", "https://")) and not any(c in text for c in " <>\n\r\t")


def _date(value: object) -> str:
    return str(value)[:10] if value else ""


def to_markdown(snapshot: dict[str, Any]) -> str:
    account = snapshot.get("account") or {}
    vendor = snapshot.get("vendor") or {}
    findings: list[dict[str, Any]] = list(snapshot.get("findings") or [])
    number = {f["id"]: i + 1 for i, f in enumerate(findings)}
    lines = [f"# Dossier: {_md(account.get('name') or 'unknown account')}", ""]
    meta = [f"Session `{snapshot.get('session_id')}`", f"status: {snapshot.get('status')}"]
    if snapshot.get("created_at"):
        meta.append(f"researched {_date(snapshot['created_at'])}")
    if vendor.get("name"):
        meta.append(f"for {_md(vendor['name'])}")
    lines += [" · ".join(meta), ""]
    if snapshot.get("hint"):
        lines += [f"> {_md(snapshot['hint'])}", ""]
    analyses = snapshot.get("analysis") or {}
    for workflow, title in _ANALYSES:
        analysis = analyses.get(workflow)
        if not analysis or not analysis.get("text"):
            continue
        refs = [
            number[c["finding"]]
            for c in analysis.get("citations") or []
            if c.get("finding") in number
        ]
        lines += [f"## {title}", "", _md(analysis["text"])]
        if refs:
            lines += ["", "Sources: " + ", ".join(f"[{n}]" for n in sorted(set(refs)))]
        lines.append("")
    coverage = snapshot.get("coverage") or {}
    if coverage:
        lines += ["## Coverage", ""]
        for data_type, entry in sorted(coverage.items()):
            state = state_of(entry)
            if state is None:
                continue
            reason = f": {_md(entry['reason'])}" if entry.get("reason") else ""
            name = DATA_TYPE_WORDS.get(data_type, data_type)
            lines.append(f"- {_md(name)}: {STATE_WORDS[state]}{reason}")
        lines.append("")
    for kind, title in KIND_TITLES:
        group = [f for f in findings if f.get("kind") == kind]
        if not group:
            continue
        lines += [f"## {title}", ""]
        for f in group:
            date = _date(f.get("published_at"))
            link = f" <{f['url']}>" if _safe_url(f.get("url")) else ""
            where = ", ".join(x for x in (_md(f.get("source")), date) if x)
            sample = "\\[sample data\\] " if (f.get("fields") or {}).get("sample") is True else ""
            lines.append(f"{number[f['id']]}. {sample}{_md(f.get('title'))} ({where}){link}")
        lines.append("")
    chat = [t for t in snapshot.get("chat") or [] if t.get("answer")]
    if chat:
        lines += ["## Chat", ""]
        for turn in chat:
            answer = (turn.get("revisions") or [turn["answer"]])[-1]
            lines += [
                f"**Q:** {_md(turn.get('question'))}",
                "",
                f"**A:** {_md(answer.get('text'))}",
                "",
            ]
    return "\n".join(lines).rstrip() + "\n"
