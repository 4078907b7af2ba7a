"""Lifecycle enums with checked transitions (session, workflow, step, WS connection).

An illegal transition raises :class:`IllegalTransition` at once: a workflow that reports
``completed`` twice, or a step that fails after it finished, is a bug to see, not to paper
over.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar


class IllegalTransition(RuntimeError):
    """A state machine was asked to move along an edge it does not have."""


class SessionStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    PARTIAL = "partial"  # finished, but some data types are missing
    FAILED = "failed"
    CANCELLED = "cancelled"


# What a session's status says to a person (the page's header; the CLI's report line).
STATUS_WORDS: dict[SessionStatus, str] = {
    SessionStatus.RUNNING: "Researching…",
    SessionStatus.COMPLETED: "Complete",
    SessionStatus.PARTIAL: "Partial",
    SessionStatus.FAILED: "Failed",
    SessionStatus.CANCELLED: "Cancelled",
}


class WorkflowStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class StepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    RETRYING = "retrying"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"


class ConnectionState(StrEnum):
    CONNECTING = "connecting"
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


_S = SessionStatus
_W = WorkflowStatus
_P = StepStatus
_C = ConnectionState

_EDGES: dict[type[StrEnum], dict[StrEnum, frozenset[StrEnum]]] = {
    SessionStatus: {
        _S.RUNNING: frozenset({_S.COMPLETED, _S.PARTIAL, _S.FAILED, _S.CANCELLED}),
    },
    WorkflowStatus: {
        _W.PENDING: frozenset({_W.RUNNING, _W.CANCELLED, _W.FAILED}),
        _W.RUNNING: frozenset({_W.COMPLETED, _W.FAILED, _W.CANCELLED}),
    },
    StepStatus: {
        _P.PENDING: frozenset({_P.RUNNING, _P.SKIPPED, _P.FAILED}),
        _P.RUNNING: frozenset({_P.RETRYING, _P.COMPLETED, _P.FAILED, _P.SKIPPED}),
        _P.RETRYING: frozenset({_P.RUNNING, _P.RETRYING, _P.COMPLETED, _P.FAILED, _P.SKIPPED}),
    },
    ConnectionState: {
        _C.CONNECTING: frozenset({_C.OPEN, _C.CLOSED}),
        _C.OPEN: frozenset({_C.CLOSING, _C.CLOSED}),
        _C.CLOSING: frozenset({_C.CLOSED}),
    },
}

TERMINAL_WORKFLOW = frozenset({_W.COMPLETED, _W.FAILED, _W.CANCELLED})
TERMINAL_STEP = frozenset({_P.COMPLETED, _P.FAILED, _P.SKIPPED})

E = TypeVar("E", bound=StrEnum)


def can_transition(current: E, target: E) -> bool:
    return target in _EDGES[type(current)].get(current, frozenset())


def transition(current: E, target: E) -> E:
    """Return ``target`` if ``current -> target`` is an edge, else raise."""
    if not can_transition(current, target):
        name = type(current).__name__
        raise IllegalTransition(f"{name}: {current.value} -> {target.value} is not allowed")
    return target
