"""A burst of identical questions is answered once and shared; different ones are not.
A question id is one turn (a reused one is refused); turns are capped per principal."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from dossier.core.chat import ChatService
from dossier.core.events import Event, EventType, NewEvent
from dossier.core.ports import ProviderChunk, QuestionRequest
from dossier.core.privacy import Viewer
from dossier.core.snapshot import SnapshotBuilder
from dossier.core.states import SessionStatus
from dossier.errors import Conflict
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

    await chat.answer("s_1", qid, question, emit, asker="local")
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


class LoggedSession(FinishedSession):
    """A finished session whose chat goes on a log (dedup keys honoured, as the real one)."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[Event] = []
        self.keys: set[str] = set()

    async def append(self, session_id: str, events: list[NewEvent]) -> None:
        for new in events:
            if new.dedup is not None:
                if new.dedup in self.keys:
                    continue
                self.keys.add(new.dedup)
            event = Event.build(len(self.events) + 1, session_id, new)
            self.events.append(event)
            self.builder.apply(event)


def logging_service(session: LoggedSession, max_turns: int = 1000) -> ChatService:
    provider = CountingProvider()
    return ChatService(
        session,
        session.append,
        provider.stream,
        cache=None,
        provider_name="builtin",
        deterministic=True,
        max_turns=max_turns,
    )


async def test_a_reused_question_id_is_refused_and_nothing_is_overwritten() -> None:
    session = LoggedSession()
    chat = logging_service(session)
    await ask(chat, "q1", "Who is the CEO?")
    first = session.builder.chat["q1"].answer
    for asker in ("local", "p_someone_else"):
        with pytest.raises(Conflict) as refused:
            await chat.answer(
                "s_1", "q1", "What technology do they use?", emit_nothing, asker=asker
            )
        assert refused.value.code == "duplicate_id"
        with pytest.raises(Conflict):
            await chat.turns.check("s_1", "q1", asker)
    turn = session.builder.chat["q1"]
    assert turn.question == "Who is the CEO?" and turn.answer == first
    assert [e.type for e in session.events] == [EventType.CHAT_QUESTION, EventType.ANSWER_END]


async def test_an_id_being_answered_is_taken_before_the_log_has_it() -> None:
    session = LoggedSession()
    chat = logging_service(session)
    results = await asyncio.gather(
        ask(chat, "q1", "Who is the CEO?"),
        chat.answer("s_1", "q1", "Who else?", emit_nothing, asker="local"),
        return_exceptions=True,
    )
    assert isinstance(results[1], Conflict) and results[1].code == "duplicate_id"
    assert [e.data["content"] for e in session.events if e.type == "chat.question"] == [
        "Who is the CEO?"
    ]


async def test_questions_are_capped_per_principal_and_session() -> None:
    session = LoggedSession()
    chat = logging_service(session, max_turns=2)
    await ask(chat, "q1", "Who is the CEO?")
    await ask(chat, "q2", "Who is the CEO?")
    with pytest.raises(Conflict) as refused:
        await chat.answer("s_1", "q3", "Who is the CEO?", emit_nothing, asker="local")
    assert refused.value.code == "too_many_turns"
    # someone who joined has questions of their own: the owner's do not use them up
    await chat.answer("s_1", "q4", "Who is the CEO?", emit_nothing, asker="p_bob")
    assert sorted(session.builder.chat) == ["q1", "q2", "q4"]


async def test_a_revision_goes_only_to_listeners_who_may_see_its_asker() -> None:
    session = LoggedSession()
    session.builder.status = SessionStatus.RUNNING  # nothing collected yet: pending
    chat = logging_service(session)
    heard: dict[str, list[dict[str, Any]]] = {"p_alice": [], "p_bob": []}

    def hear(who: str) -> Callable[[dict[str, Any]], Awaitable[None]]:
        async def listener(frame: dict[str, Any]) -> None:
            heard[who].append(frame)

        return listener

    for who in heard:
        chat.listen("s_1", hear(who), Viewer(who, owner=who == "p_alice"))
    await chat.answer("s_1", "qa", "Who is the CEO?", emit_nothing, asker="p_alice")
    end = Event.build(99, "s_1", NewEvent(EventType.SESSION_COMPLETED, {}))
    session.builder.apply(end)
    chat.observe([end])
    for _ in range(100):
        if any(f["type"] == "answer.revised" for f in heard["p_alice"]):
            break
        await asyncio.sleep(0.02)
    await chat.close()
    assert [f["id"] for f in heard["p_alice"] if f["type"] == "answer.revised"] == ["qa"]
    assert not [f for f in heard["p_bob"] if f["type"] == "answer.revised"]
    revised = [e for e in session.events if e.type == EventType.ANSWER_REVISED]
    assert revised[0].data["asker"] == "p_alice"


async def emit_nothing(frame: dict[str, Any]) -> None:
    return None
