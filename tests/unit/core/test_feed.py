from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dossier.core.events import NewEvent
from dossier.core.feed import FeedHub, Lagged
from dossier.eventlog.sqlite import SqliteEventLog
from tests.unit.eventlog.test_event_log import record


@pytest.fixture
async def wired(tmp_path: Path) -> AsyncIterator[tuple[SqliteEventLog, FeedHub]]:
    event_log = SqliteEventLog(tmp_path / "log.sqlite")
    await event_log.start()
    await event_log.create_session(record())
    hub = FeedHub(event_log, window=8, heartbeat_s=60)
    event_log.set_on_logged(hub.deliver)
    runner = asyncio.create_task(hub.run())
    yield event_log, hub
    runner.cancel()
    await event_log.close()


async def test_a_subscriber_sees_logged_events_in_order(
    wired: tuple[SqliteEventLog, FeedHub],
) -> None:
    event_log, hub = wired
    feed = await hub.open("s_1")
    await event_log.append("s_1", [NewEvent(type="a"), NewEvent(type="b")])
    events, frames = feed.read(0)
    assert [e.seq for e in events] == [1, 2]
    assert frames.startswith(b"id: 1\nevent: a\n")


async def test_events_logged_before_the_feed_opened_are_filled_in(
    wired: tuple[SqliteEventLog, FeedHub],
) -> None:
    event_log, hub = wired
    await event_log.append("s_1", [NewEvent(type="early")])
    feed = await hub.open("s_1")
    await event_log.append("s_1", [NewEvent(type="late")])
    for _ in range(50):
        if feed.last_seq == 2:
            break
        await asyncio.sleep(0.01)
    assert feed.last_seq == 2
    events, _ = feed.read(1)
    assert [e.type for e in events] == ["late"]


async def test_a_reader_behind_the_window_is_told_to_use_the_log(
    wired: tuple[SqliteEventLog, FeedHub],
) -> None:
    event_log, hub = wired
    feed = await hub.open("s_1")
    await event_log.append("s_1", [NewEvent(type="e", data={"i": i}) for i in range(20)])
    assert len(feed.events) <= 16  # the window is bounded (trimmed in halves)
    with pytest.raises(Lagged):
        feed.read(3)
    events, _ = feed.read(15)
    assert [e.seq for e in events] == [16, 17, 18, 19, 20]


async def test_a_gap_is_filled_from_the_log_before_later_events(
    wired: tuple[SqliteEventLog, FeedHub],
) -> None:
    event_log, hub = wired
    feed = await hub.open("s_1")
    await asyncio.sleep(0.05)
    # Simulate another process: events 1-3 are committed but only 3 is announced here.
    hub.deliver([])  # harmless
    logged = await event_log.append("s_1", [NewEvent(type="x") for _ in range(3)])
    feed.events.clear()
    feed.frames.clear()
    feed.last_seq = 0
    hub.deliver([logged[2]])
    for _ in range(50):
        if feed.last_seq == 3:
            break
        await asyncio.sleep(0.01)
    assert [e.seq for e in feed.events_after(0)] == [1, 2, 3]


async def test_waiters_wake_on_new_events(wired: tuple[SqliteEventLog, FeedHub]) -> None:
    event_log, hub = wired
    feed = await hub.open("s_1")
    waiter = asyncio.create_task(feed.wait())
    await asyncio.sleep(0)
    assert not waiter.done()
    await event_log.append("s_1", [NewEvent(type="x")])
    await asyncio.wait_for(waiter, 1)


async def test_a_feed_is_dropped_when_its_last_reader_leaves(
    wired: tuple[SqliteEventLog, FeedHub],
) -> None:
    _, hub = wired
    one = await hub.open("s_1")
    two = await hub.open("s_1")
    assert one is two and one.readers == 2
    hub.close(one)
    assert "s_1" in hub.feeds
    hub.close(two)
    assert "s_1" not in hub.feeds


async def test_a_chunk_keeps_to_its_byte_budget_and_continues_where_it_stopped(
    wired: tuple[SqliteEventLog, FeedHub],
) -> None:
    event_log, hub = wired
    feed = await hub.open("s_1")
    await event_log.append(
        "s_1", [NewEvent(type="e", data={"text": "x" * (100 * (i % 3 + 1))}) for i in range(8)]
    )
    whole, upto = feed.chunk(0, 256, stop_at=None)
    assert upto == 8
    pieces, pos = [], 0
    while pos < 8:
        body, pos_after = feed.chunk(pos, 256, stop_at=None, max_bytes=400)
        assert pos_after > pos
        assert len(body) <= 400 or pos_after == pos + 1  # one frame always goes
        pieces.append(body)
        pos = pos_after
    assert b"".join(pieces) == whole  # nothing lost, nothing twice
    assert len(pieces) > 2
    one, at = feed.chunk(0, 256, stop_at=None, max_bytes=1)
    assert at == 1 and one == feed.frames[0]  # a frame over the budget still goes alone
