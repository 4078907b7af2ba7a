"""Where an SSE stream resumes: Last-Event-ID from the header (browsers) or the query
(clients that cannot set headers), refused when it is not a sequence number."""

from __future__ import annotations

import pytest
from starlette.types import Scope

from dossier.core.events import Event, NewEvent
from dossier.errors import InvalidInput
from dossier.transport.sse import Backlog, parse_last_event_id


def scope(header: str | None = None, query: str = "") -> Scope:
    headers = [(b"last-event-id", header.encode())] if header is not None else []
    return {"type": "http", "headers": headers, "query_string": query.encode()}


@pytest.mark.parametrize(
    ("header", "query", "expected"),
    [
        (None, "", 0),
        ("42", "", 42),
        (" 7 ", "", 7),
        (None, "last_event_id=9", 9),
        ("5", "last_event_id=9", 5),  # the header wins: it is what a browser resends
        ("", "", 0),
    ],
)
def test_the_resume_point(header: str | None, query: str, expected: int) -> None:
    assert parse_last_event_id(scope(header, query)) == expected


@pytest.mark.parametrize("bad", ["-1", "abc", "1e3", "9" * 19, "1.5"])
def test_anything_but_a_sequence_number_is_refused(bad: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_last_event_id(scope(bad))
    assert caught.value.code == "invalid_last_event_id"


class _Log:
    """A session's log of ``n`` events of ~100-byte frames; records each read's limit."""

    def __init__(self, n: int) -> None:
        self.events = [
            Event.build(seq, "s_1", NewEvent(type="progress", data={"pad": "x" * 40}))
            for seq in range(1, n + 1)
        ]
        self.limits: list[int] = []

    async def events_after(self, session_id: str, after: int, limit: int) -> list[Event]:
        self.limits.append(limit)
        return self.events[after : after + limit]


async def test_a_reader_behind_the_window_reads_little_first_and_more_while_it_keeps_up() -> None:
    log = _Log(5_000)
    behind = Backlog(budget=8 * 1024)
    pos = 0
    for _ in range(8):
        assert await behind.read(log, "s_1", pos)
        while behind.events:
            pos = behind.take(8 * 1024)[-1].seq
    assert log.limits[0] == 8  # a client that never reads costs one small read
    assert log.limits[1] < log.limits[2] < log.limits[3]  # growing while it keeps up ...
    last_read = log.events[pos - log.limits[-1] : pos]
    assert 48 * 1024 <= sum(len(e.frame) for e in last_read) <= 80 * 1024  # ... to ~64 KiB


async def test_a_parked_reader_drops_what_it_read_ahead_and_reads_one_budget_next() -> None:
    log = _Log(5_000)
    behind = Backlog(budget=8 * 1024)
    for _ in range(5):
        await behind.read(log, "s_1", 0)
    assert len(behind.events) > 100
    piece = behind.take(8 * 1024)
    assert 0 < sum(len(e.frame) for e in piece) <= 8 * 1024
    behind.release()
    assert behind.events == []
    await behind.read(log, "s_1", piece[-1].seq)
    assert sum(len(e.frame) for e in behind.events) <= 2 * 8 * 1024
    assert behind.events[0].seq == piece[-1].seq + 1  # from its cursor, nothing skipped
