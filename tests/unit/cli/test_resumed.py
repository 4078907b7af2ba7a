"""A failover on the stream: the CLI says what happened, the snapshot fold is unaffected."""

from __future__ import annotations

from dossier.cli.progress import ResearchProgress
from dossier.core.events import Event, EventType, NewEvent
from dossier.core.snapshot import SnapshotBuilder

RESUMED = NewEvent(
    EventType.SESSION_RESUMED,
    {
        "reason": "executor_lost",
        "from_executor": "worker-1",
        "to_executor": "worker-2",
        "message": "worker worker-1 was lost; resumed on worker-2",
    },
)


def test_the_cli_prints_a_note_when_the_research_moved_to_another_worker() -> None:
    progress = ResearchProgress()
    lines = progress.apply(Event.build(1, "s_1", RESUMED))
    assert [line.plain for line in lines] == [
        "  ↻ session  worker worker-1 was lost; resumed on worker-2"
    ]


def test_the_snapshot_folds_it_without_changing_the_session() -> None:
    builder = SnapshotBuilder("s_1")
    builder.apply(Event.build(1, "s_1", RESUMED))
    snap = builder.to_json()
    assert snap["status"] == "running" and snap["last_seq"] == 1
