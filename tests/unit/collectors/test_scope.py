"""The admission queue behind ``focus``: priority read when a slot frees, not when asked."""

from __future__ import annotations

import asyncio

import pytest

from dossier.collectors.scope import FOCUS_PRIORITY, NORMAL_PRIORITY, PriorityGate


async def test_waiters_are_admitted_by_priority_then_arrival() -> None:
    gate = PriorityGate(1)
    await gate.acquire()
    order: list[str] = []
    focus = {"news": False}

    async def wait(name: str) -> None:
        await gate.acquire(lambda: FOCUS_PRIORITY if focus.get(name) else NORMAL_PRIORITY)
        order.append(name)
        gate.release()

    tasks = [asyncio.create_task(wait(n)) for n in ("jobs", "people", "news")]
    await asyncio.sleep(0)
    assert gate.waiting == 3
    focus["news"] = True  # focused while waiting: it still goes first
    gate.release()
    await asyncio.gather(*tasks)
    assert order == ["news", "jobs", "people"]


async def test_a_cancelled_waiter_gives_up_its_place_and_admission() -> None:
    gate = PriorityGate(1)
    await gate.acquire()
    waiter = asyncio.create_task(gate.acquire())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert gate.waiting == 0
    gate.release()
    await asyncio.wait_for(gate.acquire(), 1)  # the slot is free again


def test_a_gate_needs_room() -> None:
    with pytest.raises(ValueError):
        PriorityGate(0)
