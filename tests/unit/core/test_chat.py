"""A burst of identical questions is answered once and shared; different ones are not."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from dossier.core.chat import ChatService
from dossier.core.events import Event, EventType, NewEvent
from dossier.core.ports import ProviderChunk, QuestionRequest
from dossier.core.snapshot import SnapshotBuilder
from dossier.core.states import SessionStatus
from tests.fakes import FakeProvider


class FinishedSession:
    def __init__(self) -> None:
        self.builder = SnapshotBuilder("s_1")
        self.builder.status = SessionStatus.COMPLETED

    async def state(self, session_id: str) -> SnapshotBuilder:
        return self.builder


class CountingProvider(FakeProvider):
    def __init__(self) -> None:
        # the pause: the others arrive while this answer is being made
        super().__init__("Hello world.", pause_s=0.01)

    @property
    def calls(self) -> list[str]:
        return [q.intent for q in self.questions]

    async def stream(self, request: QuestionRequest) -> AsyncIterator[tuple[ProviderChunk, str]]:
        async for chunk in self.answer(request):
            yield chunk, self.name


async def no_log(session_id: str, events: list[NewEvent]) -> None:
    return None


def service(provider: CountingProvider) -> ChatService:
    return ChatService(
        FinishedSession(),
        no_log,
        provider.stream,
        cache=None,
        provider_name="builtin",
        deterministic=True,
    )


async def ask(chat: ChatService, qid: str, question: str) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []

    async def emit(frame: dict[str, Any]) -> None:
        frames.append(frame)

    await chat.answer("s_1", qid, question, emit)
    return frames


async def test_a_burst_of_the_same_question_is_composed_once_and_everyone_gets_it() -> None:
    provider = CountingProvider()
    chat = service(provider)
    answers = await asyncio.gather(
        *(ask(chat, f"q{i}", "What technology do they use?") for i in range(50))
    )
    assert provider.calls == ["tech_stack"]
    for i, frames in enumerate(answers):
        deltas = [f["text"] for f in frames if f["type"] == "answer.delta"]
        assert "".join(deltas) == "Hello world."
        assert frames[-1]["type"] == "answer.end" and frames[-1]["id"] == f"q{i}"
        assert frames[-1]["partial"] is False


async def test_different_questions_and_later_asks_are_answered_on_their_own() -> None:
    provider = CountingProvider()
    chat = service(provider)
    await asyncio.gather(
        ask(chat, "a", "What technology do they use?"), ask(chat, "b", "Who is the CEO?")
    )
    assert sorted(provider.calls) == ["people", "tech_stack"]
    await ask(chat, "c", "What technology do they use?")  # the first burst is over
    assert len(provider.calls) == 3


async def test_questions_waiting_for_the_same_data_are_revised_by_one_composition() -> None:
    provider = CountingProvider()
    session = FinishedSession()
    session.builder.status = SessionStatus.RUNNING  # nothing collected yet: all pending
    chat = ChatService(
        session, no_log, provider.stream, cache=None, provider_name="builtin", deterministic=True
    )
    revised: list[dict[str, Any]] = []

    async def hear(frame: dict[str, Any]) -> None:
        revised.append(frame)

    chat.listen("s_1", hear)
    answers = await asyncio.gather(*(ask(chat, f"q{i}", "Who is the CEO?") for i in range(20)))
    assert all(frames[0]["pending"] for frames in answers)
    assert provider.calls == ["people"]

    # revisions follow the session's events (no clock): its end wakes them
    end = Event.build(9, "s_1", NewEvent(EventType.SESSION_COMPLETED, {}))
    session.builder.apply(end)
    chat.observe([end])

    def revised_only() -> list[dict[str, Any]]:
        return [f for f in revised if f["type"] == "answer.revised"]

    for _ in range(100):
        if len(revised_only()) == 20:
            break
        await asyncio.sleep(0.05)
    await chat.close()
    assert sorted(r["id"] for r in revised_only()) == sorted(f"q{i}" for i in range(20))
    assert {r["text"] for r in revised_only()} == {"Hello world."}
    assert all(r["pending"] == [] for r in revised_only())
    assert provider.calls == ["people", "people"]
