"""The Protocols core needs; implementations live outside core and are picked by name.

Each seam is narrow on purpose so a fake is a few lines (see ``tests/fakes``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Protocol, runtime_checkable

from pydantic import JsonValue

from dossier.core.coverage import CoverageNote, RequestFailure
from dossier.core.events import Event, NewEvent
from dossier.core.intents import IntentName
from dossier.core.records import SessionRecord
from dossier.core.states import SessionStatus
from dossier.core.types import Citation, DataType, Finding


class EventLog(Protocol):
    """Append-only ordered log per session, and the session registry beside it."""

    async def start(self) -> None:
        """Create tables, open connections."""

    async def close(self) -> None: ...

    def set_on_logged(self, on_logged: Callable[[list[Event]], None]) -> None:
        """Called on the loop, in seq order, with each batch right after it is committed."""
        ...

    async def append(self, session_id: str, events: Sequence[NewEvent]) -> list[Event]:
        """Append in one transaction; return the logged events (with seq), in order.

        Events whose ``dedup`` key is already logged for the session are skipped and not
        returned. Seqs are gap-free: ``last_seq + 1 ..``. Raises NotFound for an unknown
        session.
        """
        ...

    async def read_after(
        self, session_id: str, after_seq: int, *, limit: int = 1000, workflow: str | None = None
    ) -> list[Event]:
        """Events with ``seq > after_seq`` in order (at most ``limit``)."""
        ...

    async def last_seq(self, session_id: str) -> int: ...

    async def terminal_seq(self, session_id: str, workflow: str | None = None) -> int | None:
        """Seq of the event that ends the session's (or one workflow's) stream, if logged."""
        ...

    async def create_session(self, record: SessionRecord) -> None: ...

    async def get_session(self, session_id: str) -> SessionRecord | None: ...

    async def find_running(self, account_key: str, vendor_hash: str) -> SessionRecord | None:
        """The running session for this (account, vendor), if any."""
        ...

    async def list_sessions(
        self, *, owner: str | None, account_key: str | None, limit: int
    ) -> list[SessionRecord]: ...

    async def set_status(self, session_id: str, status: SessionStatus) -> None: ...

    async def add_owner(self, session_id: str, principal: str) -> None: ...

    async def add_member(self, session_id: str, principal: str) -> None:
        """A principal who joined the session (sees its research, not others' chat)."""
        ...

    async def remove_member(self, session_id: str, principal: str) -> None:
        """A member who left (detached); owners are not touched."""
        ...

    async def expire_sessions(self, cutoff: str, *, keep: Collection[str] = ()) -> list[str]:
        """Delete finished sessions whose last event (or creation, if none) is before
        ``cutoff`` (``iso_ms``), events, chat and owners with them, except those in
        ``keep``; return their ids. Running sessions are never expired. May stop after a
        batch: the next call takes the rest."""
        ...

    async def ping(self) -> None:
        """Raise if the store is unreachable (readiness)."""
        ...


class WorkflowEngine(Protocol):
    """Runs a session's workflows durably (DBOS in production, a fake in unit tests)."""

    async def start(self, record: SessionRecord, *, refresh: bool) -> None:
        """Start both workflows; returns once they are durably recorded."""
        ...

    async def cached_events(self, record: SessionRecord) -> list[NewEvent] | None:
        """Every event of a complete session rendered from fresh cache, or None."""
        ...

    async def cancel(self, session_id: str) -> None: ...

    async def ensure_running(self, record: SessionRecord) -> bool:
        """Whether a running session's workflows will go on (work on an executor that is
        gone is handed on first); False when nothing will ever finish them."""
        ...


class Cache(Protocol):
    """A cache layer stack: memory -> disk (-> Redis)."""

    async def get(self, key: str) -> JsonValue | None: ...

    async def set(self, key: str, value: JsonValue, *, ttl_s: float) -> None: ...

    async def delete(self, key: str) -> None: ...


@dataclass
class ProgressReport:
    done: int
    total: int
    found: int
    message: str = ""


@dataclass(frozen=True)
class RetryNotice:
    attempt: int
    error: str
    next_in_s: float


@dataclass
class CollectContext:
    """What a collector gets for one run. Callbacks write events on the session log."""

    account_name: str
    identifiers: dict[str, str]
    emit: Callable[[Finding], Awaitable[None]]
    progress: Callable[[ProgressReport], Awaitable[None]]
    on_retry: Callable[[RetryNotice], Awaitable[None]]
    skip_requested: Callable[[], bool] = field(default=lambda: False)


@dataclass
class CollectResult:
    findings: list[Finding]
    # "no board" / "no match": a real answer, cached negatively, not an error
    negative: bool = False
    notes: list[str] = field(default_factory=list)
    identifiers: dict[str, str] = field(default_factory=dict)
    # requests that failed while the rest answered: the answer is incomplete (never cached)
    failures: list[RequestFailure] = field(default_factory=list)


@runtime_checkable
class Collector(Protocol):
    """One public source -> typed findings. Registered by ``name`` (== finding ``source``)."""

    name: ClassVar[str]
    label: ClassVar[str]  # how people name the source ("SEC EDGAR")
    data_types: ClassVar[frozenset[DataType]]

    def applicable(self, identifiers: dict[str, str]) -> bool:
        """Whether this source can say anything given what we know of the account."""
        ...

    async def collect(self, ctx: CollectContext) -> CollectResult: ...


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class CitationMark:
    citation: Citation


ProviderChunk = TextDelta | CitationMark


class Provider(Protocol):
    """An analyst: streams text deltas and citations for a prompt over findings."""

    name: ClassVar[str]
    # capabilities, as class attributes
    # the same request always gets the same answer (answers are then cached per intent)
    deterministic: ClassVar[bool]
    offline: ClassVar[bool]

    def analyze(self, request: AnalysisRequest) -> AsyncIterator[ProviderChunk]: ...

    def answer(self, request: QuestionRequest) -> AsyncIterator[ProviderChunk]: ...


@dataclass(frozen=True)
class AnalysisRequest:
    workflow: str  # a WorkflowKind
    account_name: str
    vendor_name: str | None
    vendor_description: str | None
    findings: Sequence[Finding]
    # data type -> its coverage (state and why): what to say about what is not found
    coverage: Mapping[str, CoverageNote] = field(default_factory=dict)
    vendor_summary: str | None = None
    vendor_sells_to: Sequence[str] = ()  # roles or teams we sell to


@dataclass(frozen=True)
class QuestionRequest:
    question: str
    intent: IntentName
    account_name: str
    vendor_name: str | None
    vendor_description: str | None
    findings: Sequence[Finding]
    pending: Sequence[str] = ()
    pending_eta_s: dict[str, float] = field(default_factory=dict)
    # data type -> its coverage so far (state None: still being collected)
    coverage: Mapping[str, CoverageNote] = field(default_factory=dict)
    analysis: str | None = None
    # what the question asks beyond its intent (core/questions.py): role, attribute,
    # technology, yes_no, window_days
    slots: Mapping[str, str] = field(default_factory=dict)
    vendor_sells_to: Sequence[str] = ()  # roles or teams we sell to
