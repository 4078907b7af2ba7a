"""One builder of session.completed; a count nobody knows is left out, not said as 0."""

from __future__ import annotations

from typing import Any

from dossier.core.events import EventType
from dossier.core.session_end import SessionEnd
from dossier.core.states import SessionStatus

SUMMARIES: dict[str, dict[str, Any]] = {
    "customer_intelligence": {
        "coverage": {"jobs": {"state": "found"}},
        "missing": ["funding"],
        "hint": None,
        "found": 7,
        "requests": 12,
        "cache_hits": 1,
        "saved_requests": 2,
        "saved_ms": 300,
    },
    "vendor_context": {"found": 3, "requests": 4, "cache_hits": 0},
}


def test_a_research_end_counts_both_workflows() -> None:
    end = SessionEnd.of_workflows(SessionStatus.PARTIAL, SUMMARIES, duration_ms=900)
    data = end.data()
    assert data["status"] == "partial" and data["coverage"] == {"jobs": {"state": "found"}}
    assert (data["found"], data["requests"], data["cache_hits"]) == (10, 16, 1)
    assert (data["calls_saved"], data["time_saved_ms"], data["duration_ms"]) == (2, 300, 900)
    assert data["missing"] == ["funding"] and data["failed_workflows"] == []
    assert "cached" not in data
    event = end.event()
    assert event.type == EventType.SESSION_COMPLETED and event.dedup == "session:completed"


def test_a_cached_session_says_so_and_made_no_requests() -> None:
    data = SessionEnd.of_workflows(
        SessionStatus.COMPLETED, SUMMARIES, duration_ms=0, cached_at="2026-12-01T10:00:00.000Z"
    ).data()
    assert data["cached"] is True and data["cached_at"] == "2026-12-01T10:00:00.000Z"
    assert data["requests"] == 0


def test_a_cancel_says_only_what_it_knows() -> None:
    data = SessionEnd(SessionStatus.CANCELLED, {}, found=4).data()
    assert data == {"status": "cancelled", "coverage": {}, "found": 4}
