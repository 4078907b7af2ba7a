"""Keeps SQLite write-ahead logs bounded (the event log's, and DBOS's system database).

A WAL file only shrinks when it is truncated, and only restarts from its beginning when a
checkpoint has copied every frame back before the next write begins. Under a steady
stream of writes neither happens with PASSIVE checkpoints alone: each one finishes
behind writes made while it ran, so the file grows for as long as the writes go on
(measured: 476 MB of WAL beside a 13 MB database after 10k chat questions). So:

* every connection sets ``journal_size_limit``: whenever the WAL does restart, it is cut
  back to the limit;
* a thread runs a PASSIVE checkpoint every ``every_s`` (copies frames without blocking
  anyone; the fsyncs stay off the event loop), and looks at the file's size four times a
  second: over the limit, a TRUNCATE checkpoint waits for writers and readers to step
  aside, copies the rest and empties the file. Its wait is capped (``busy_ms``): past it
  the checkpoint gives up without truncating and the next look tries again, so a writer
  is never held for long. (Measured, 10k questions in-process: the WAL peaks near twice
  the limit instead of growing with every write; bench/wal_growth.py.)
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger(__name__)

WAL_LIMIT_BYTES = 16 * 1024 * 1024
CHECKPOINT_EVERY_S = 2.0
_LOOK_EVERY_S = 0.25  # a stat() of the WAL file: cheap


def wal_path(db: Path) -> Path:
    return db.with_name(db.name + "-wal")


def wal_size(db: Path) -> int:
    try:
        return wal_path(db).stat().st_size
    except FileNotFoundError:
        return 0


class WalKeeper:
    """A daemon thread checkpointing some SQLite files (``start`` / ``stop``)."""

    def __init__(
        self,
        paths: Sequence[Path],
        *,
        limit_bytes: int = WAL_LIMIT_BYTES,
        every_s: float = CHECKPOINT_EVERY_S,
        busy_ms: int = 200,
    ) -> None:
        self.paths = tuple(paths)
        self.limit_bytes = limit_bytes
        self.every_s = every_s
        self.busy_ms = busy_ms
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conns: dict[Path, sqlite3.Connection] = {}

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="dossier-wal", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        self._close()

    def _run(self) -> None:
        last_passive = time.monotonic()
        try:
            while not self._stop.wait(min(self.every_s, _LOOK_EVERY_S)):
                passive = time.monotonic() - last_passive >= self.every_s
                if passive:
                    last_passive = time.monotonic()
                self.tick(passive=passive)
        finally:
            self._close()

    def tick(self, *, passive: bool = True) -> None:
        """A PASSIVE checkpoint of every file, then a TRUNCATE one of those over the limit."""
        for path in self.paths:
            if not path.exists():
                continue  # not created yet
            try:
                conn = self._conn(path)
                if passive:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                if wal_size(path) > self.limit_bytes:
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            except sqlite3.Error:
                log.debug("checkpoint of %s failed", path, exc_info=True)

    def _conn(self, path: Path) -> sqlite3.Connection:
        conn = self._conns.get(path)
        if conn is None:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout={int(self.busy_ms)}")
            conn.execute(f"PRAGMA journal_size_limit={int(self.limit_bytes)}")
            self._conns[path] = conn
        return conn

    def _close(self) -> None:
        conns, self._conns = self._conns, {}
        for conn in conns.values():
            with contextlib.suppress(sqlite3.Error):
                conn.close()
