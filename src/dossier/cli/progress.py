"""The research's progress as the terminal shows it, folded from the event stream.

State comes from the same fold the server's snapshot uses (``SnapshotBuilder``); this
module only decides how it looks: a live table (a spinner per running step, done/total,
found, ETA, cached/retrying/failed/skipped states, findings counted by kind), one-line
notes worth keeping in the scrollback (each finding, failures, retries), and the final
report (summary, coverage, the analysis with its citation markers and sources).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from dossier.cli.cited import CitedText
from dossier.cli.profile import profile_table
from dossier.core.coverage import STATE_WORDS
from dossier.core.events import Event, EventType
from dossier.core.records import WorkflowKind
from dossier.core.snapshot import SnapshotBuilder, StepState, WorkflowState
from dossier.core.states import StepStatus, WorkflowStatus
from dossier.core.words import age_words

_STEP_ICON = {
    StepStatus.PENDING: ("·", "dim"),
    StepStatus.COMPLETED: ("✓", "green"),
    StepStatus.FAILED: ("✗", "red"),
    StepStatus.SKIPPED: ("⤼", "dim"),
    StepStatus.RETRYING: ("↻", "yellow"),
}
_PARTIAL_ICON = ("◐", "yellow")  # a step that ended with some of its requests failed
_NOT_RECORDED_ICON = ("○", "magenta")  # demo: no recording for what it asked
_WORKFLOW_STYLE = {
    WorkflowStatus.COMPLETED: ("✓", "green"),
    WorkflowStatus.FAILED: ("✗", "red"),
    WorkflowStatus.CANCELLED: ("✗", "yellow"),
}
# A finished workflow's verdict (its coverage): never a green tick over failures.
_VERDICT_STYLE = {
    "completed": ("✓", "green"),
    "partial": ("◐", "yellow"),
    "failed": ("✗", "red"),
}
_STATE_STYLE = {
    "found": "green",
    "none_found": "green",
    "failed": "red",
    "skipped": "dim",
    "not_recorded": "magenta",
    "unresolved": "yellow",
    "not_applicable": "dim",
}
# Coverage states as the terminal names them (the same words as the page and export).
STATE_LABEL = dict(STATE_WORDS)
_STATUS_STYLE = {"completed": "green", "partial": "yellow", "failed": "red", "cancelled": "red"}
_WORKFLOW_ORDER: tuple[str, ...] = (WorkflowKind.CUSTOMER_INTELLIGENCE, WorkflowKind.VENDOR_CONTEXT)
_ANALYSIS_TITLE: dict[str, str] = {
    WorkflowKind.CUSTOMER_INTELLIGENCE: "Analysis",
    WorkflowKind.VENDOR_CONTEXT: "Our side (vendor context)",
}


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _seconds(ms: Any) -> str:
    value = _num(ms)
    return f"{value / 1000:.1f} s" if value is not None else ""


class ResearchProgress:
    """Folds events (in seq order) and renders them."""

    def __init__(self, *, verbose: bool = False) -> None:
        self.state = SnapshotBuilder("")
        self.analysis: dict[str, CitedText] = {}
        self._spinner = Spinner("dots", style="cyan")
        # every retry as its own line (offline, dozens of them): only when asked for; the
        # live table shows one line per source with the attempt and a countdown instead
        self._verbose = verbose

    @property
    def finished(self) -> bool:
        return bool(self.state.completed)

    @property
    def status(self) -> str:
        return str(self.state.completed.get("status") or "running")

    def apply(self, event: Event, *, steps: bool = False) -> list[Text]:
        """Fold one event; returns the lines to print for it (findings, failures,
        retries; with ``steps`` also every step and workflow end, for a terminal
        without a live display)."""
        self.state.apply(event)
        data, kind = event.data, event.type
        where = f"{event.workflow or 'session'} · {event.step or ''}".rstrip(" ·")
        if kind == EventType.ANALYSIS_STARTED:
            self.analysis[event.workflow or "session"] = CitedText()
        elif kind == EventType.ANALYSIS_DELTA:
            self.analysis.setdefault(event.workflow or "session", CitedText()).add(
                str(data.get("text", ""))
            )
        elif kind == EventType.ANALYSIS_CITATION:
            self.analysis.setdefault(event.workflow or "session", CitedText()).cite(data)
        elif kind == EventType.ANALYSIS_COMPLETED:
            streamed = self.analysis.get(event.workflow or "session")
            if streamed is None or not streamed.plain.strip():  # nothing streamed (cached)
                self.analysis[event.workflow or "session"] = CitedText.of(
                    str(data.get("text") or ""), data.get("citations") or []
                )
        elif kind == EventType.FINDING:
            line = Text("  + ", style="green")
            line.append(f"{data.get('kind', 'finding')}  ", style="bold")
            fields = data.get("fields")
            if isinstance(fields, dict) and fields.get("sample") is True:
                line.append("[sample data] ", style="yellow")
            line.append(str(data.get("title", "")))
            line.append(f"  ({data.get('source', '?')})", style="dim")
            return [line]
        elif kind == EventType.STEP_FAILED:
            if data.get("state") == "not_recorded":
                text = f"not in this demo's recordings: {data.get('error') or ''}"
                return [_note("○", "magenta", where, text)]
            return [_note("✗", "red", where, f"failed: {data.get('error') or 'error'}")]
        elif kind == EventType.STEP_RETRYING and self._verbose:
            wait = _num(data.get("next_in_s"))
            text = f"retrying (attempt {data.get('attempt', '?')}): {data.get('error', '')}"
            return [_note("↻", "yellow", where, text + (f", next in {wait:.1f} s" if wait else ""))]
        elif kind == EventType.STEP_SKIPPED:
            return [_note("⤼", "dim", where, f"skipped: {data.get('reason') or ''}".rstrip(": "))]
        elif kind == EventType.SESSION_RESUMED:
            return [_note("↻", "yellow", "session", str(data.get("message") or "resumed"))]
        elif kind == EventType.SESSION_ERROR:
            return [_note("!", "red", "session", str(data.get("message") or data))]
        elif kind == EventType.STEP_COMPLETED and data.get("partial"):
            return [_note("◐", "yellow", where, f"partly: {data.get('error') or 'some failed'}")]
        elif steps and kind == EventType.STEP_COMPLETED:
            found = data.get("found")
            parts = ["cached" if data.get("cached") else "done"]
            if isinstance(found, int) and found:
                parts.append(f"{found} found")
            if data.get("duration_ms") is not None:
                parts.append(_seconds(data.get("duration_ms")))
            return [_note("✓", "green", where, " · ".join(parts))]
        elif steps and kind in (EventType.WORKFLOW_COMPLETED, EventType.WORKFLOW_FAILED):
            idle = idle_reason(data)
            if idle:
                return [_note("·", "dim", where, f"nothing to research: {idle}")]
            verdict = str(data.get("verdict") or "failed")
            icon, style = _VERDICT_STYLE.get(verdict, ("✗", "red"))
            return [_note(icon, style, where, f"{verdict} · {data.get('found', 0)} found")]
        return []

    # -- views
    def _workflows(self) -> list[WorkflowState]:
        flows = self.state.workflows
        names = [n for n in _WORKFLOW_ORDER if n in flows]
        names += [n for n in flows if n not in names and n != "session"]
        return [flows[n] for n in names]

    def findings_by_kind(self) -> Text:
        # A finding seen by both workflows is about the customer; only the rest is "us".
        about_us = self.state.vendor_finding_ids - self.state.customer_finding_ids
        customer = Counter(
            f.kind.value for f in self.state.findings.values() if f.id not in about_us
        )
        out = Text("findings  ", style="bold")
        if not customer:
            out.append("none yet", style="dim")
        # most first, ties by name: the line reads the same whatever order sources answered
        for i, (kind, count) in enumerate(sorted(customer.items(), key=lambda kc: (-kc[1], kc[0]))):
            out.append(" · " if i else "")
            out.append(f"{count} ", style="bold green")
            out.append(kind)
        vendor = len(about_us)
        if vendor:
            out.append(f"   (+{vendor} about us)", style="dim")
        return out

    def live(self, max_lines: int | None = None) -> RenderableType:
        """The live table: running workflows step by step, finished ones on one line.

        With ``max_lines`` (a short terminal: rich would crop the bottom, where the prompt
        is), finished steps fold into one line per workflow, then the rest is cut.
        """
        rows = self._rows(fold=False)
        if max_lines is not None and len(rows) + 1 > max_lines:
            rows = self._rows(fold=True)
            if len(rows) + 1 > max_lines:
                keep = max(1, max_lines - 2)
                more = Text(f"… {len(rows) - keep} more steps", style="dim")
                rows = [*rows[:keep], (Text(""), more, Text(""), Text(""), Text(""), Text(""))]
        table = Table.grid(padding=(0, 1))
        for _ in range(6):
            table.add_column(no_wrap=True)
        for row in rows:
            table.add_row(*row)
        return Group(table, self.findings_by_kind())

    def _rows(self, *, fold: bool) -> list[tuple[RenderableType, ...]]:
        rows: list[tuple[RenderableType, ...]] = []
        for workflow in self._workflows():
            rows.append(self._workflow_cells(workflow))
            if workflow.status in _WORKFLOW_STYLE:
                continue  # finished: one line
            steps = list(workflow.steps.values())
            done = [s for s in steps if s.status is StepStatus.COMPLETED]
            if fold and len(done) > 1:
                label = Text(f"  {len(done)} steps done", style="dim")
                rows.append((Text("✓", style="green"), label, *(Text("") for _ in range(4))))
                steps = [s for s in steps if s.status is not StepStatus.COMPLETED]
            rows += [self._step_cells(step) for step in steps]
        return rows

    def _workflow_cells(self, workflow: WorkflowState) -> tuple[RenderableType, ...]:
        icon, style = _workflow_style(workflow)
        found = sum(
            int(_num(s.data.get("found")) or 0)
            for s in workflow.steps.values()
            if s.name.startswith("collect.")
        )
        running = workflow.status is WorkflowStatus.RUNNING
        return (
            self._spinner if running else Text(icon, style=style),
            Text(workflow.kind, style=f"bold {style}"),
            Text(""),
            Text(f"{found} found", style="green"),
            Text(""),
            Text(_workflow_word(workflow), style=style),
        )

    def _step_cells(self, step: StepState) -> tuple[RenderableType, ...]:
        data = step.data
        if step.status is StepStatus.RUNNING:
            icon: RenderableType = self._spinner
        else:
            symbol, style = _step_icon(step)
            icon = Text(symbol, style=style)
        done, total = _num(data.get("done")), _num(data.get("total"))
        count = f"{int(done or 0)}/{int(total)}" if total else ""
        found = _num(data.get("found"))
        eta = _num(data.get("eta_s"))
        if step.status is StepStatus.COMPLETED:
            state = "cached" if data.get("cached") else _seconds(data.get("duration_ms"))
            when = Text(state, style="blue" if data.get("cached") else "dim")
        elif step.status in (StepStatus.RUNNING, StepStatus.RETRYING) and eta:
            when = Text(f"~{eta:.0f} s" if eta >= 1 else "<1 s", style="dim")
        else:
            when = Text("")
        if step.status in (StepStatus.FAILED, StepStatus.SKIPPED):
            message = Text(str(data.get("error") or step.status.value), style="red dim")
        elif step.status is StepStatus.RETRYING:
            message = Text(f"retrying (attempt {data.get('attempt', '?')}", style="yellow")
            left = _countdown(data.get("next_in_s"), step.last_beat_at)
            message.append(f", next in {left:.0f} s)" if left >= 1 else ")", style="yellow")
            message.append(f" {data.get('error') or ''}", style="dim")
        else:
            message = Text(str(data.get("message") or ""), style="dim")
        return (
            icon,
            Text(f"  {step.name}"),
            Text(count, style="dim"),
            Text(f"{int(found)} found" if found else "", style="green"),
            when,
            message,
        )

    def report(self, account: str) -> RenderableType:
        """The final report, printed once when the research completes: status, coverage
        in words (what was found, and why the rest was not), the next step, the analysis."""
        done = self.state.completed
        status = self.status
        head = Text(f"Research {status}: ", style=f"bold {_STATUS_STYLE.get(status, '')}")
        head.append(account, style="bold")
        if done.get("cached"):
            age = age_of(done.get("cached_at"))
            head.append(f"  from cache{f', {age} old' if age else ''}", style="blue")
        else:
            head.append(f"  in {_seconds(done.get('duration_ms'))}", style="dim")
            if done.get("cache_hits"):
                head.append(f" · {done['cache_hits']} sources from cache", style="blue")
        parts: list[RenderableType] = [Text(""), head]
        for workflow in self._workflows():
            icon, style = _workflow_style(workflow)
            line = Text(f"  {icon} ", style=style)
            line.append(workflow.kind, style="bold")
            idle = idle_reason(workflow.result)
            if idle:
                line.append(f"  nothing to research: {idle}", style="dim")
            else:
                line.append(f"  {_workflow_word(workflow)}", style=style)
                line.append(f" · {workflow.result.get('found', 0)} found", style="dim")
            parts.append(line)
        parts.append(self.findings_by_kind())
        about_us = self.state.vendor_finding_ids - self.state.customer_finding_ids
        parts += filter(None, [profile_table(self.state.findings.values(), about_us)])
        parts.append(coverage_table(done.get("coverage")))
        parts += _next_steps(done, account)
        order = {kind: i for i, kind in enumerate(_WORKFLOW_ORDER)}
        for kind, cited in sorted(self.analysis.items(), key=lambda kv: order.get(kv[0], 9)):
            if not cited.plain.strip():
                continue
            title = _ANALYSIS_TITLE.get(kind, f"Analysis · {kind}")
            parts += [Text(""), Text(title, style="bold underline")]
            parts.append(cited.text(paragraphs=True))
            if cited.sources:
                parts += [Text("Sources", style="bold"), cited.sources_list()]
        return Group(*parts)


def coverage_table(coverage: Any) -> RenderableType:
    """One line per data type: its state in words, and why."""
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    if not isinstance(coverage, dict):
        return table
    for data_type, entry in sorted(coverage.items()):
        entry = entry if isinstance(entry, dict) else {}
        state = str(entry.get("state") or "?")
        incomplete = state == "found" and entry.get("complete") is False
        style = "yellow" if incomplete else _STATE_STYLE.get(state, "")
        table.add_row(
            Text(f"  {data_type}", style="bold"),
            Text(STATE_LABEL.get(state, state), style=style),
            Text(str(entry.get("reason") or ""), style="dim"),
        )
    return Group(Text("coverage", style="bold"), table)


def _next_steps(done: dict[str, Any], account: str) -> list[RenderableType]:
    """The hint (offline, not identified, not in the demo), and how to refresh."""
    out: list[RenderableType] = []
    hint = done.get("hint")
    raw = done.get("coverage")
    coverage: dict[str, Any] = raw if isinstance(raw, dict) else {}
    unresolved = any(
        isinstance(e, dict) and e.get("state") == "unresolved" for e in coverage.values()
    )
    if isinstance(hint, str) and hint:
        style = "red" if done.get("status") == "failed" else "yellow"
        out.append(Text(f"! {hint}", style=style))
    if unresolved:
        out.append(
            Text(f'  try: dossier research "{account}" --domain example.com', style="yellow")
        )
    if done.get("cached"):
        out.append(Text(f'  to ask the sources again: dossier research "{account}" --refresh'))
    return out


def age_of(iso: object) -> str:
    """How long ago an ISO time was ("3 h"), or "" when unknown."""
    if not isinstance(iso, str):
        return ""
    try:
        when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return ""
    return age_words(max(0.0, (datetime.now(UTC) - when).total_seconds()))


def _countdown(next_in_s: object, since: str | None) -> float:
    """Seconds until the next try of a retrying step (0 when unknown or due)."""
    wait = _num(next_in_s)
    if wait is None or since is None:
        return 0.0
    try:
        at = datetime.fromisoformat(since.replace("Z", "+00:00"))
    except ValueError:
        return 0.0
    return max(0.0, wait - (datetime.now(UTC) - at).total_seconds())


def idle_reason(result: Mapping[str, Any]) -> str | None:
    """Why a finished workflow had nothing to look up (no vendor named), or None: such a
    workflow is not "completed · 0 found", which reads as researched and empty."""
    coverage = result.get("coverage")
    if not isinstance(coverage, Mapping) or not coverage:
        return None
    entries = list(coverage.values())
    if not all(isinstance(e, Mapping) and e.get("state") == "not_applicable" for e in entries):
        return None
    return str(entries[0].get("reason") or "nothing applies")


def _workflow_style(workflow: WorkflowState) -> tuple[str, str]:
    if idle_reason(workflow.result):
        return ("·", "dim")
    verdict = workflow.result.get("verdict")
    if workflow.status is WorkflowStatus.COMPLETED and isinstance(verdict, str):
        return _VERDICT_STYLE.get(verdict, ("·", "dim"))
    return _WORKFLOW_STYLE.get(workflow.status, ("", "cyan"))


def _workflow_word(workflow: WorkflowState) -> str:
    verdict = workflow.result.get("verdict")
    if workflow.status is WorkflowStatus.COMPLETED and isinstance(verdict, str):
        return verdict
    return workflow.status.value


def _step_icon(step: StepState) -> tuple[str, str]:
    if step.status is StepStatus.COMPLETED and step.data.get("partial"):
        return _PARTIAL_ICON
    if step.status is StepStatus.FAILED and step.data.get("state") == "not_recorded":
        return _NOT_RECORDED_ICON
    return _STEP_ICON[step.status]


def _note(icon: str, style: str, where: str, text: str) -> Text:
    line = Text(f"  {icon} ", style=style)
    line.append(where, style="bold")
    line.append(f"  {text}", style="dim" if style == "green" else style)
    return line
