"""Durable before announced: a step's end goes on the log only after DBOS checkpointed it.

A step that logged ``step.completed`` and then died before DBOS recorded its return was
run again by whoever took the session over: the clients had seen it complete (the event
was deduplicated, the source was called twice). So a step declared with
:func:`durable_step` *holds* its end events (``step.completed``/``failed``/``skipped``,
``workflow.completed``, ``session.completed``) while it runs: they travel in its return
value, which DBOS checkpoints, and the workflow body appends them once the step has
returned. If the process dies in between, the replay returns the checkpoint without
running the step, and the body appends the same events then (their dedup keys make
that once). Findings and progress are still logged as they happen: they are live, and a
re-run step re-emits nothing the log has.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, ParamSpec, TypeVar, cast

from dbos import DBOS

from dossier.core.events import NewEvent
from dossier.core.ports import EventLog
from dossier.workflows import runtime

P = ParamSpec("P")
R = TypeVar("R")

# The marker of a held step's return value; a checkpoint written before this existed is
# returned as is (it announced its own end).
_HELD = "dossier.held"
_holding: contextvars.ContextVar[list[NewEvent] | None] = contextvars.ContextVar(
    "dossier_holding", default=None
)


async def end_events(log: EventLog, session_id: str, events: Sequence[NewEvent]) -> None:
    """A step's end: held for after its checkpoint inside a :func:`durable_step`, logged
    now anywhere else."""
    held = _holding.get()
    if held is None:
        await log.append(session_id, list(events))
    else:
        held.extend(events)


def _to_json(event: NewEvent) -> dict[str, Any]:
    return {
        "type": event.type,
        "data": event.data,
        "workflow": event.workflow,
        "step": event.step,
        "dedup": event.dedup,
    }


def durable_step(
    name: str, **options: Any
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """``@DBOS.step(name=…)`` whose end events are announced after its checkpoint. The
    step's first argument is its session id."""

    def decorate(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(fn)
        async def holding(*args: P.args, **kwargs: P.kwargs) -> dict[str, Any]:
            held: list[NewEvent] = []
            token = _holding.set(held)
            try:
                result = await fn(*args, **kwargs)
            finally:
                _holding.reset(token)
            return {_HELD: [_to_json(e) for e in held], "result": result}

        step = DBOS.step(name=name, **options)(holding)

        @functools.wraps(fn)
        async def announced(*args: P.args, **kwargs: P.kwargs) -> R:
            out = await step(*args, **kwargs)  # returns once DBOS recorded it
            if not (isinstance(out, dict) and _HELD in out):
                return cast(R, out)
            if out[_HELD]:
                session_id = str(args[0])
                events = [NewEvent(**e) for e in out[_HELD]]
                await runtime.current().log.append(session_id, events)
            return cast(R, out["result"])

        return announced

    return decorate
