"""Group commit: many callers' writes, one transaction per burst.

A commit costs about the same for one write as for sixty, so writes arriving together
share one: callers :meth:`GroupCommit.submit` a unit of work and await their own op's
outcome, while one writer hands everything queued to the backend's ``commit`` callable,
batch after batch. What a batch *does* (SQL, savepoints, publishing what was written) is
the backend's; this module only owns the queue, the batching and who hears what.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar, cast

from dossier.errors import Unavailable

W = TypeVar("W")  # what one caller asks to have written
R = TypeVar("R")  # what that caller gets back

_UNSET = object()


class Op(Generic[W, R]):
    """One caller's unit of work inside a batch; ``commit`` gives it its outcome."""

    __slots__ = ("_error", "_result", "work")

    def __init__(self, work: W) -> None:
        self.work = work
        self._result: object = _UNSET
        self._error: BaseException | None = None

    def succeed(self, result: R) -> None:
        """This op's work is done; its caller gets ``result`` once the batch is committed."""
        self._result, self._error = result, None

    def fail(self, error: BaseException) -> None:
        """This op failed (the rest of the batch may still commit); its caller gets ``error``."""
        self._result, self._error = _UNSET, error

    @property
    def ok(self) -> bool:
        """True once :meth:`succeed` was called (and not overruled by :meth:`fail`)."""
        return self._error is None and self._result is not _UNSET

    @property
    def result(self) -> R:
        """The value given to :meth:`succeed`; raises RuntimeError if the op has not succeeded."""
        if not self.ok:
            raise RuntimeError("the op has no result")
        return cast(R, self._result)

    def outcome(self) -> tuple[R | None, BaseException | None]:
        """(result, None) or (None, error); an op the commit left alone is an error."""
        if self._error is not None:
            return None, self._error
        if self._result is _UNSET:
            return None, RuntimeError("the commit gave this op no outcome")
        return cast(R, self._result), None


CommitBatch = Callable[[Sequence[Op[W, R]]], Awaitable[None]]


class GroupCommit(Generic[W, R]):
    """Batches submitted work into as few ``commit`` calls as possible, in order.

    ``commit(batch)`` runs one batch (at most ``max_batch_ops`` ops, in submission order)
    in one transaction and gives each op an outcome with :meth:`Op.succeed` or
    :meth:`Op.fail`; a failed op must not take the others down (a savepoint each). If
    ``commit`` raises, nothing of the batch was written, so every op of it fails with
    that exception. Batches never overlap: the next one starts once the previous one's
    callers have their outcome, so what ``commit`` does after its transaction (publishing
    the written rows, say) happens in batch order and before any of its callers resumes.

    Everything queued while a batch commits goes into the next one. A ``commit`` that
    never awaits (SQLite on the loop) therefore batches exactly what was submitted within
    one loop iteration; one that awaits I/O batches what arrived during the round trip.

    Made on the event loop it serves; submitting from another thread's loop hops onto it.
    ``commit`` must not submit to its own engine: it would wait for itself.
    """

    def __init__(self, commit: CommitBatch[W, R], *, max_batch_ops: int = 64) -> None:
        if max_batch_ops < 1:
            raise ValueError("max_batch_ops must be at least 1")
        self._commit = commit
        self._max_batch_ops = max_batch_ops
        self._loop = asyncio.get_running_loop()
        self._queue: list[tuple[Op[W, R], asyncio.Future[R]]] = []
        self._batch: list[tuple[Op[W, R], asyncio.Future[R]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    async def submit(self, work: W) -> R:
        """Queue ``work`` for the next batch; return its result once that batch committed.

        Raises what ``commit`` gave this op (or raised for its whole batch), and
        Unavailable once closed. Cancelling the caller does not withdraw the work: it
        may already be part of a transaction, so it is written (or not) with its batch.
        """
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # Futures belong to one loop and the writer resolves them from its own.
            done = asyncio.run_coroutine_threadsafe(self.submit(work), self._loop)
            return await asyncio.wrap_future(done)
        if self._closed:
            raise Unavailable("event log is closed")
        future: asyncio.Future[R] = loop.create_future()
        self._queue.append((Op(work), future))
        if self._writer is None:
            # Owned, not fire-and-forget: it never raises into the loop (every outcome goes
            # to a caller) and ``close`` waits for it. Its first step runs after this loop
            # iteration, so whatever else is submitted meanwhile joins the same batch.
            self._writer = loop.create_task(self._drain(), name="dossier-group-commit")
            self._writer.add_done_callback(self._writer_ended)
        return await future

    async def close(self) -> None:
        """Refuse new work, then wait until everything already submitted is committed."""
        self._closed = True
        writer = self._writer
        if writer is not None:
            # ``wait``, not ``await``: cancelling the closer must not cancel the writer
            # halfway through other callers' batch.
            await asyncio.wait({writer})

    async def _drain(self) -> None:
        while self._queue:
            self._batch = self._queue[: self._max_batch_ops]
            del self._queue[: self._max_batch_ops]
            ops = [op for op, _ in self._batch]
            try:
                await self._commit(ops)
            except Exception as exc:
                for op in ops:
                    op.fail(exc)
            for op, future in self._batch:
                _resolve(future, *op.outcome())
            self._batch = []
        # In the same step as the last look at the queue: the next submit starts a writer.
        self._writer = None

    def _writer_ended(self, writer: asyncio.Task[None]) -> None:
        if self._writer is not writer:
            return  # drained
        # Cancelled (loop shutdown), possibly before its first step: whether the batch in
        # flight was written is unknown and nothing will commit the queue, yet no caller
        # may be left waiting.
        self._writer = None
        left = [*self._batch, *self._queue]
        self._batch, self._queue = [], []
        for _, future in left:
            _resolve(future, None, Unavailable("event log write interrupted"))


def _resolve(future: asyncio.Future[R], result: R | None, error: BaseException | None) -> None:
    if future.done():  # the caller was cancelled: nobody is waiting
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(cast(R, result))
