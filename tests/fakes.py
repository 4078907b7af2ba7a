"""Tiny fakes for the ports (collector, engine)."""

from __future__ import annotations

import asyncio
from typing import ClassVar

import httpx

from dossier.core.events import NewEvent
from dossier.core.ports import CollectContext, CollectResult, ProgressReport
from dossier.core.records import SessionRecord
from dossier.core.types import DataType, Finding, FindingKind, finding_id, utcnow


def make_finding(
    kind: FindingKind = FindingKind.NEWS_ARTICLE, title: str = "A story", **fields: str
) -> Finding:
    return Finding(
        id=finding_id(kind, title),
        kind=kind,
        title=title,
        source="fake",
        url=f"https://example.com/{abs(hash(title))}",
        observed_at=utcnow(),
        confidence=0.9,
        fields=dict(fields),
    )


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

    async def start(self, record: SessionRecord, *, refresh: bool) -> None:
        self.started.append(record.session_id)

    async def cached_events(self, record: SessionRecord) -> list[NewEvent] | None:
        return list(self.cached) if self.cached is not None else None

    async def cancel(self, session_id: str) -> None:
        self.cancelled.append(session_id)


class OfflineTransport(httpx.AsyncBaseTransport):
    """Every source unreachable, as on a machine without internet (DNS fails)."""

    def __init__(self) -> None:
        self.requests: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(str(request.url))
        raise httpx.ConnectError("[Errno -2] Name or service not known", request=request)
