"""Live fan-out: a bounded window of recent events per session, read by cursor.

A subscriber holds no buffer of its own; it keeps a cursor (the last seq it sent) into
its session's shared window, like the raw benchmark baseline. That bounds memory no
matter how many subscribers there are or how slow they read: the window keeps at most
``window`` events per session. A subscriber whose cursor falls out of the window is
*lagged*: it is detached from the live window and continues from the durable log by id
(the same path as a ``Last-Event-ID`` resume), so it neither loses events nor holds
memory. Events reach the window in seq order; a gap (an event from another process
arrived first, or events were committed while the feed was being set up) is filled from
the log before anything after it is released.
"""

from __future__ import annotations

import asyncio
import logging
import time
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from itertools import accumulate
from typing import Any

from dossier.core.events import SESSION_TERMINAL, Event
from dossier.core.ports import EventLog

log = logging.getLogger(__name__)


class Lagged(Exception):
    """The cursor is behind the live window: read from the log instead."""


class Writer:
    """One streaming reader's send state, for the hub's stall watchdog.

    A per-send timeout would arm and cancel a timer on every write (measured: the largest
    cost of a 1,000-subscriber fan-out); instead the hub's heartbeat tick looks at every
    writer once and gives up on the ones stuck in one send for too long: ``abort`` drops
    the connection (its unsent bytes with it) when the transport offers it, else the task
    is cancelled.
    """

    __slots__ = ("abort", "sending_since", "stalled", "task")

    def __init__(
        self, task: asyncio.Task[Any] | None, abort: Callable[[], None] | None = None
    ) -> None:
        self.task = task
        self.abort = abort
        self.sending_since = 0.0
        self.stalled = False

    def give_up(self) -> None:
        self.stalled = True
        if self.abort is not None:
            self.abort()
        elif self.task is not None:
            self.task.cancel()


class LiveFeed:
    """Recent events of one session; any number of readers by cursor.

    The window is a plain list trimmed in halves (amortised O(1) per event) rather than a
    deque: readers slice it by seq, and a deque's indexing is O(n) in the middle.
    """

    __slots__ = (
        "_bytes",
        "_changed",
        "_filling",
        "_pending",
        "ends",
        "events",
        "frames",
        "last_seq",
        "readers",
        "session_id",
        "terminal_seq",
        "window",
        "writers",
    )

    def __init__(self, session_id: str, last_seq: int, window: int) -> None:
        self.session_id = session_id
        self.window = window
        self.events: list[Event] = []
        self.frames: list[bytes] = []
        # ends[i]: bytes of every frame this feed released up to events[i] (a running
        # total, never rebased): a byte budget is one bisect, not a loop over frames.
        self.ends: list[int] = []
        self._bytes = 0
        self.last_seq = last_seq  # highest seq this feed has released
        self.readers = 0
        self._changed = asyncio.Event()
        self._pending: list[Event] = []
        self._filling = False
        self.writers: set[Writer] = set()
        # seq of session.completed once released: readers stop there unless following
        self.terminal_seq: int | None = None

    @property
    def first_seq(self) -> int:
        """Seq of the oldest event in the window (``last_seq + 1`` when empty)."""
        return self.events[0].seq if self.events else self.last_seq + 1

    def wake(self) -> None:
        old, self._changed = self._changed, asyncio.Event()
        old.set()

    async def wait(self) -> None:
        """Until new events are released or the hub's heartbeat tick."""
        await self._changed.wait()

    def release(self, events: Sequence[Event]) -> bool:
        """Append events that continue the sequence; False if a gap is detected."""
        if (
            events
            and events[0].seq == self.last_seq + 1
            and (events[-1].seq - events[0].seq == len(events) - 1)
        ):
            # The common case, one committed batch continuing the window: append in bulk.
            self.events.extend(events)
            frames = [e.frame for e in events]
            self.frames.extend(frames)
            totals = accumulate(map(len, frames), initial=self._bytes)
            next(totals)
            self.ends.extend(totals)
            self._bytes = self.ends[-1]
            self.last_seq = events[-1].seq
            if self.terminal_seq is None:
                self._note_terminal(events)
            self._trim()
            self.wake()
            return True
        added = False
        gap = False
        for event in events:
            if event.seq <= self.last_seq:
                continue  # already have it (or it is older than this feed)
            if event.seq != self.last_seq + 1:
                gap = True
                break
            self.events.append(event)
            self.frames.append(event.frame)
            self._bytes += len(event.frame)
            self.ends.append(self._bytes)
            self.last_seq = event.seq
            added = True
            if self.terminal_seq is None:
                self._note_terminal((event,))
        self._trim()
        if added:
            self.wake()
        return not gap

    @property
    def filling(self) -> bool:
        """True while missing events are being read from the log; deliveries are held."""
        return self._filling

    def begin_fill(self) -> bool:
        """Mark a fill from the log as under way; False if one already is."""
        if self._filling:
            return False
        self._filling = True
        return True

    def hold(self, events: Iterable[Event]) -> None:
        """Keep delivered events aside (a fill is under way, or they follow a gap) until
        :meth:`end_fill` hands them back."""
        self._pending.extend(events)

    def end_fill(self) -> list[Event]:
        """Mark the fill as over; return the held events (in arrival order) and forget them."""
        held, self._pending = self._pending, []
        self._filling = False
        return held

    def _note_terminal(self, events: Sequence[Event]) -> None:
        for event in events:
            if event.type == SESSION_TERMINAL:
                self.terminal_seq = event.seq
                return

    def chunk(
        self, after_seq: int, max_events: int, *, stop_at: int | None, max_bytes: int | None = None
    ) -> tuple[bytes, int]:
        """Joined frames after ``after_seq`` (at most ``max_events`` and ``max_bytes``, but
        at least one frame; never past ``stop_at``) and the seq of the last one;
        ``(b"", after_seq)`` when there is none.

        The SSE hot path: one slice and one join per wake-up, no per-event Python work.
        Raises Lagged if the window no longer holds ``after_seq + 1``.
        """
        last = self.last_seq if stop_at is None else min(self.last_seq, stop_at)
        if after_seq >= last:
            return b"", after_seq
        first = self.events[0].seq if self.events else self.last_seq + 1
        if after_seq + 1 < first:
            raise Lagged(after_seq)
        start = after_seq + 1 - first
        stop = min(start + max_events, last - first + 1)
        if max_bytes is not None:
            limit = self.ends[start] - len(self.frames[start]) + max_bytes
            if self.ends[stop - 1] > limit:
                stop = max(start + 1, bisect_right(self.ends, limit, start, stop))
        return b"".join(self.frames[start:stop]), first + stop - 1

    def _trim(self) -> None:
        if len(self.events) > 2 * self.window:
            drop = len(self.events) - self.window
            del self.events[:drop]
            del self.frames[:drop]
            del self.ends[:drop]

    def _slice(self, after_seq: int, max_events: int) -> tuple[int, int]:
        first = self.first_seq
        if after_seq + 1 < first:
            raise Lagged(after_seq)
        start = after_seq + 1 - first
        return start, min(len(self.events), start + max_events)

    def events_after(self, after_seq: int, max_events: int = 1000) -> list[Event]:
        """Like :meth:`read` without the frames (for in-process consumers)."""
        if after_seq >= self.last_seq:
            return []
        start, stop = self._slice(after_seq, max_events)
        return self.events[start:stop]

    def read(self, after_seq: int, max_events: int = 256) -> tuple[list[Event], bytes]:
        """Events with seq > ``after_seq`` from the window, and their frames joined.

        Raises Lagged if the window no longer holds ``after_seq + 1``.
        """
        if after_seq >= self.last_seq:
            return [], b""
        start, stop = self._slice(after_seq, max_events)
        return self.events[start:stop], b"".join(self.frames[start:stop])


class FeedHub:
    """The live feeds of this process, fed by the event log (and a cross-process bus)."""

    def __init__(
        self, log: EventLog, *, window: int, heartbeat_s: float, stall_timeout_s: float = 60.0
    ) -> None:
        self._log = log
        self._window = window
        self._heartbeat_s = heartbeat_s
        self._stall_timeout_s = stall_timeout_s
        self._feeds: dict[str, LiveFeed] = {}
        # Bounded by the open feeds: a feed is queued only while not already filling.
        self._fills: asyncio.Queue[str] = asyncio.Queue()
        # Called with every delivered batch, watched session or not (e.g. steering).
        self.observers: list[Callable[[Sequence[Event]], None]] = []

    @property
    def feeds(self) -> dict[str, LiveFeed]:
        return self._feeds

    def deliver(self, events: Sequence[Event]) -> None:
        """Offer logged events (any sessions, seq order within each) to open feeds."""
        if not events:
            return
        for observer in self.observers:
            try:
                observer(events)
            except Exception:
                log.exception("event observer failed")
        if len(events) == 1 or all(e.session == events[0].session for e in events):
            self._offer(events[0].session, events)
            return
        by_session: dict[str, list[Event]] = {}
        for event in events:
            by_session.setdefault(event.session, []).append(event)
        for session_id, session_events in by_session.items():
            self._offer(session_id, session_events)

    def _offer(self, session_id: str, events: Sequence[Event]) -> None:
        feed = self._feeds.get(session_id)
        if feed is None:
            return
        if feed.filling:
            feed.hold(events)
            return
        if not feed.release(events):
            feed.hold(e for e in events if e.seq > feed.last_seq)
            self._request_fill(feed)

    def _request_fill(self, feed: LiveFeed) -> None:
        if feed.begin_fill():
            self._fills.put_nowait(feed.session_id)

    async def open(self, session_id: str) -> LiveFeed:
        """The session's feed, created on first use; call :meth:`close` when done."""
        feed = self._feeds.get(session_id)
        if feed is None:
            last = await self._log.last_seq(session_id)
            feed = self._feeds.get(session_id)  # another opener may have won the race
            if feed is None:
                feed = LiveFeed(session_id, last, self._window)
                self._feeds[session_id] = feed
                # Close the window between reading last_seq and registering the feed:
                # anything committed meanwhile is visible now and is filled in before the
                # feed is handed out (deliveries meanwhile are held by the feed).
                feed.begin_fill()
                try:
                    await self._fill(session_id)
                except BaseException:
                    del self._feeds[session_id]
                    raise
        feed.readers += 1
        return feed

    def close(self, feed: LiveFeed) -> None:
        feed.readers -= 1
        if feed.readers <= 0 and self._feeds.get(feed.session_id) is feed:
            del self._feeds[feed.session_id]

    async def _fill(self, session_id: str) -> None:
        feed = self._feeds.get(session_id)
        if feed is None:
            return
        try:
            while True:
                missing = await self._log.read_after(session_id, feed.last_seq, limit=1000)
                if not missing:
                    break
                feed.release(missing)
                if len(missing) < 1000:
                    break
        finally:
            pending = feed.end_fill()
        if pending and not feed.release(sorted(pending, key=lambda e: e.seq)):
            feed.hold(e for e in pending if e.seq > feed.last_seq)
            self._request_fill(feed)

    async def run(self) -> None:
        """Heartbeat ticks and gap fills; runs for the life of the app."""
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self._tick())
            while True:
                session_id = await self._fills.get()
                try:
                    await self._fill(session_id)
                except Exception:
                    log.exception("filling feed %s failed", session_id)
                    feed = self._feeds.get(session_id)
                    if feed is not None:
                        # Never leave deliveries held behind a failed fill; what is held
                        # stays for the next one.
                        feed.hold(feed.end_fill())

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(min(self._heartbeat_s, self._stall_timeout_s / 2))
            now = time.monotonic()
            for feed in list(self._feeds.values()):
                for writer in list(feed.writers):
                    since = writer.sending_since
                    if since and now - since > self._stall_timeout_s and not writer.stalled:
                        writer.give_up()
                feed.wake()
                # A safety net for cross-process delivery: if a bus message was lost, the
                # durable log still says how far the session got.
                try:
                    if await self._log.last_seq(feed.session_id) > feed.last_seq:
                        self._request_fill(feed)
                except Exception:
                    log.debug("tick check of %s failed", feed.session_id, exc_info=True)
