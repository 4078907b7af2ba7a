"""Fakes for every port in ``core/ports.py`` (EventLog, WorkflowEngine, Cache,
Collector, Provider), the one Finding factory, and an offline source transport.

The event-log fake is held to the real one's contract by ``tests/unit/test_fakes.py``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx
from pydantic import JsonValue

from dossier.core import keys
from dossier.core.events import SESSION_TERMINAL, Event, EventType, NewEvent
from dossier.core.intents import IntentName
from dossier.core.ports import (
    AnalysisRequest,
    CollectContext,
    CollectResult,
    ProgressReport,
    ProviderChunk,
    QuestionRequest,
    TextDelta,
)
from dossier.core.records import SessionRecord
from dossier.core.states import SessionStatus
from dossier.core.types import DataType, Finding, FindingKind, finding_id, utcnow
from dossier.errors import NotFound
from dossier.eventlog.base import assign_seqs

# a fixed "now" for tests whose output must not change with the clock (prompts)
FIXED_TIME = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


class _Default(enum.Enum):
    DEFAULT = "default"


DEFAULT = _Default.DEFAULT


def make_analysis(
    findings: Sequence[Finding] = (), workflow: str = "customer_intelligence", **fields: Any
) -> AnalysisRequest:
    """An analysis of "Acme Corp" for a seller who has not said who they are."""
    who: dict[str, Any] = {"account_name": "Acme Corp", "vendor_name": None}
    who["vendor_description"] = None
    return AnalysisRequest(workflow, findings=list(findings), **(who | fields))


def make_question(
    question: str = "Who runs it?",
    intent: IntentName = IntentName.PEOPLE,
    findings: Sequence[Finding] = (),
    **fields: Any,
) -> QuestionRequest:
    """A question about "Acme Corp" from a seller who has not said who they are."""
    who: dict[str, Any] = {"account_name": "Acme Corp", "vendor_name": None}
    who["vendor_description"] = None
    return QuestionRequest(question, intent, findings=list(findings), **(who | fields))


def make_finding(
    kind: FindingKind = FindingKind.NEWS_ARTICLE,
    title: str = "A story",
    *,
    at: datetime | None = None,
    days_ago: int = 0,
    confidence: float = 0.9,
    source: str = "fake",
    key: tuple[str, ...] | None = None,
    url: str | _Default | None = DEFAULT,
    published_at: datetime | _Default | None = DEFAULT,
    **fields: JsonValue,
) -> Finding:
    """The one Finding factory. Observed ``at`` (default: now), published ``days_ago``
    days before; its id follows from (kind, ``key`` or title) and its URL from the id, so
    the same call makes the same finding. ``url``/``published_at`` may be given (None
    too: a person has no URL, an undated story no date)."""
    observed = at or utcnow()
    finding_key = finding_id(kind, *(key or (title,)))
    return Finding(
        id=finding_key,
        kind=kind,
        title=title,
        source=source,
        url=f"https://example.com/{finding_key}" if url is DEFAULT else url,
        observed_at=observed,
        published_at=(
            observed - timedelta(days=days_ago) if published_at is DEFAULT else published_at
        ),
        confidence=confidence,
        fields=dict(fields),
    )


class FakeEventLog:
    """EventLog in memory: gap-free seqs, dedup keys, nothing after the end but chat (the
    rules every real log shares, from ``eventlog/base.py``)."""

    def __init__(self) -> None:
        self.events: dict[str, list[Event]] = {}
        self.records: dict[str, SessionRecord] = {}
        self._keys: dict[str, dict[str, int]] = {}  # dedup key -> seq
        self._on_logged: Callable[[list[Event]], None] | None = None

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def set_on_logged(self, on_logged: Callable[[list[Event]], None]) -> None:
        self._on_logged = on_logged

    async def append(self, session_id: str, events: Sequence[NewEvent]) -> list[Event]:
        if session_id not in self.records:
            raise NotFound(f"no session {session_id}")
        log = self.events[session_id]
        closed = any(e.type == EventType.SESSION_COMPLETED for e in log)
        pairs = assign_seqs(session_id, len(log), events, self._keys[session_id], closed=closed)
        logged = [event for event, _ in pairs]
        log.extend(logged)
        self._keys[session_id].update((key, e.seq) for e, key in pairs if key is not None)
        if logged and self._on_logged is not None:
            self._on_logged(logged)
        return logged

    async def read_after(
        self, session_id: str, after_seq: int, *, limit: int = 1000, workflow: str | None = None
    ) -> list[Event]:
        events = [e for e in self.events.get(session_id, []) if e.seq > after_seq]
        if workflow is not None:
            events = [e for e in events if e.workflow in (None, workflow)]
        return events[:limit]

    async def last_seq(self, session_id: str) -> int:
        if session_id not in self.records:
            raise NotFound(f"unknown session {session_id}")
        return len(self.events[session_id])

    async def terminal_seq(self, session_id: str, workflow: str | None = None) -> int | None:
        if workflow is not None:  # a workflow's end always carries its one end key
            return self._keys.get(session_id, {}).get(keys.workflow_end(workflow))
        ends = [e.seq for e in self.events.get(session_id, []) if e.type == SESSION_TERMINAL]
        return ends[0] if ends else None

    async def create_session(self, record: SessionRecord) -> None:
        self.records[record.session_id] = record
        self.events[record.session_id] = []
        self._keys[record.session_id] = {}

    async def get_session(self, session_id: str) -> SessionRecord | None:
        return self.records.get(session_id)

    async def find_running(self, account_key: str, vendor_hash: str) -> SessionRecord | None:
        for record in self.records.values():
            if (record.account_key, record.vendor_hash, record.status) == (
                account_key,
                vendor_hash,
                SessionStatus.RUNNING,
            ):
                return record
        return None

    async def list_sessions(
        self, *, owner: str | None, account_key: str | None, limit: int
    ) -> list[SessionRecord]:
        records = [
            r
            for r in self.records.values()
            if (owner is None or owner in r.owners or owner in r.members)
            and (account_key is None or r.account_key == account_key)
        ]
        return sorted(records, key=lambda r: r.created_at, reverse=True)[:limit]

    async def set_status(self, session_id: str, status: SessionStatus) -> None:
        self.records[session_id] = dataclasses.replace(self.records[session_id], status=status)

    async def add_owner(self, session_id: str, principal: str) -> None:
        self.records[session_id].owners.add(principal)

    async def add_member(self, session_id: str, principal: str) -> None:
        self.records[session_id].members.add(principal)

    async def remove_member(self, session_id: str, principal: str) -> None:
        self.records[session_id].members.discard(principal)

    async def expire_sessions(self, cutoff: str, *, keep: Collection[str] = ()) -> list[str]:
        expired = []
        for session_id, record in list(self.records.items()):
            log = self.events[session_id]
            last = log[-1].ts if log else record.created_at
            if record.status != SessionStatus.RUNNING and last < cutoff and session_id not in keep:
                del self.records[session_id], self.events[session_id], self._keys[session_id]
                expired.append(session_id)
        return expired

    async def ping(self) -> None:
        return None


class FakeCache:
    """Cache as a dict (TTLs recorded, not enforced: tests say when something expires)."""

    def __init__(self) -> None:
        self.values: dict[str, JsonValue] = {}
        self.ttls: dict[str, float] = {}

    async def get(self, key: str) -> JsonValue | None:
        return self.values.get(key)

    async def set(self, key: str, value: JsonValue, *, ttl_s: float) -> None:
        self.values[key] = value
        self.ttls[key] = ttl_s

    async def delete(self, key: str) -> None:
        self.values.pop(key, None)
        self.ttls.pop(key, None)


class FakeProvider:
    """Provider that says ``text`` (in words, one delta each) and records what it was
    asked; ``pause_s`` between words lets other questions arrive meanwhile."""

    name: ClassVar[str] = "fake"
    deterministic: ClassVar[bool] = True
    offline: ClassVar[bool] = True

    def __init__(self, text: str = "Hello world.", *, pause_s: float = 0.0) -> None:
        self.text = text
        self.pause_s = pause_s
        self.analyses: list[AnalysisRequest] = []
        self.questions: list[QuestionRequest] = []

    async def analyze(self, request: AnalysisRequest) -> AsyncIterator[ProviderChunk]:
        self.analyses.append(request)
        async for chunk in self._say():
            yield chunk

    async def answer(self, request: QuestionRequest) -> AsyncIterator[ProviderChunk]:
        self.questions.append(request)
        async for chunk in self._say():
            yield chunk

    async def _say(self) -> AsyncIterator[ProviderChunk]:
        words = self.text.split(" ")
        for i, word in enumerate(words):
            if i and self.pause_s:
                await asyncio.sleep(self.pause_s)
            yield TextDelta(word if i == len(words) - 1 else word + " ")


class FakeCollector:
    """Emits the findings it was given, optionally slowly or failing."""

    name: ClassVar[str] = "fake"
    label: ClassVar[str] = "Fake source"
    data_types: ClassVar[frozenset[DataType]] = frozenset({DataType.NEWS})

    def __init__(
        self,
        findings: list[Finding] | None = None,
        *,
        delay_s: float = 0.0,
        error: Exception | None = None,
    ) -> None:
        self.findings = findings or []
        self.delay_s = delay_s
        self.error = error
        self.calls = 0

    def applicable(self, identifiers: dict[str, str]) -> bool:
        return True

    async def collect(self, ctx: CollectContext) -> CollectResult:
        self.calls += 1
        total = len(self.findings)
        for i, finding in enumerate(self.findings):
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            await ctx.emit(finding)
            await ctx.progress(ProgressReport(done=i + 1, total=total, found=i + 1))
        if self.error is not None:
            raise self.error
        return CollectResult(findings=list(self.findings))


class ScriptedCollector(FakeCollector):
    """A registrable fake (constructed from CollectorDeps like the real ones): three news
    findings, a little slowly, for workflow tests that must not depend on recordings."""

    name: ClassVar[str] = "scripted"
    label: ClassVar[str] = "Scripted news"

    def __init__(self, deps: object) -> None:
        super().__init__(
            [make_finding(FindingKind.NEWS_ARTICLE, f"Acme story {i}") for i in range(3)],
            delay_s=0.01,
        )


class BrokenCollector(FakeCollector):
    """A registrable fake that finds one thing, then fails."""

    name: ClassVar[str] = "broken"
    label: ClassVar[str] = "Broken board"
    data_types: ClassVar[frozenset[DataType]] = frozenset({DataType.JOBS})

    def __init__(self, deps: object) -> None:
        from dossier.errors import SourceUnavailable

        super().__init__(
            [make_finding(FindingKind.JOB_POSTING, "Half a job")],
            error=SourceUnavailable("the board fell over"),
        )


class EverythingCollector(FakeCollector):
    """A registrable fake that answers for every data type: with it, a research whose
    account resolves completely ends ``completed`` (and a second look is a cached session)."""

    name: ClassVar[str] = "everything"
    label: ClassVar[str] = "Everything source"
    data_types: ClassVar[frozenset[DataType]] = frozenset(DataType)

    def __init__(self, deps: object) -> None:
        super().__init__(
            [
                make_finding(FindingKind.COMPANY_PROFILE, "Acme profile"),
                make_finding(FindingKind.PERSON, "Jane Roe", name="Jane Roe", role="CEO"),
                make_finding(FindingKind.JOB_POSTING, "Fraud Analyst"),
                make_finding(FindingKind.NEWS_ARTICLE, "Acme raises a round"),
                make_finding(FindingKind.TECHNOLOGY, "Kafka"),
                make_finding(FindingKind.FILING, "Form D"),
            ]
        )


class FakeEngine:
    """WorkflowEngine that records calls and starts nothing."""

    def __init__(self, cached: list[NewEvent] | None = None) -> None:
        self.started: list[str] = []
        self.cancelled: list[str] = []
        self.cached = cached
        self.stuck: set[str] = set()  # sessions whose workflows nothing will finish

    async def start(self, record: SessionRecord, *, refresh: bool) -> None:
        self.started.append(record.session_id)

    async def cached_events(self, record: SessionRecord) -> list[NewEvent] | None:
        return list(self.cached) if self.cached is not None else None

    async def cancel(self, session_id: str) -> None:
        self.cancelled.append(session_id)

    async def ensure_running(self, record: SessionRecord) -> bool:
        return record.session_id not in self.stuck


class OfflineTransport(httpx.AsyncBaseTransport):
    """Every source unreachable, as on a machine without internet (DNS fails)."""

    def __init__(self) -> None:
        self.requests: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(str(request.url))
        raise httpx.ConnectError("[Errno -2] Name or service not known", request=request)
