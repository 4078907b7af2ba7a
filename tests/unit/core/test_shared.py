"""SharedStream: one producer, every reader sees every chunk from the first, once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from dossier.core.shared import SharedStream
from dossier.errors import Unavailable


class Gate:
    """A producer that yields when told to, and counts how often it was started."""

    def __init__(self) -> None:
        self.started = 0
        self.cancelled = False
        self.release: asyncio.Queue[str | None] = asyncio.Queue()

    async def source(self) -> AsyncIterator[str]:
        self.started += 1
        try:
            while (chunk := await self.release.get()) is not None:
                if chunk == "boom":
                    raise Unavailable("the provider is down")
                yield chunk
        except asyncio.CancelledError:
            self.cancelled = True
            raise


async def collect(stream: SharedStream[str]) -> list[str]:
    async with contextlib.aclosing(stream.read()) as chunks:
        return [c async for c in chunks]


async def test_every_reader_gets_every_chunk_including_a_late_one() -> None:
    gate, closed = Gate(), []
    stream = SharedStream(gate.source(), on_close=lambda: closed.append(True))
    early = [asyncio.create_task(collect(stream)) for _ in range(3)]
    await gate.release.put("a")
    await gate.release.put("b")
    await asyncio.sleep(0.01)
    late = asyncio.create_task(collect(stream))  # joins after two chunks were made
    await gate.release.put("c")
    await gate.release.put(None)
    results = await asyncio.gather(*early, late)
    assert results == [["a", "b", "c"]] * 4
    assert gate.started == 1
    assert closed == [True] and stream.done


async def test_a_reader_after_the_end_replays_the_whole_stream() -> None:
    gate = Gate()
    stream = SharedStream(gate.source(), on_close=lambda: None)
    first = asyncio.create_task(collect(stream))
    for chunk in ("x", "y", None):
        await gate.release.put(chunk)
    assert await first == ["x", "y"]
    assert await collect(stream) == ["x", "y"]


async def test_the_producers_error_reaches_every_reader_after_its_chunks() -> None:
    gate = Gate()
    stream = SharedStream(gate.source(), on_close=lambda: None)
    seen: list[list[str]] = [[], []]

    async def read(into: list[str]) -> None:
        async with contextlib.aclosing(stream.read()) as chunks:
            async for chunk in chunks:
                into.append(chunk)

    readers = [asyncio.create_task(read(s)) for s in seen]
    await gate.release.put("partial")
    await gate.release.put("boom")
    outcomes = await asyncio.gather(*readers, return_exceptions=True)
    assert all(isinstance(o, Unavailable) for o in outcomes)
    assert seen == [["partial"], ["partial"]]


async def test_one_reader_leaving_does_not_cut_the_others_short() -> None:
    gate = Gate()
    stream = SharedStream(gate.source(), on_close=lambda: None)
    leaver = asyncio.create_task(collect(stream))
    stayer = asyncio.create_task(collect(stream))
    await gate.release.put("a")
    await asyncio.sleep(0.01)
    leaver.cancel()
    await gate.release.put("b")
    await gate.release.put(None)
    assert await stayer == ["a", "b"]
    with pytest.raises(asyncio.CancelledError):
        await leaver
    assert not gate.cancelled


async def test_the_producer_stops_when_the_last_reader_leaves() -> None:
    gate, closed = Gate(), []
    stream = SharedStream(gate.source(), on_close=lambda: closed.append(True))
    only = asyncio.create_task(collect(stream))
    await gate.release.put("a")
    await asyncio.sleep(0.01)
    only.cancel()
    await asyncio.sleep(0.01)
    assert gate.cancelled
    assert closed == [True] and stream.done
