"""The SQLite WAL stays bounded: writes that never stop, with readers holding snapshots
while checkpoints run, grow it past its limit; once the readers let go, the next
checkpoint truncates it, and the log is intact."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa

from dossier.core.events import EventType, NewEvent
from dossier.eventlog.sqlite import SqliteEventLog
from dossier.eventlog.wal import WAL_LIMIT_BYTES, wal_size
from dossier.workflows.engine import _sqlite_engine
from tests.unit.eventlog.test_event_log import record

LIMIT = 256 * 1024


async def test_the_wal_is_truncated_back_under_its_limit(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite"
    # The thread's own ticks are out of the way: the test ticks by hand.
    event_log = SqliteEventLog(path, wal_limit_bytes=LIMIT, checkpoint_every_s=3600)
    await event_log.start()
    await event_log.create_session(record())
    reader = sqlite3.connect(path, isolation_level=None)
    try:
        for _ in range(6):
            # A reader holds a snapshot across writes and the checkpoint: the checkpoint
            # cannot finish behind it, so the WAL never starts over and keeps growing.
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM events").fetchone()
            for _ in range(30):
                question = NewEvent(type=EventType.CHAT_QUESTION, data={"text": "x" * 2000})
                await event_log.append("s_1", [question])
            event_log.wal.tick()  # gives up on truncating while the reader holds on
            reader.execute("COMMIT")
        assert wal_size(path) > LIMIT  # the situation is real

        event_log.wal.tick()

        assert wal_size(path) <= LIMIT
        events = await event_log.read_after("s_1", 0, limit=1000)
        assert [e.seq for e in events] == list(range(1, 181))
    finally:
        reader.close()
        await event_log.close()


def test_dbos_sqlite_connections_carry_the_wal_limit(tmp_path: Path) -> None:
    engine = _sqlite_engine(f"sqlite:///{tmp_path / 'dbos.sqlite'}")
    try:
        with engine.connect() as conn:
            limit = conn.execute(sa.text("PRAGMA journal_size_limit")).scalar()
    finally:
        engine.dispose()
    assert limit == WAL_LIMIT_BYTES
