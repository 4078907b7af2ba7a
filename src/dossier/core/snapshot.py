"""Session state folded from its event log (``GET /api/sessions/{id}``).

The fold is the only reader of event payloads that builds state: a client (or the chat)
renders the snapshot, then streams from ``last_seq``. It trusts the log: an out-of-order
or unknown event is tolerated (logged data cannot be refused after the fact), but the
emitters that write the log use checked transitions (``core/states.py``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pydantic import JsonValue, ValidationError

from dossier.core.coverage import live_coverage
from dossier.core.events import Event, EventType
from dossier.core.intents import IntentName
from dossier.core.merge import merge_group
from dossier.core.privacy import ASKER, Viewer
from dossier.core.questions import understand
from dossier.core.records import WorkflowKind
from dossier.core.states import (
    TERMINAL_STEP,
    SessionStatus,
    StepStatus,
    WorkflowStatus,
)
from dossier.core.types import Finding

_STEP_STATUS_OF: dict[str, StepStatus] = {
    EventType.STEP_STARTED: StepStatus.RUNNING,
    EventType.STEP_PROGRESS: StepStatus.RUNNING,
    EventType.STEP_RETRYING: StepStatus.RETRYING,
    EventType.STEP_COMPLETED: StepStatus.COMPLETED,
    EventType.STEP_FAILED: StepStatus.FAILED,
    EventType.STEP_SKIPPED: StepStatus.SKIPPED,
}
_WORKFLOW_STATUS_OF: dict[str, WorkflowStatus] = {
    EventType.WORKFLOW_STARTED: WorkflowStatus.RUNNING,
    EventType.WORKFLOW_COMPLETED: WorkflowStatus.COMPLETED,
    EventType.WORKFLOW_FAILED: WorkflowStatus.FAILED,
    EventType.WORKFLOW_CANCELLED: WorkflowStatus.CANCELLED,
}
_CHAT_TYPES = frozenset(
    {EventType.CHAT_QUESTION, EventType.ANSWER_END, EventType.ANSWER_REVISED, EventType.SUGGESTIONS}
)
_STEP_FIELDS = (
    "label",
    "state",
    "cause",
    "partial",
    "uncovered",
    "done",
    "total",
    "found",
    "eta_s",
    "message",
    "duration_ms",
    "coverage",
    "cached",
    "data_types",
    "next_in_s",
)


_WORKFLOW_RESULT = frozenset(
    {"verdict", "causes", "found", "coverage", "missing", "hint", "duration_ms", "cached", "error"}
)


@dataclass
class StepState:
    name: str
    status: StepStatus = StepStatus.PENDING
    data: dict[str, JsonValue] = field(default_factory=dict)
    started_at: str | None = None
    last_beat_at: str | None = None
    ended_at: str | None = None

    def to_json(self) -> dict[str, JsonValue]:
        out: dict[str, JsonValue] = {"name": self.name, "status": self.status.value}
        out.update(self.data)
        out["started_at"] = self.started_at
        out["last_beat_at"] = self.last_beat_at
        out["ended_at"] = self.ended_at
        return out


@dataclass
class WorkflowState:
    kind: str
    workflow_id: str | None = None
    status: WorkflowStatus = WorkflowStatus.PENDING
    steps: dict[str, StepState] = field(default_factory=dict)
    started_at: str | None = None
    ended_at: str | None = None
    result: dict[str, JsonValue] = field(default_factory=dict)

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "id": self.workflow_id,
            "kind": self.kind,
            "status": self.status.value,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "steps": [s.to_json() for s in self.steps.values()],
            **self.result,
        }


@dataclass
class AnalysisState:
    status: str = "pending"
    parts: list[str] = field(default_factory=list)
    citations: list[dict[str, JsonValue]] = field(default_factory=list)
    final: dict[str, JsonValue] = field(default_factory=dict)

    @property
    def text(self) -> str:
        final = self.final.get("text")
        return final if isinstance(final, str) else "".join(self.parts)

    def to_json(self) -> dict[str, JsonValue]:
        out: dict[str, JsonValue] = {
            "status": self.status,
            "text": self.text,
            "citations": list(self.citations),
        }
        for key in ("provider", "partial", "error"):
            if key in self.final:
                out[key] = self.final[key]
        return out


@dataclass
class ChatTurn:
    id: str
    question: str
    asked_at: str
    answer: dict[str, JsonValue] | None = None
    revisions: list[dict[str, JsonValue]] = field(default_factory=list)
    # the principal who asked (None: logged before turns named their asker)
    asker: str | None = None

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "id": self.id,
            "question": self.question,
            "asked_at": self.asked_at,
            "answer": self.answer,
            "revisions": list(self.revisions),
        }


class SnapshotBuilder:
    """Folds a session's events, in seq order, into its current state."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        self.status = SessionStatus.RUNNING
        self.last_seq = 0
        self.created: dict[str, Any] = {}
        self.completed: dict[str, Any] = {}
        self.workflows: dict[str, WorkflowState] = {}
        self.findings: dict[str, Finding] = {}
        # which facts came up in which workflow (a fact may be about both us and them)
        self.vendor_finding_ids: set[str] = set()
        self.customer_finding_ids: set[str] = set()
        self.analysis: dict[str, AnalysisState] = {}
        self.chat: dict[str, ChatTurn] = {}
        self.errors: list[dict[str, JsonValue]] = []
        self.steering: list[dict[str, JsonValue]] = []
        # what each principal asked (None: before turns named their asker), and how often
        self.asked_intents: dict[str | None, set[IntentName]] = {}
        self.turns_by: Counter[str | None] = Counter()
        # Bumps on every event that changes what an answer can say (not on chat events).
        self.state_version = 0
        self.data_version = 0  # bumps when findings or analyses change

    def apply_all(self, events: list[Event]) -> None:
        for event in events:
            self.apply(event)

    def apply(self, event: Event) -> None:
        if event.seq <= self.last_seq:
            return
        self.last_seq = event.seq
        etype, data = event.type, event.data
        if etype not in _CHAT_TYPES:
            self.state_version += 1
        if etype == EventType.SESSION_CREATED:
            self.created = dict(data)
        elif etype == EventType.SESSION_COMPLETED:
            self.completed = dict(data)
            self.status = _session_status(data.get("status"))
        elif etype == EventType.SESSION_ERROR:
            self.errors.append(dict(data))
        elif etype in _WORKFLOW_STATUS_OF:
            self._apply_workflow(event, _WORKFLOW_STATUS_OF[etype])
        elif etype in _STEP_STATUS_OF:
            self._apply_step(event, _STEP_STATUS_OF[etype])
        elif etype == EventType.FINDING:
            self._apply_finding(data, event.workflow)
        elif etype.startswith("analysis."):
            self._apply_analysis(event)
        elif etype == EventType.CHAT_QUESTION:
            self._apply_question(event)
        elif etype in (EventType.ANSWER_END, EventType.ANSWER_REVISED):
            turn = self.chat.get(str(data.get("id")))
            # Only the asker's own answer lands on a turn, and the first answer stays: a
            # reused id (refused since, but in older logs) never overwrites what was said.
            if turn is not None and _asker(data) == turn.asker:
                if etype == EventType.ANSWER_REVISED:
                    turn.revisions.append(dict(data))
                elif turn.answer is None:
                    turn.answer = dict(data)
        elif etype == EventType.STEER_ACK:
            self.steering.append(dict(data))

    def _apply_question(self, event: Event) -> None:
        data = event.data
        qid = str(data.get("id"))
        if qid in self.chat:
            return  # the id is taken: the first question keeps it
        asker = _asker(data)
        turn = self.chat[qid] = ChatTurn(qid, str(data.get("content", "")), event.ts, asker=asker)
        self.asked_intents.setdefault(asker, set()).add(understand(turn.question).intent.name)
        self.turns_by[asker] += 1

    def intents_asked(self, viewer: Viewer | None) -> set[IntentName]:
        """What this viewer has asked about (everyone's when there is one principal)."""
        asked: set[IntentName] = set()
        for asker, intents in self.asked_intents.items():
            if viewer is None or viewer.sees_asker(asker):
                asked |= intents
        return asked

    def _workflow(self, kind: str | None) -> WorkflowState:
        name = kind or "session"
        state = self.workflows.get(name)
        if state is None:
            state = self.workflows[name] = WorkflowState(kind=name)
        return state

    def _apply_workflow(self, event: Event, status: WorkflowStatus) -> None:
        workflow = self._workflow(event.workflow)
        workflow.status = status
        data = event.data
        if isinstance(data.get("workflow_id"), str):
            workflow.workflow_id = str(data["workflow_id"])
        if status == WorkflowStatus.RUNNING:
            workflow.started_at = workflow.started_at or event.ts
        else:
            workflow.ended_at = event.ts
            workflow.result = {k: v for k, v in data.items() if k in _WORKFLOW_RESULT}

    def _apply_step(self, event: Event, status: StepStatus) -> None:
        workflow = self._workflow(event.workflow)
        name = event.step or "?"
        step = workflow.steps.get(name)
        if step is None:
            step = workflow.steps[name] = StepState(name=name)
        if step.status in TERMINAL_STEP and status in (StepStatus.RUNNING, StepStatus.RETRYING):
            return  # a late beat after the end: the end wins
        step.status = status
        for key in _STEP_FIELDS:
            if key in event.data:
                step.data[key] = event.data[key]
        if event.type == EventType.STEP_RETRYING:
            step.data["attempt"] = event.data.get("attempt")
            step.data["error"] = event.data.get("error")
        if event.type in (EventType.STEP_FAILED, EventType.STEP_SKIPPED):
            step.data["error"] = event.data.get("error") or event.data.get("reason")
        elif event.type == EventType.STEP_COMPLETED:
            # a step that ended with some of its requests failed says which
            step.data["error"] = event.data.get("error") if event.data.get("partial") else None
        if status == StepStatus.RUNNING and step.started_at is None:
            step.started_at = event.ts
        step.last_beat_at = event.ts
        if status in TERMINAL_STEP:
            step.ended_at = event.ts

    def _apply_finding(self, data: dict[str, JsonValue], workflow: str | None) -> None:
        try:
            finding = Finding.model_validate(data)
        except ValidationError:
            return
        if workflow == WorkflowKind.VENDOR_CONTEXT:
            self.vendor_finding_ids.add(finding.id)
        else:
            self.customer_finding_ids.add(finding.id)
        known = self.findings.get(finding.id)
        # The same fact from another source: one finding, with both sources' detail.
        self.findings[finding.id] = merge_group([known, finding]) if known else finding
        self.data_version += 1

    def _apply_analysis(self, event: Event) -> None:
        kind = event.workflow or "session"
        state = self.analysis.setdefault(kind, AnalysisState())
        data = event.data
        if event.type == EventType.ANALYSIS_STARTED:
            state.status, state.parts, state.citations = "running", [], []
        elif event.type == EventType.ANALYSIS_DELTA:
            state.parts.append(str(data.get("text", "")))
        elif event.type == EventType.ANALYSIS_CITATION:
            state.citations.append(dict(data))
        elif event.type == EventType.ANALYSIS_COMPLETED:
            state.status = "partial" if data.get("partial") else "completed"
            state.final = dict(data)
            cites = data.get("citations")
            if isinstance(cites, list):
                state.citations = [c for c in cites if isinstance(c, dict)]
            self.data_version += 1

    # -- views
    def coverage(self) -> dict[str, JsonValue]:
        """The account's coverage: final once the session (or its Customer Intelligence
        workflow) ended; while it runs, folded from the steps so far (a data type still
        being collected is absent: pending, not known)."""
        final = self.completed.get("coverage")
        if isinstance(final, dict):
            return final
        customer = self.workflows.get(WorkflowKind.CUSTOMER_INTELLIGENCE)
        if customer is None:
            return {}
        ended = customer.result.get("coverage")
        if isinstance(ended, dict):
            return ended
        plan = customer.steps.get("plan")
        gaps = plan.data.get("uncovered") if plan is not None else None
        steps = [(s.name, s.status.value, s.data) for s in customer.steps.values()]
        return live_coverage(steps, gaps if isinstance(gaps, dict) else {})

    def to_json(self, viewer: Viewer | None = None) -> dict[str, Any]:
        """The snapshot as ``viewer`` may see it: the research, and only their own chat."""
        chat = [t for t in self.chat.values() if viewer is None or viewer.sees_asker(t.asker)]
        return {
            "session_id": self.session_id,
            "status": self.status.value,
            "account": self.created.get("account"),
            "vendor": self.created.get("vendor"),
            "cached": bool(self.created.get("cached")),
            "created_at": self.created.get("created_at"),
            "workflows": {k: w.to_json() for k, w in self.workflows.items() if k != "session"},
            "findings": [f.model_dump(mode="json") for f in self.findings.values()],
            # which of them are about us (Vendor Context), not the account
            "vendor_findings": sorted(self.vendor_finding_ids - self.customer_finding_ids),
            "analysis": {k: a.to_json() for k, a in self.analysis.items()},
            "chat": [t.to_json() for t in chat],
            "coverage": self.coverage(),
            # what keeps it from complete, and the next step when one is plain
            "missing": list(self.completed.get("missing") or []),
            "hint": self.completed.get("hint"),
            "summary": {k: v for k, v in self.completed.items() if k != "coverage"},
            "errors": list(self.errors),
            "last_seq": self.last_seq,
        }


def _asker(data: dict[str, Any]) -> str | None:
    asker = data.get(ASKER)
    return asker if isinstance(asker, str) else None


def _session_status(value: object) -> SessionStatus:
    try:
        return SessionStatus(str(value))
    except ValueError:
        return SessionStatus.COMPLETED
