"""What one collector run shares with the HTTP path: its steering, and what it was served.

A collect step opens a :class:`RequestScope` around its collector; :class:`SourceHttp`
reads it (a context variable, so concurrent collectors each see their own) to

- refuse new requests once the user stopped the research (:class:`~dossier.errors.Stopped`
  at the next request boundary: the request in flight finishes, its findings are kept);
- order waiting requests by priority (``focus`` puts a data type's requests first);
- count the requests this collector really sent, and the answers that came from
  constructed (sample) recordings, so its findings can say so.

:class:`PriorityGate` is the admission queue behind the priorities: at most ``limit``
holders, waiters admitted by (priority now, arrival), priority read at admission time so a
``focus`` given while a request waits still moves it forward.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

NORMAL_PRIORITY = 1
FOCUS_PRIORITY = 0


def _never() -> bool:
    return False


def _normal() -> int:
    return NORMAL_PRIORITY


@dataclass
class RequestScope:
    """One collector run, as the HTTP path sees it."""

    stop_requested: Callable[[], bool] = _never
    priority: Callable[[], int] = _normal
    requests: int = 0
    samples: int = 0  # answers served from constructed recordings (replay only)


_SCOPE: ContextVar[RequestScope | None] = ContextVar("dossier_request_scope", default=None)


@contextmanager
def request_scope(scope: RequestScope) -> Iterator[RequestScope]:
    """Make ``scope`` current for this task and the tasks it starts."""
    token = _SCOPE.set(scope)
    try:
        yield scope
    finally:
        _SCOPE.reset(token)


def current_scope() -> RequestScope | None:
    return _SCOPE.get()


def current_priority() -> Callable[[], int]:
    """The current scope's priority *function*, bound now: a gate calls it later, from
    whichever task releases a slot, where this task's context is not current."""
    scope = _SCOPE.get()
    return scope.priority if scope is not None else _normal


@dataclass(eq=False)
class _Waiter:
    priority: Callable[[], int]
    arrival: int
    admitted: asyncio.Future[None] = field(repr=False)


class PriorityGate:
    """A semaphore whose waiters are admitted by priority, then arrival."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self._limit = limit
        self._holders = 0
        self._waiters: list[_Waiter] = []
        self._arrivals = itertools.count()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    async def acquire(self, priority: Callable[[], int] = _normal) -> None:
        if self._holders < self._limit and not self._waiters:
            self._holders += 1
            return
        waiter = _Waiter(priority, next(self._arrivals), asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        try:
            await waiter.admitted
        except asyncio.CancelledError:
            if waiter.admitted.done() and not waiter.admitted.cancelled():
                self.release()  # admitted just as we were cancelled: pass the slot on
            else:
                self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        self._holders -= 1
        while self._holders < self._limit and self._waiters:
            best = min(self._waiters, key=lambda w: (w.priority(), w.arrival))
            self._waiters.remove(best)
            if best.admitted.done():
                continue
            self._holders += 1
            best.admitted.set_result(None)
