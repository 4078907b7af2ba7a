"""What is still pending for a question: collecting sources, and signals read from text."""

from __future__ import annotations

from typing import Any

from dossier.core.chat_context import pending_types
from dossier.core.events import Event, EventType, NewEvent
from dossier.core.snapshot import SnapshotBuilder
from dossier.core.states import SessionStatus
from dossier.core.types import DataType, FindingKind
from tests.fakes import make_finding

CI = "customer_intelligence"


def _feed(builder: SnapshotBuilder, *events: tuple[str, str | None, dict[str, Any]]) -> None:
    for seq, (kind, step, data) in enumerate(events, start=builder.last_seq + 1):
        new = NewEvent(type=kind, data=data, workflow=CI, step=step)
        builder.apply(Event.build(seq, "s_1", new))


def _running_with_news_in() -> SnapshotBuilder:
    builder = SnapshotBuilder("s_1")
    builder.status = SessionStatus.RUNNING
    story = make_finding(FindingKind.NEWS_ARTICLE, "Acme raises $50M Series B")
    _feed(
        builder,
        (EventType.WORKFLOW_STARTED, None, {}),
        (EventType.STEP_STARTED, "collect.hn", {"data_types": ["news"]}),
        (EventType.FINDING, "collect.hn", story.model_dump(mode="json")),
        (EventType.STEP_COMPLETED, "collect.hn", {"data_types": ["news"]}),
        (EventType.STEP_STARTED, "analyze", {}),
    )
    return builder


def test_funding_waits_for_the_rounds_read_from_news_until_the_analysis_step_ends() -> None:
    builder = _running_with_news_in()
    wanted = (DataType.FUNDING, DataType.TECH)
    # news is in, the headlines are not read yet: a round may still come; no job posts
    assert pending_types(builder, wanted) == {"funding": None}
    _feed(builder, (EventType.STEP_COMPLETED, "analyze", {}))
    assert pending_types(builder, wanted) == {}
