"""The chat: answer a question now, from whatever the session knows, and revise it later.

An answer is built from the session's live state (cache + partial data), streams at once
(``answer.start`` with its basis and what is still pending, deltas, citations,
``answer.end``), and goes on the session log as ``chat.question`` / ``answer.end`` so
every tab sees the chat. If data the answer needed was still being collected, a watcher
re-answers when it lands and logs ``answer.revised`` with the reason. Answers are cached
per (question intent, data version): asking again after nothing changed is instant.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import JsonValue

from dossier.core import keys
from dossier.core.coverage import notes_of
from dossier.core.events import Event, EventType, NewEvent
from dossier.core.intents import BY_NAME, Intent, IntentName, classify, normalize_question
from dossier.core.ports import CitationMark, ProviderChunk, QuestionRequest, TextDelta
from dossier.core.records import WorkflowKind
from dossier.core.shared import SharedStream
from dossier.core.snapshot import SnapshotBuilder
from dossier.core.states import SessionStatus, StepStatus
from dossier.core.types import Basis, DataType, Vendor, normalize_name
from dossier.errors import DossierError, InvalidInput

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000
QUESTION_LOG_DELAY_S = 0.05
REVISION_POLL_S = 0.5
Emit = Callable[[dict[str, Any]], Awaitable[None]]
StreamAnswer = Callable[[QuestionRequest], AsyncIterator[tuple[ProviderChunk, str]]]
_TERMINAL_STEPS = (StepStatus.COMPLETED, StepStatus.FAILED, StepStatus.SKIPPED)


class AnswerCache(Protocol):
    async def get_answer(
        self, account_key: str, vendor_hash: str, intent: str, data_version: str
    ) -> Any: ...

    async def put_answer(
        self, account_key: str, vendor_hash: str, intent: str, data_version: str, payload: JsonValue
    ) -> None: ...


class StateSource(Protocol):
    """Where the chat reads a session's state (the SessionService)."""

    async def state(self, session_id: str) -> SnapshotBuilder: ...


@dataclass
class Context:
    """What one answer is built from."""

    intent: Intent
    request: QuestionRequest
    basis: Basis
    pending: list[str]
    data_version: str
    account_key: str = ""
    vendor_hash: str = ""


@dataclass(frozen=True)
class _Piece:
    """A piece of an answer as made once and shared: text or a citation, and its origin."""

    provider: str
    from_cache: bool
    text: str | None = None
    citation: dict[str, Any] | None = None


@functools.lru_cache(maxsize=1024)
def _keys_cached(
    name: str, vendor_name: str, vendor_domain: str, description: str
) -> tuple[str, str]:
    vendor = Vendor(
        name=vendor_name or None, domain=vendor_domain or None, description=description or None
    )
    return normalize_name(name), vendor.hash


def _keys(account: dict[str, Any], vendor: dict[str, Any]) -> tuple[str, str]:
    """(account key, vendor hash) of a session, without re-validating its models."""
    return _keys_cached(
        str(account.get("name") or ""),
        str(vendor.get("name") or ""),
        str(vendor.get("domain") or ""),
        str(vendor.get("description") or ""),
    )


def data_version(builder: SnapshotBuilder) -> str:
    """Changes whenever a finding, an analysis or a workflow's state changes."""
    parts = sorted(builder.findings)
    parts += [f"{k}:{w.status.value}" for k, w in sorted(builder.workflows.items())]
    parts += [f"a:{k}:{a.status}" for k, a in sorted(builder.analysis.items())]
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:16]


def pending_types(
    builder: SnapshotBuilder, wanted: tuple[DataType, ...]
) -> dict[str, float | None]:
    """Data types still being collected for the customer, with an ETA when one is known."""
    workflow = builder.workflows.get(WorkflowKind.CUSTOMER_INTELLIGENCE)
    if builder.status != SessionStatus.RUNNING:
        return {}
    targets = {t.value for t in (wanted or tuple(DataType))}
    if workflow is None or workflow.status.value in ("completed", "failed", "cancelled"):
        return {} if workflow is not None else dict.fromkeys(sorted(targets))
    collecting = [s for s in workflow.steps.values() if s.name.startswith("collect.")]
    if not collecting:  # not planned yet (resolving the account): all of it is pending
        resolve = workflow.steps.get("resolve")
        eta = resolve.data.get("eta_s") if resolve else None
        return {t: float(eta) if isinstance(eta, (int, float)) else None for t in sorted(targets)}
    out: dict[str, float | None] = {}
    for step in collecting:
        if step.status in _TERMINAL_STEPS:
            continue
        types = step.data.get("data_types")
        eta = step.data.get("eta_s")
        for t in types if isinstance(types, list) else []:
            if str(t) in targets:
                best = out.get(str(t))
                value = float(eta) if isinstance(eta, (int, float)) else None
                out[str(t)] = value if best is None else max(best, value or 0.0)
    return out


@dataclass
class PendingQuestion:
    id: str
    question: str
    intent: IntentName
    waiting_for: set[str]
    asked_at: float = field(default_factory=time.monotonic)


class ChatService:
    def __init__(
        self,
        states: StateSource,
        append: Callable[[str, list[NewEvent]], Awaitable[Any]],
        stream_answer: StreamAnswer,
        cache: AnswerCache | None,
        *,
        provider_name: str,
    ) -> None:
        self._states = states
        self._append = append
        self._stream_answer = stream_answer
        self._cache = cache
        self._provider_name = provider_name
        self._pending: dict[str, dict[str, PendingQuestion]] = {}
        self._watchers: dict[str, asyncio.Task[None]] = {}
        # Who in this process waits for revisions of a session's answers (the sockets and
        # HTTP streams that asked). Revisions are made in the process that answered, so
        # telling listeners directly is enough; other tabs read them from the log.
        self._listeners: dict[str, set[Emit]] = {}
        self._contexts: dict[tuple[str, int, str], Context] = {}
        self._flights: dict[tuple[str, str, str], SharedStream[_Piece]] = {}
        self._pushes: set[asyncio.Task[None]] = set()

    def listen(self, session_id: str, callback: Emit) -> Callable[[], None]:
        """Call ``callback`` with every ``answer.revised`` frame of the session (and fresh
        ``suggestions`` when it ends); returns the function that stops it."""
        self._listeners.setdefault(session_id, set()).add(callback)

        def stop() -> None:
            listeners = self._listeners.get(session_id)
            if listeners is not None:
                listeners.discard(callback)
                if not listeners:
                    del self._listeners[session_id]

        return stop

    # -- context
    async def context(self, session_id: str, question: str) -> Context:
        builder = await self._states.state(session_id)
        intent = classify(question)
        # Many questions, few state changes: reuse what this state version already built.
        key = (session_id, builder.state_version, intent.name)
        memo = self._contexts.get(key)
        if memo is not None:
            return dataclasses.replace(
                memo, request=dataclasses.replace(memo.request, question=question)
            )
        ctx = self._build_context(builder, question, intent)
        if len(self._contexts) > 1024:
            self._contexts.clear()
        self._contexts[key] = ctx
        return ctx

    def _build_context(self, builder: SnapshotBuilder, question: str, intent: Intent) -> Context:
        pending = pending_types(builder, intent.data_types)
        created = builder.created
        account = _obj(created.get("account"))
        vendor = _obj(created.get("vendor"))
        findings = [f for f in builder.findings.values() if _customer(builder, f.id)]
        analysis = builder.analysis.get(WorkflowKind.CUSTOMER_INTELLIGENCE)
        request = QuestionRequest(
            question=question,
            intent=intent.name,
            account_name=str(account.get("name") or "the account"),
            vendor_name=_str(vendor.get("name")),
            vendor_description=_str(vendor.get("description")),
            findings=findings,
            pending=sorted(pending),
            pending_eta_s={k: v for k, v in pending.items() if v is not None},
            coverage=notes_of(builder.coverage()),
            analysis=analysis.text if analysis and analysis.text else None,
        )
        if builder.status != SessionStatus.RUNNING:
            basis = Basis.CACHE if created.get("cached") else Basis.COMPLETE
        else:
            basis = Basis.PARTIAL
        account_key, vendor_hash = _keys(account, vendor)
        return Context(
            intent, request, basis, sorted(pending), data_version(builder), account_key, vendor_hash
        )

    # -- answering
    async def answer(
        self, session_id: str, question_id: str, content: str, emit: Emit
    ) -> dict[str, Any]:
        """Stream one answer through ``emit``; returns the ``answer.end`` payload.

        Raises InvalidInput for an empty or oversized question. Cancellation ends the
        answer (the caller reports it); what was said is not logged as an answer.
        """
        text = content.strip()
        if not text:
            raise InvalidInput("the question is empty")
        if len(text) > MAX_QUESTION_CHARS:
            raise InvalidInput(f"the question is longer than {MAX_QUESTION_CHARS} characters")
        started = time.perf_counter()
        ctx = await self.context(session_id, text)
        await emit(
            {"type": "answer.start", "id": question_id, "basis": ctx.basis, "pending": ctx.pending}
        )
        # Other tabs should see the question while a slow answer streams, but a fast answer
        # should not pay a commit before its first token: the question is logged after
        # QUESTION_LOG_DELAY_S, or with the answer if that comes first (the dedup key makes
        # a race between the two harmless).
        question = NewEvent(
            type=EventType.CHAT_QUESTION,
            data={"id": question_id, "content": text},
            dedup=keys.chat_question(question_id),
        )
        early = asyncio.ensure_future(self._log_later(session_id, question))
        try:
            return await self._answer(
                session_id, question_id, text, ctx, emit, started, early, question
            )
        finally:
            if not early.done():
                early.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await early

    async def log_cancelled(self, session_id: str, question_id: str, content: str) -> None:
        """A cancelled answer still ends on the log, so other tabs stop waiting for it."""
        question = NewEvent(
            type=EventType.CHAT_QUESTION,
            data={"id": question_id, "content": content.strip()},
            dedup=keys.chat_question(question_id),
        )
        end = NewEvent(
            type=EventType.ANSWER_END,
            data={
                "id": question_id,
                "complete": False,
                "pending": [],
                "latency_ms": None,
                "partial": True,
                "cancelled": True,
                "text": "",
                "citations": [],
            },
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
                        await emit({"type": "answer.delta", "id": question_id, "text": piece.text})
                    if piece.citation is not None:
                        citations.append(piece.citation)
                        await emit({"type": "answer.citation", "id": question_id, **piece.citation})
        except DossierError as exc:
            error = {"code": exc.code, "message": exc.message}
            basis_cache = False
        latency_ms = round((time.perf_counter() - started) * 1000, 3)
        end: dict[str, Any] = {
            "type": "answer.end",
            "id": question_id,
            "complete": not ctx.pending and ctx.basis != Basis.PARTIAL,
            "pending": ctx.pending,
            "latency_ms": latency_ms,
            "partial": error is not None,
        }
        if error is not None:
            end["error"] = error
        await emit(end)
        logged: dict[str, Any] = {
            **{k: v for k, v in end.items() if k != "type"},
            "text": "".join(parts),
            "citations": citations,
            "basis": Basis.CACHE if basis_cache else ctx.basis,
            "intent": ctx.intent.name,
            "provider": provider,
        }
        answer_event = NewEvent(type=EventType.ANSWER_END, data=logged)
        if early.done():
            await self._append(session_id, [answer_event])
        else:
            early.cancel()
            await self._append(session_id, [question, answer_event])
        if ctx.pending:
            self._watch(
                session_id, PendingQuestion(question_id, text, ctx.intent.name, set(ctx.pending))
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
        payload = getattr(hit, "payload", None)
        if not isinstance(payload, dict) or not isinstance(payload.get("text"), str):
            return None
        cites = [c for c in payload.get("citations") or [] if isinstance(c, dict)]
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
        # The builtin answer depends only on the intent; an LLM's on the exact question.
        if self._provider_name == "builtin":
            return ctx.intent.name
        digest = hashlib.sha1(normalize_question(ctx.request.question).encode()).hexdigest()
        return f"{ctx.intent.name}:{digest[:12]}"

    # -- revisions
    def _watch(self, session_id: str, question: PendingQuestion) -> None:
        self._pending.setdefault(session_id, {})[question.id] = question
        task = self._watchers.get(session_id)
        if task is None or task.done():
            self._watchers[session_id] = asyncio.create_task(
                self._revise_loop(session_id), name=f"revise:{session_id}"
            )

    async def _revise_loop(self, session_id: str) -> None:
        try:
            while self._pending.get(session_id):
                await asyncio.sleep(REVISION_POLL_S)
                builder = await self._states.state(session_id)
                finished = builder.status != SessionStatus.RUNNING
                due: list[tuple[PendingQuestion, str]] = []
                for question in list(self._pending[session_id].values()):
                    intent = BY_NAME.get(question.intent, BY_NAME[IntentName.UNKNOWN])
                    still = set(pending_types(builder, intent.data_types)) & question.waiting_for
                    if still and not finished:
                        continue
                    del self._pending[session_id][question.id]
                    landed = sorted(question.waiting_for - still)
                    reason = f"{', '.join(landed)} arrived" if landed else "the research finished"
                    due.append((question, reason))
                # Together: one slow revision does not hold up the others, and questions
                # about the same thing share one composition (``_flight``).
                await asyncio.gather(*(self._revise(session_id, q, why) for q, why in due))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("revising answers of %s failed", session_id)
        finally:
            self._pending.pop(session_id, None)

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
        }
        await self._append(session_id, [NewEvent(type=EventType.ANSWER_REVISED, data=data)])
        for listener in list(self._listeners.get(session_id, ())):
            try:
                await listener({"type": "answer.revised", **data})
            except Exception:
                log.debug("a revision listener failed", exc_info=True)

    async def close(self) -> None:
        tasks = [*self._watchers.values(), *self._pushes]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._watchers.clear()

    # -- suggestions
    async def suggestions(self, session_id: str) -> list[str]:
        builder = await self._states.state(session_id)
        return suggest(builder)

    def observe(self, events: Sequence[Event]) -> None:
        """A FeedHub observer: when a session ends, its listeners get new suggestions (a
        finished research offers no "what is still being collected?")."""
        for event in events:
            if event.type == EventType.SESSION_COMPLETED and event.session in self._listeners:
                task = asyncio.create_task(self._push_suggestions(event.session))
                self._pushes.add(task)
                task.add_done_callback(self._pushes.discard)

    async def _push_suggestions(self, session_id: str) -> None:
        try:
            frame = {"type": "suggestions", "items": await self.suggestions(session_id)}
        except DossierError:
            return
        for listener in list(self._listeners.get(session_id, ())):
            with contextlib.suppress(Exception):
                await listener(frame)


_I = IntentName
_SUGGESTIONS: tuple[tuple[IntentName, str, tuple[str, ...]], ...] = (
    (_I.FIT, "How does our offer fit them?", ()),
    (_I.HIRING, "Which teams are they hiring for?", ("job_posting",)),
    (_I.PEOPLE, "Who should I talk to?", ("person",)),
    (_I.TECH_STACK, "What technology do they use?", ("technology", "job_posting")),
    (_I.FUNDING, "Have they raised money recently?", ("funding_round", "filing")),
    (_I.NEWS, "What is new with them?", ("news_article",)),
    (_I.PENDING, "What is still being collected?", ()),
)


def suggest(builder: SnapshotBuilder, limit: int = 4) -> list[str]:
    """Next questions worth asking, from what the session has and has not been asked."""
    asked = builder.asked_intents
    kinds = {f.kind.value for f in builder.findings.values()}
    vendor = _obj(builder.created.get("vendor"))
    out: list[str] = []
    for intent, text, needs in _SUGGESTIONS:
        if intent in asked:
            continue
        if intent == IntentName.PENDING and not pending_types(builder, ()):
            continue  # nothing is being collected any more
        if intent == IntentName.FIT and not vendor.get("description"):
            continue
        if needs and not kinds & set(needs):
            continue
        out.append(text)
    return out[:limit]


def _citation(mark: CitationMark) -> dict[str, Any]:
    c = mark.citation
    return {"finding": c.finding, "url": c.url, "title": c.title}


def _obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _customer(builder: SnapshotBuilder, finding_id: str) -> bool:
    """Findings about the account (not the vendor's own research)."""
    return finding_id in builder.customer_finding_ids
