"""Logging a dependency that is down: once when it goes, a summary while it stays, once
when it is back. A Redis outage used to log a traceback a second (the bus retries every
second, the cache on every request), burying everything else. Imports nothing of ours.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

SUMMARY_EVERY_S = 60.0


class Outage:
    """The state of one dependency as its callers see it (not thread-safe: one loop)."""

    def __init__(
        self,
        what: str,
        log: logging.Logger,
        *,
        summary_every_s: float = SUMMARY_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.what = what
        self._log = log
        self._every = summary_every_s
        self._clock = clock
        self.down_since: float | None = None
        self.last_error: str | None = None
        self._failures = 0  # since the last line logged
        self._total = 0
        self._said_at = 0.0

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def failed(self, exc: BaseException) -> None:
        now = self._clock()
        self.last_error = f"{type(exc).__name__}: {exc}"
        self._total += 1
        if self.down_since is None:
            self.down_since, self._said_at, self._failures = now, now, 0
            self._log.warning("%s is unreachable (%s); retrying quietly", self.what, exc)
            return
        self._failures += 1
        if now - self._said_at >= self._every:
            self._log.warning(
                "%s still unreachable after %.0f s (%d more failures; last: %s)",
                self.what,
                now - self.down_since,
                self._failures,
                self.last_error,
            )
            self._said_at, self._failures = now, 0

    def ok(self) -> None:
        if self.down_since is None:
            return
        self._log.warning(
            "%s is reachable again after %.0f s (%d failures)",
            self.what,
            self._clock() - self.down_since,
            self._total,
        )
        self.down_since, self.last_error, self._total, self._failures = None, None, 0, 0
