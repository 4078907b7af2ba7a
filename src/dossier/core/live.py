"""Live session state: a snapshot kept current from the session's feed.

Snapshots and the chat read state many times a second while a session runs; folding the
whole log each time would be wasteful. A :class:`LiveState` holds the fold and catches up
on demand from the live window (or from the log when it lagged). States are kept for a
bounded number of recently used sessions.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from dossier.core.feed import FeedHub, Lagged, LiveFeed
from dossier.core.ports import EventLog
from dossier.core.snapshot import SnapshotBuilder


class LiveState:
    def __init__(self, session_id: str, feed: LiveFeed, log: EventLog) -> None:
        self.session_id = session_id
        self.feed = feed
        self.builder = SnapshotBuilder(session_id)
        self._log = log
        self._lock = asyncio.Lock()

    async def catch_up(self) -> SnapshotBuilder:
        """Apply everything logged so far (in order); return the fold."""
        async with self._lock:
            while True:
                try:
                    events = self.feed.events_after(self.builder.last_seq)
                except Lagged:
                    events = await self._log.read_after(
                        self.session_id, self.builder.last_seq, limit=1000
                    )
                if not events:
                    break
                self.builder.apply_all(events)
            return self.builder


class LiveStates:
    """LRU of live states; each keeps its session's feed open while cached."""

    def __init__(self, hub: FeedHub, log: EventLog, *, capacity: int = 256) -> None:
        self._hub = hub
        self._log = log
        self._capacity = capacity
        self._states: OrderedDict[str, LiveState] = OrderedDict()
        self._opening: dict[str, asyncio.Future[LiveState]] = {}

    async def get(self, session_id: str) -> LiveState:
        state = self._states.get(session_id)
        if state is not None:
            self._states.move_to_end(session_id)
            return state
        pending = self._opening.get(session_id)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[LiveState] = asyncio.get_running_loop().create_future()
        self._opening[session_id] = future
        try:
            feed = await self._hub.open(session_id)
            state = LiveState(session_id, feed, self._log)
            self._states[session_id] = state
            future.set_result(state)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: the caller sees it raised below
            raise
        finally:
            del self._opening[session_id]
        while len(self._states) > self._capacity:
            _, evicted = self._states.popitem(last=False)
            self._hub.close(evicted.feed)
        return state

    def drop(self, session_id: str) -> None:
        state = self._states.pop(session_id, None)
        if state is not None:
            self._hub.close(state.feed)

    def close(self) -> None:
        for session_id in list(self._states):
            self.drop(session_id)
