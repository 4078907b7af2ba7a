"""What a steering command will actually do, said from the session's state.

An acknowledgement must not promise what the workflows will not do: "skip jobs" after
the job boards answered changes nothing, and saying "applies at the next step boundary"
then would be a lie. ``applies_at`` is one of:

- ``now``: the command takes effect at once (a skipped source is cancelled, a source that
  has not started will not start);
- ``next_request``: sources in flight finish their current request first (stop: within
  the grace, what they parsed is kept; focus: waiting requests go first);
- ``already_done``: nothing left to change (the data is in, or collection is over).
"""

from __future__ import annotations

from dataclasses import dataclass

from dossier.core.snapshot import SnapshotBuilder, StepState
from dossier.core.states import TERMINAL_STEP, WorkflowStatus
from dossier.core.words import join_words, plural

NOW = "now"
NEXT_REQUEST = "next_request"
ALREADY_DONE = "already_done"


@dataclass(frozen=True)
class SteerOutcome:
    applies_at: str
    message: str


def _collect_steps(builder: SnapshotBuilder) -> list[StepState]:
    return [
        step
        for workflow in builder.workflows.values()
        for step in workflow.steps.values()
        if step.name.startswith("collect.")
    ]


def _found(step: StepState) -> int:
    found = step.data.get("found")
    return found if isinstance(found, int) else 0


def _label(step: StepState) -> str:
    return str(step.data.get("label") or step.name.removeprefix("collect."))


def _targets(step: StepState, target: str) -> bool:
    types = step.data.get("data_types")
    return step.name == f"collect.{target}" or (isinstance(types, list) and target in types)


def _planned(builder: SnapshotBuilder) -> bool:
    """Every workflow still running has planned its sources (its collect steps exist)."""
    running = [w for w in builder.workflows.values() if w.status is WorkflowStatus.RUNNING]
    return bool(running) and all("plan" in w.steps for w in running)


def describe(
    builder: SnapshotBuilder, action: str, target: str | None, *, grace_s: float
) -> SteerOutcome:
    steps = _collect_steps(builder)
    live = [s for s in steps if s.status not in TERMINAL_STEP]
    if action == "stop_and_summarize":
        if not live and _planned(builder):
            return SteerOutcome(
                ALREADY_DONE, "Collection is over; the briefing is written from what came in."
            )
        if not live:
            return SteerOutcome(NOW, "Stopping before any source is asked; the briefing says so.")
        labels = join_words(sorted({_label(s) for s in live}))
        return SteerOutcome(
            NEXT_REQUEST,
            f"Stopping: {labels} may finish the request in flight (up to {grace_s:g} s) and "
            "keep what they found; then the briefing is written from what is in.",
        )
    name = target or ""
    mine = [s for s in steps if _targets(s, name)]
    mine_live = [s for s in mine if s.status not in TERMINAL_STEP]
    if mine and not mine_live and _planned(builder):
        found = sum(_found(s) for s in mine)
        return SteerOutcome(
            ALREADY_DONE,
            f"{name} is already collected ({plural(found, 'finding')}): nothing to {action}.",
        )
    labels = join_words(sorted({_label(s) for s in mine_live}))
    if action == "skip":
        if mine_live:
            kept = sum(_found(s) for s in mine_live)
            return SteerOutcome(
                NOW,
                f"Skipping {name}: {labels} stop now"
                + (f"; the {plural(kept, 'finding')} already in stay" if kept else "")
                + "; nothing more of it is collected.",
            )
        return SteerOutcome(NOW, f"Skipping {name}: it will not be collected.")
    if mine_live:
        return SteerOutcome(
            NEXT_REQUEST, f"{name} goes first: the waiting requests of {labels} move ahead."
        )
    return SteerOutcome(NOW, f"{name} goes first once its sources start.")
