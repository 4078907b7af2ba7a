"""A workflow that had nothing to research (no vendor named) says so: never "completed ·
0 found", which a seller would read as "we looked and there is nothing"."""

from __future__ import annotations

from dossier.cli.progress import ResearchProgress, idle_reason
from dossier.core.events import Event, EventType, NewEvent

NOTHING = {"state": "not_applicable", "reason": "no vendor configured", "found": 0}
IDLE = {"verdict": "completed", "found": 0, "coverage": {"news": NOTHING, "profile": NOTHING}}


def test_a_workflow_whose_every_data_type_was_not_applicable_is_idle() -> None:
    assert idle_reason(IDLE) == "no vendor configured"


def test_one_applicable_data_type_or_no_coverage_is_not_idle() -> None:
    found = {"state": "found", "found": 2}
    assert idle_reason({**IDLE, "coverage": {"news": NOTHING, "profile": found}}) is None
    assert idle_reason({"verdict": "completed"}) is None
    assert idle_reason({"coverage": {}}) is None


def test_the_cli_prints_nothing_to_research_with_the_reason() -> None:
    progress = ResearchProgress()
    event = NewEvent(EventType.WORKFLOW_COMPLETED, IDLE, workflow="vendor_context")
    lines = progress.apply(Event.build(1, "s_1", event), steps=True)
    assert [line.plain for line in lines] == [
        "  · vendor_context  nothing to research: no vendor configured"
    ]
