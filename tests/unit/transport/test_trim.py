"""The C heap is trimmed after a wave of streams ended, not after every closed tab."""

from __future__ import annotations

import asyncio

import pytest

from dossier.transport import trim
from dossier.transport.trim import AFTER_ENDED, MemoryTrim


async def test_a_wave_of_ended_streams_trims_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trim, "DELAY_S", 0.0)
    calls: list[int] = []

    def fake_trim(pad: int) -> int:
        calls.append(pad)
        return 1

    memory = MemoryTrim(fake_trim)
    for _ in range(AFTER_ENDED - 1):
        memory.note()
    await asyncio.sleep(0.01)
    assert calls == []  # a few tabs closing trims nothing
    for _ in range(AFTER_ENDED * 3):
        memory.note()  # the wave: one trim pending at a time
    await asyncio.sleep(0.01)
    assert calls == [0]
