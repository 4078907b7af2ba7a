"""One producer, many readers: a stream that everyone who asks for the same thing shares.

When 200 people ask the same question of the same data at the same moment, the answer is
looked up, composed and stored once; every asker reads the same chunks, from the first
one, as they are made (a late reader catches up from the buffer, then follows). Imports
nothing of ours.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class SharedStream(Generic[T]):
    """Runs ``source`` in its own task and replays its chunks to every reader.

    The producer outlives any one reader (a reader that leaves does not cut the others
    short) but not all of them: when the last reader leaves before the end, the producer
    is cancelled, so nobody pays for an answer no one waits for. ``on_close`` runs once,
    when the producer is finished or cancelled; use it to forget the stream.

    The producer starts with the first reader (a stream nobody reads runs nothing), so its
    task always has an owner: the readers, the last of whom ends it.
    """

    def __init__(self, source: AsyncIterator[T], on_close: Callable[[], object]) -> None:
        self._chunks: list[T] = []
        self._error: BaseException | None = None
        self._done = False
        self._readers = 0
        self._changed = asyncio.Condition()
        self._on_close = on_close
        self._source = source
        self._task: asyncio.Task[None] | None = None

    @property
    def done(self) -> bool:
        return self._done

    async def _pump(self, source: AsyncIterator[T]) -> None:
        try:
            async for chunk in source:
                async with self._changed:
                    self._chunks.append(chunk)
                    self._changed.notify_all()
        except asyncio.CancelledError:
            self._error = asyncio.CancelledError()
            raise
        except Exception as exc:  # handed to every reader, raised there
            self._error = exc
        finally:
            self._done = True
            self._on_close()
            with contextlib.suppress(RuntimeError):  # the loop may be closing
                async with self._changed:
                    self._changed.notify_all()

    async def read(self) -> AsyncGenerator[T, None]:
        """Every chunk from the first, then each new one; raises the producer's error."""
        self._readers += 1
        if self._task is None:
            self._task = asyncio.create_task(self._pump(self._source), name="shared-stream")
        seen = 0
        try:
            while True:
                while seen < len(self._chunks):
                    chunk = self._chunks[seen]
                    seen += 1
                    yield chunk
                if self._done:
                    if self._error is not None:
                        raise self._error
                    return
                async with self._changed:
                    while seen >= len(self._chunks) and not self._done:
                        await self._changed.wait()
        finally:
            self._readers -= 1
            if self._readers == 0 and not self._done and self._task is not None:
                self._task.cancel()
