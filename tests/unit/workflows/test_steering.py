"""The steering board: one channel (events from the log), waits without polling, and
per-session state freed when the session ends."""

from __future__ import annotations

import asyncio

from dossier.core.events import Event, EventType, NewEvent
from dossier.workflows.steering import SteeringBoard


def logged(seq: int, session: str, type_: str, **data: object) -> Event:
    return Event.build(seq, session, NewEvent(type_, dict(data)))


async def test_a_logged_skip_wakes_a_waiting_step_at_once() -> None:
    board = SteeringBoard()
    waiting = asyncio.ensure_future(board.next_change("s_1"))
    await asyncio.sleep(0)
    assert not waiting.done()
    board.observe([logged(3, "s_1", EventType.STEER_ACK, action="skip", target="jobs")])
    await asyncio.wait_for(waiting, 1)
    assert board.skipped("s_1", "greenhouse", frozenset({"jobs"}))
    assert not board.skipped("s_1", "hn", frozenset({"news"}))


async def test_other_sessions_do_not_wake() -> None:
    board = SteeringBoard()
    waiting = asyncio.ensure_future(board.next_change("s_1"))
    board.observe([logged(3, "s_2", EventType.STEER_ACK, action="stop_and_summarize")])
    await asyncio.sleep(0.01)
    assert not waiting.done()
    waiting.cancel()


def test_a_cancelled_end_stops_everything_and_an_ended_session_is_freed() -> None:
    board = SteeringBoard()
    board.observe([logged(3, "s_1", EventType.STEER_ACK, action="focus", target="news")])
    assert len(board) == 1
    with board.running("s_1"):
        board.observe([logged(9, "s_1", EventType.SESSION_COMPLETED, status="cancelled")])
        # a step still running here keeps seeing the cancel
        assert board.stopping("s_1") and board.skipped("s_1", "hn", frozenset({"news"}))
        assert len(board) == 1
    assert len(board) == 0  # the last step left: nothing kept for an ended session
    assert board.needs_restore("s_1")  # a later reader would re-learn it from the log


def test_sessions_that_end_without_steps_here_are_freed_at_once() -> None:
    board = SteeringBoard()
    for n in range(100):
        board.observe([logged(2, f"s_{n}", EventType.STEER_ACK, action="skip", target="jobs")])
        board.observe([logged(5, f"s_{n}", EventType.SESSION_COMPLETED, status="completed")])
    assert len(board) == 0
