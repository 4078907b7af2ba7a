"""The chat: answer a question now, from whatever the session knows, and revise it later.

An answer is built from the session's live state (cache + partial data,
``chat_context.py``), streams at once (``answer.start`` with its basis and what is still
pending, deltas, citations, ``answer.end``: ``frames.py``), and goes on the session log as
``chat.question`` / ``answer.end`` so every tab sees the chat. If data the answer needed
was still being collected, the reviser (``revisions.py``) re-answers when it lands and
this logs ``answer.revised`` with the reason. Answers are cached per (question key, data
version): asking again after nothing changed is instant.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import JsonValue

from dossier.core import frames, keys
from dossier.core.chat_context import Context, build_context
from dossier.core.events import Event, EventType, NewEvent
from dossier.core.intents import normalize_question
from dossier.core.ports import CitationMark, ProviderChunk, QuestionRequest, TextDelta
from dossier.core.privacy import ASKER, Viewer
from dossier.core.questions import understand
from dossier.core.revisions import Listeners, PendingQuestion, Reviser, StateSource
from dossier.core.shared import SharedStream
from dossier.core.suggestions import suggest
from dossier.core.tasks import cancel_all
from dossier.core.turns import MAX_CHAT_TURNS, Turns
from dossier.core.types import Basis
from dossier.errors import DossierError, InvalidInput

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000
QUESTION_LOG_DELAY_S = 0.05
Emit = Callable[[dict[str, Any]], Awaitable[None]]
StreamAnswer = Callable[[QuestionRequest], AsyncIterator[tuple[ProviderChunk, str]]]

__all__ = ["MAX_CHAT_TURNS", "MAX_QUESTION_CHARS", "ChatService", "Context", "PendingQuestion"]


class CachedAnswer(Protocol):
    """A cache entry as the chat reads it."""

    @property
    def payload(self) -> JsonValue: ...


class AnswerCache(Protocol):
    async def get_answer(
        self, account_key: str, vendor_hash: str, intent: str, data_version: str
    ) -> CachedAnswer | None: ...

    async def put_answer(
        self, account_key: str, vendor_hash: str, intent: str, data_version: str, payload: JsonValue
    ) -> None: ...


@dataclass(frozen=True)
class _Piece:
    """A piece of an answer as made once and shared: text or a citation, and its origin."""

    provider: str
    from_cache: bool
    text: str | None = None
    citation: dict[str, Any] | None = None


class ChatService:
    def __init__(
        self,
        states: StateSource,
        append: Callable[[str, list[NewEvent]], Awaitable[Any]],
        stream_answer: StreamAnswer,
        cache: AnswerCache | None,
        *,
        provider_name: str,
        deterministic: bool = False,
        max_turns: int = MAX_CHAT_TURNS,
    ) -> None:
        """``deterministic``: the analyst's answer depends only on the question's intent and
        the data (the builtin one), so answers are cached per intent, not per wording.
        ``max_turns``: questions one principal may ask in one session."""
        self._states = states
        self._append = append
        self._stream_answer = stream_answer
        self._cache = cache
        self._provider_name = provider_name
        self._deterministic = deterministic
        # which question ids are taken; how many each principal asked (its ``check`` is
        # the transports' look before they answer 409)
        self.turns = Turns(states, max_turns)
        self._reviser = Reviser(states, self._revise)
        # Who in this process waits for revisions of a session's answers (the sockets and
        # HTTP streams that asked). Revisions are made in the process that answered, so
        # telling listeners directly is enough; other tabs read them from the log.
        self._listeners = Listeners()
        self._contexts: dict[tuple[str, int, str], Context] = {}
        self._flights: dict[tuple[str, str, str], SharedStream[_Piece]] = {}
        self._pushes: set[asyncio.Task[None]] = set()

    def listen(
        self, session_id: str, callback: Emit, viewer: Viewer | None = None
    ) -> Callable[[], None]:
        """Call ``callback`` with every ``answer.revised`` frame of the session that
        ``viewer`` may see (and fresh ``suggestions`` when it ends); returns the function
        that stops it."""
        return self._listeners.add(session_id, callback, viewer)

    # -- context
    async def context(self, session_id: str, question: str) -> Context:
        builder = await self._states.state(session_id)
        asked = understand(question)
        # Many questions, few state changes: reuse what this state version already built.
        key = (session_id, builder.state_version, asked.key)
        memo = self._contexts.get(key)
        if memo is not None:
            return dataclasses.replace(
                memo, request=dataclasses.replace(memo.request, question=question)
            )
        ctx = build_context(builder, question, asked)
        if len(self._contexts) > 1024:
            self._contexts.clear()
        self._contexts[key] = ctx
        return ctx

    # -- answering
    async def answer(
        self, session_id: str, question_id: str, content: str, emit: Emit, *, asker: str
    ) -> dict[str, Any]:
        """Stream one answer to ``asker``'s question through ``emit``; returns the
        ``answer.end`` payload.

        Raises InvalidInput for an empty or oversized question, Conflict for a used id or
        one question too many (``core/turns.py``). Cancellation ends the answer (the caller
        reports it); what was said is not logged as an answer.
        """
        text = content.strip()
        if not text:
            raise InvalidInput("the question is empty")
        if len(text) > MAX_QUESTION_CHARS:
            raise InvalidInput(f"the question is longer than {MAX_QUESTION_CHARS} characters")
        await self.turns.admit(session_id, question_id, asker)
        started = time.perf_counter()
        # Other tabs should see the question while a slow answer streams, but a fast answer
        # should not pay a commit before its first token: the question is logged after
        # QUESTION_LOG_DELAY_S, or with the answer if that comes first (the dedup key makes
        # a race between the two harmless).
        question = _question_event(question_id, text, asker)
        early: asyncio.Future[Any] | None = None
        try:
            ctx = await self.context(session_id, text)
            await emit(frames.answer_start(question_id, ctx.basis, ctx.pending))
            early = asyncio.ensure_future(self._log_later(session_id, question))
            return await self._answer(
                session_id, question_id, text, ctx, emit, started, early, question
            )
        finally:
            await cancel_all([early])
            self.turns.release(session_id, question_id)

    async def log_cancelled(
        self, session_id: str, question_id: str, content: str, *, asker: str
    ) -> None:
        """A cancelled answer still ends on the log, so other tabs stop waiting for it."""
        question = _question_event(question_id, content.strip(), asker)
        cancelled = frames.answer_end(
            question_id, complete=False, pending=[], latency_ms=None, cancelled=True
        )
        end = NewEvent(
            type=EventType.ANSWER_END,
            data={**frames.body(cancelled), "text": "", "citations": [], ASKER: asker},
            dedup=keys.answer_end(question_id),
        )
        await self._append(session_id, [question, end])

    async def _log_later(self, session_id: str, question: NewEvent) -> None:
        await asyncio.sleep(QUESTION_LOG_DELAY_S)
        await self._append(session_id, [question])

    async def _answer(
        self,
        session_id: str,
        question_id: str,
        text: str,
        ctx: Context,
        emit: Emit,
        started: float,
        early: asyncio.Future[Any],
        question: NewEvent,
    ) -> dict[str, Any]:
        parts: list[str] = []
        citations: list[dict[str, Any]] = []
        error: dict[str, str] | None = None
        provider = self._provider_name
        basis_cache = False
        try:
            async with contextlib.aclosing(self._flight(session_id, ctx).read()) as pieces:
                async for piece in pieces:
                    provider, basis_cache = piece.provider, piece.from_cache
                    if piece.text is not None:
                        parts.append(piece.text)
                        await emit(frames.answer_delta(question_id, piece.text))
                    if piece.citation is not None:
                        citations.append(piece.citation)
                        await emit(frames.answer_citation(question_id, piece.citation))
        except DossierError as exc:
            error = {"code": exc.code, "message": exc.message}
            basis_cache = False
        latency_ms = round((time.perf_counter() - started) * 1000, 3)
        end = frames.answer_end(
            question_id,
            complete=not ctx.pending and ctx.basis != Basis.PARTIAL,
            pending=ctx.pending,
            latency_ms=latency_ms,
            error=error,
        )
        await emit(end)
        logged: dict[str, Any] = {
            **frames.body(end),
            "text": "".join(parts),
            "citations": citations,
            "basis": Basis.CACHE if basis_cache else ctx.basis,
            "intent": ctx.intent.name,
            "provider": provider,
            ASKER: question.data[ASKER],
        }
        # One answer per question id on the log, whatever races past the admission.
        answer_event = NewEvent(
            type=EventType.ANSWER_END, data=logged, dedup=keys.answer_end(question_id)
        )
        if early.done():
            await self._append(session_id, [answer_event])
        else:
            early.cancel()
            await self._append(session_id, [question, answer_event])
        if ctx.pending:
            self._reviser.watch(
                session_id,
                PendingQuestion(
                    question_id,
                    text,
                    ctx.intent.name,
                    set(ctx.pending),
                    asker=str(question.data[ASKER]),
                ),
            )
        return logged

    def _flight(self, session_id: str, ctx: Context) -> SharedStream[_Piece]:
        """The answer for this (session, data version, question key), made once however
        many ask at the same moment: a burst of identical questions costs one cache lookup,
        one composition and one cache write instead of one each."""
        key = (session_id, ctx.data_version, self._answer_key(ctx))
        flight = self._flights.get(key)
        if flight is None:
            flight = SharedStream(self._produce(ctx), on_close=lambda: self._flights.pop(key, None))
            self._flights[key] = flight
        return flight

    async def _produce(self, ctx: Context) -> AsyncIterator[_Piece]:
        cached = await self._cached(ctx)
        if cached is not None:
            text, cites = cached
            yield _Piece(self._provider_name, True, text=text)
            for cite in cites:
                yield _Piece(self._provider_name, True, citation=cite)
            return
        parts: list[str] = []
        citations: list[dict[str, Any]] = []
        async for chunk, used in self._stream_answer(ctx.request):
            if isinstance(chunk, TextDelta):
                parts.append(chunk.text)
                yield _Piece(used, False, text=chunk.text)
            elif isinstance(chunk, CitationMark):
                cite = _citation(chunk)
                citations.append(cite)
                yield _Piece(used, False, citation=cite)
        await self._store(ctx, "".join(parts), citations)

    async def _cached(self, ctx: Context) -> tuple[str, list[dict[str, Any]]] | None:
        if self._cache is None:
            return None
        try:
            hit = await self._cache.get_answer(
                ctx.account_key, ctx.vendor_hash, self._answer_key(ctx), ctx.data_version
            )
        except Exception:
            log.debug("answer cache lookup failed", exc_info=True)
            return None
        payload = hit.payload if hit is not None else None
        if not isinstance(payload, dict) or not isinstance(payload.get("text"), str):
            return None
        stored = payload.get("citations")
        cites = [c for c in stored if isinstance(c, dict)] if isinstance(stored, list) else []
        return str(payload["text"]), cites

    async def _store(self, ctx: Context, text: str, citations: list[dict[str, Any]]) -> None:
        if self._cache is None or ctx.pending:
            return  # an answer that still waits for data is not worth replaying
        payload: dict[str, Any] = {"text": text, "citations": list(citations)}
        with contextlib.suppress(Exception):
            await self._cache.put_answer(
                ctx.account_key, ctx.vendor_hash, self._answer_key(ctx), ctx.data_version, payload
            )

    def _answer_key(self, ctx: Context) -> str:
        # A deterministic analyst's answer depends only on the question's meaning (intent
        # and slots); an LLM's on the exact question.
        if self._deterministic:
            return ctx.meaning
        digest = hashlib.sha1(normalize_question(ctx.request.question).encode()).hexdigest()
        return f"{ctx.intent.name}:{digest[:12]}"

    # -- revisions
    async def _revise(self, session_id: str, question: PendingQuestion, reason: str) -> None:
        ctx = await self.context(session_id, question.question)
        parts: list[str] = []
        citations: list[dict[str, Any]] = []
        try:
            # Through the same shared flight as live answers: when the data lands, every
            # question waiting for it is revised at once, and one composition serves them.
            async with contextlib.aclosing(self._flight(session_id, ctx).read()) as pieces:
                async for piece in pieces:
                    if piece.text is not None:
                        parts.append(piece.text)
                    if piece.citation is not None:
                        citations.append(piece.citation)
        except DossierError as exc:
            log.warning("revision of %s failed: %s", question.id, exc.message)
            return
        data: dict[str, Any] = {
            "id": question.id,
            "text": "".join(parts),
            "citations": citations,
            "reason": reason,
            "pending": ctx.pending,
            ASKER: question.asker,
        }
        await self._append(session_id, [NewEvent(type=EventType.ANSWER_REVISED, data=data)])
        for listener in self._listeners.hearing(session_id, question.asker):
            try:
                await listener(frames.answer_revised(data))
            except Exception:
                log.debug("a revision listener failed", exc_info=True)

    async def close(self) -> None:
        await self._reviser.close()
        await cancel_all(list(self._pushes))

    # -- suggestions
    async def suggestions(self, session_id: str, viewer: Viewer | None = None) -> list[str]:
        builder = await self._states.state(session_id)
        return suggest(builder, viewer)

    def observe(self, events: Sequence[Event]) -> None:
        """A FeedHub observer: data that lands wakes the reviser; when a session ends, its
        listeners get new suggestions (a finished research offers no "what is still being
        collected?")."""
        self._reviser.observe(events)
        for event in events:
            if event.type == EventType.SESSION_COMPLETED and event.session in self._listeners:
                task = asyncio.create_task(self._push_suggestions(event.session))
                self._pushes.add(task)
                task.add_done_callback(self._pushes.discard)

    async def _push_suggestions(self, session_id: str) -> None:
        for listener, viewer in self._listeners.viewers(session_id):
            try:
                frame = frames.suggestions(await self.suggestions(session_id, viewer))
            except DossierError:
                return
            with contextlib.suppress(Exception):
                await listener(frame)


def _question_event(question_id: str, text: str, asker: str) -> NewEvent:
    return NewEvent(
        type=EventType.CHAT_QUESTION,
        data={"id": question_id, "content": text, ASKER: asker},
        dedup=keys.chat_question(question_id),
    )


def _citation(mark: CitationMark) -> dict[str, Any]:
    c = mark.citation
    return {"finding": c.finding, "url": c.url, "title": c.title}
