from __future__ import annotations

import pytest

from dossier.core.states import (
    ConnectionState,
    IllegalTransition,
    SessionStatus,
    StepStatus,
    WorkflowStatus,
    transition,
)


def test_a_step_runs_retries_and_completes() -> None:
    state = StepStatus.PENDING
    for target in (
        StepStatus.RUNNING,
        StepStatus.RETRYING,
        StepStatus.RUNNING,
        StepStatus.COMPLETED,
    ):
        state = transition(state, target)
    assert state is StepStatus.COMPLETED


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (StepStatus.COMPLETED, StepStatus.RUNNING),
        (StepStatus.FAILED, StepStatus.COMPLETED),
        (WorkflowStatus.COMPLETED, WorkflowStatus.COMPLETED),
        (SessionStatus.CANCELLED, SessionStatus.RUNNING),
        (ConnectionState.CLOSED, ConnectionState.OPEN),
    ],
)
def test_illegal_transitions_fail_loudly(current: object, target: object) -> None:
    with pytest.raises(IllegalTransition):
        transition(current, target)  # type: ignore[type-var]


def test_a_session_ends_once() -> None:
    assert transition(SessionStatus.RUNNING, SessionStatus.PARTIAL) is SessionStatus.PARTIAL
    with pytest.raises(IllegalTransition):
        transition(SessionStatus.PARTIAL, SessionStatus.COMPLETED)
