"""What the MCP tools return, built from a snapshot or an answer's frames. Pure functions.

Each tool returns structured content (data) and a short text an assistant can quote. Text
that came from a public source (finding titles, answers composed from them) goes inside an
``<untrusted_source_text>`` block, neutralised as in the LLM prompts
(``providers/prompts.neutralize``): no line of it can close the block or pose as ours.

The ``since`` cursor of ``research_status`` is ``"<last_seq>.<findings seen>"``: the
snapshot lists findings in the order they first appeared (a fold in log order), so the
findings new since a cursor are the list past its count, whichever backend folded it.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from dossier.core.chat_context import pending_types
from dossier.core.coverage_words import DATA_TYPE_WORDS, STATE_WORDS
from dossier.core.snapshot import SnapshotBuilder, StepState, WorkflowState
from dossier.core.states import SessionStatus, StepStatus, WorkflowStatus
from dossier.core.types import Finding
from dossier.errors import InvalidInput
from dossier.providers.prompts import neutralize

MAX_NEW_FINDINGS = 40
_STEP_KEYS = frozenset({"name", "status", "started_at", "last_beat_at", "ended_at"})
UNTRUSTED_OPEN = '<untrusted_source_text about="{about}">'
UNTRUSTED_CLOSE = "</untrusted_source_text>"
BRIEF_URI = "dossier://sessions/{session_id}"
FINDINGS_URI = "dossier://sessions/{session_id}/findings"


def uris_of(session_id: str) -> dict[str, str]:
    """A session's resources: its brief (Markdown) and its findings (JSON)."""
    return {
        "brief": BRIEF_URI.format(session_id=session_id),
        "findings": FINDINGS_URI.format(session_id=session_id),
    }


# -- cursor
def cursor_of(snapshot: dict[str, Any]) -> str:
    return f"{int(snapshot.get('last_seq') or 0)}.{len(snapshot.get('findings') or [])}"


def parse_cursor(cursor: str | None) -> tuple[int, int]:
    """``(last_seq, findings seen)``; InvalidInput for anything research_status did not give."""
    if not cursor:
        return 0, 0
    seq, dot, seen = cursor.partition(".")
    if not (dot and seq.isdigit() and seen.isdigit()):
        raise InvalidInput("since: not a cursor returned by research_start or research_status")
    return int(seq), int(seen)


# -- the snapshot, read back
def builder_of(snapshot: dict[str, Any]) -> SnapshotBuilder:
    """The fold's state from its JSON (what ``pending_types`` reads), so both backends
    compute what is pending, and its ETA, with the chat's own function."""
    builder = SnapshotBuilder(str(snapshot.get("session_id")))
    builder.status = SessionStatus(snapshot.get("status") or "running")
    for kind, workflow in (snapshot.get("workflows") or {}).items():
        state = WorkflowState(kind=kind, status=WorkflowStatus(workflow.get("status")))
        for step in workflow.get("steps") or []:
            data = {k: v for k, v in step.items() if k not in _STEP_KEYS}
            state.steps[step["name"]] = StepState(
                name=step["name"], status=StepStatus(step["status"]), data=data
            )
        builder.workflows[kind] = state
    vendor_only = set(snapshot.get("vendor_findings") or [])
    for raw in snapshot.get("findings") or []:
        try:
            finding = Finding.model_validate(raw)
        except ValidationError:
            continue
        builder.findings[finding.id] = finding
        if finding.id in vendor_only:
            builder.vendor_finding_ids.add(finding.id)
        else:
            builder.customer_finding_ids.add(finding.id)
    return builder


def pending_of(snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    """Data types still being collected for the account, each with an ETA (s) if known."""
    pending = pending_types(builder_of(snapshot), ())
    return [{"data_type": t, "eta_s": eta} for t, eta in sorted(pending.items())]


def steps_of(snapshot: dict[str, Any]) -> tuple[int, int]:
    """(steps ended, steps known) over both workflows: a research's progress."""
    done = total = 0
    for workflow in (snapshot.get("workflows") or {}).values():
        for step in workflow.get("steps") or []:
            total += 1
            done += step.get("status") in {s.value for s in StepStatus if _ended(s)}
    return done, total


def _ended(status: StepStatus) -> bool:
    return status in (StepStatus.COMPLETED, StepStatus.FAILED, StepStatus.SKIPPED)


def finding_view(raw: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "kind", "title", "source", "url", "published_at")
    return {k: raw.get(k) for k in keys}


def coverage_of(snapshot: dict[str, Any]) -> dict[str, str]:
    coverage = snapshot.get("coverage") or {}
    return {t: str(e.get("state")) for t, e in sorted(coverage.items()) if isinstance(e, dict)}


def account_findings(snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    vendor_only = set(snapshot.get("vendor_findings") or [])
    return [f for f in snapshot.get("findings") or [] if f.get("id") not in vendor_only]


# -- tool results
def status_view(snapshot: dict[str, Any], since: str | None, changed: bool) -> dict[str, Any]:
    _, seen = parse_cursor(since)
    findings = snapshot.get("findings") or []
    vendor_only = set(snapshot.get("vendor_findings") or [])
    new = [f for f in findings[seen:] if f.get("id") not in vendor_only]
    done, total = steps_of(snapshot)
    view: dict[str, Any] = {
        "session_id": snapshot.get("session_id"),
        "status": snapshot.get("status"),
        "account": (snapshot.get("account") or {}).get("name"),
        "changed": changed,
        "cursor": cursor_of(snapshot),
        "coverage": coverage_of(snapshot),
        "pending": pending_of(snapshot),
        "steps_done": done,
        "steps_total": total,
        "findings_total": len(account_findings(snapshot)),
        "new_findings": [finding_view(f) for f in new[:MAX_NEW_FINDINGS]],
        "new_findings_omitted": max(0, len(new) - MAX_NEW_FINDINGS),
    }
    if snapshot.get("status") != SessionStatus.RUNNING.value:
        view["missing"] = snapshot.get("missing") or []
        view["hint"] = snapshot.get("hint")
    return view


def status_text(view: dict[str, Any]) -> str:
    lines = [
        f"Research of {plain(view['account'])} ({view['session_id']}): {view['status']}; "
        f"{view['steps_done']} of {view['steps_total']} steps done, "
        f"{view['findings_total']} findings.",
    ]
    if view["coverage"]:
        said = ", ".join(
            f"{DATA_TYPE_WORDS.get(t, t)} {STATE_WORDS.get(s, s)}"
            for t, s in view["coverage"].items()
        )
        lines.append(f"Coverage: {said}.")
    if view["pending"]:
        lines.append(pending_line([p["data_type"] for p in view["pending"]], view["pending"]))
    if view.get("hint"):
        lines.append(f"Hint: {plain(view['hint'])}")
    new = view["new_findings"]
    if new:
        lines.append(f"New since the cursor ({len(new) + view['new_findings_omitted']}):")
        lines.append(untrusted("new_findings", [finding_line(f) for f in new]))
    lines.append(f"Cursor for the next call: {view['cursor']}")
    return "\n".join(lines)


def pending_line(types: list[str], with_eta: list[dict[str, Any]] | None = None) -> str:
    eta = {p["data_type"]: p.get("eta_s") for p in with_eta or []}
    items = []
    for t in types:
        due = eta.get(t)
        when = f" (about {max(1, round(due))} s)" if isinstance(due, (int, float)) else ""
        items.append(f"{DATA_TYPE_WORDS.get(t, t)}{when}")
    return f"Still collecting: {', '.join(items)}."


def finding_line(f: dict[str, Any]) -> str:
    url = f" {f['url']}" if isinstance(f.get("url"), str) else ""
    return f"{f.get('id')} {f.get('kind')}: {f.get('title')} ({f.get('source')}){url}"


def untrusted(about: str, lines: list[str], max_chars: int = 600) -> str:
    """Source text in a block an assistant is told (server instructions, prompt) to treat
    as data: each line neutralised, so none can close the block or open another."""
    body = [neutralize(line, max_chars) for line in lines if line.strip()]
    return "\n".join([UNTRUSTED_OPEN.format(about=about), *body, UNTRUSTED_CLOSE])


def plain(value: object) -> str:
    return neutralize(str(value or ""), 200)


# -- answers
class AnswerFrames:
    """One answer's chat frames (either backend) folded into the ``ask`` result."""

    def __init__(self) -> None:
        self.basis: str | None = None
        self.pending: list[str] = []
        self.parts: list[str] = []
        self.citations: list[dict[str, Any]] = []
        self.end: dict[str, Any] | None = None
        self.revised: dict[str, Any] | None = None

    def add(self, frame: dict[str, Any]) -> str | None:
        """Take a frame; returns the answer's phase when this frame begins or ends one."""
        kind = frame.get("type")
        if kind == "answer.start":
            self.basis = str(frame.get("basis"))
            self.pending = list(frame.get("pending") or [])
            return "started"
        if kind == "answer.delta":
            self.parts.append(str(frame.get("text", "")))
        elif kind == "answer.citation":
            self.citations.append({k: frame.get(k) for k in ("finding", "url", "title")})
        elif kind == "answer.end":
            self.end = frame
            return "answered"
        elif kind == "answer.revised":
            self.revised = {
                "text": frame.get("text"),
                "citations": [
                    {k: c.get(k) for k in ("finding", "url", "title")}
                    for c in frame.get("citations") or []
                    if isinstance(c, dict)
                ],
                "reason": frame.get("reason"),
                "pending": frame.get("pending") or [],
            }
            return "revised"
        return None

    def result(self) -> dict[str, Any]:
        end = self.end or {}
        return {
            "text": "".join(self.parts),
            "citations": self.citations,
            "basis": self.basis,
            "pending": self.pending,
            "complete": bool(end.get("complete")),
            "error": end.get("error"),
            "revised": self.revised,
        }


def answer_text(result: dict[str, Any]) -> str:
    latest = result["revised"] or result
    lines = [f"Answer (basis: {result['basis']}):"]
    lines.append(untrusted("answer", str(latest["text"]).splitlines()))
    if result["revised"]:
        lines.append(f"Revised: {plain(result['revised']['reason'])}")
    cites = latest["citations"]
    if cites:
        lines.append("Sources:")
        lines.append(
            untrusted(
                "sources",
                [f"[{n}] {c.get('title')} {c.get('url') or ''}" for n, c in enumerate(cites, 1)],
            )
        )
    if latest["pending"]:
        lines.append(pending_line(list(latest["pending"])) + " The answer may be revised.")
    return "\n".join(lines)
