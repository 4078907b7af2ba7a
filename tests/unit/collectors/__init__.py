"""Collector tests, and what they share: replayed HTTP and a context that records.

Collectors run end to end through the real :class:`SourceHttp` over the packaged
recordings (:class:`ReplayTransport`), or over an ``httpx.MockTransport`` for failures no
recording holds (timeouts, 429 then 200). Backoff sleeps are skipped, pacing is off.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from typing import TypeVar

import httpx

from dossier.collectors.base import CollectorDeps
from dossier.collectors.http import SourceHttp
from dossier.collectors.replay import ReplayTransport
from dossier.core.ports import (
    CollectContext,
    Collector,
    CollectResult,
    ProgressReport,
    RetryNotice,
)
from dossier.core.types import Finding, FindingKind
from dossier.settings import Settings

OBSERVED_AT = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)

Handler = Callable[[httpx.Request], httpx.Response]


def fixture_bytes(path: str) -> bytes:
    """A packaged recording, e.g. ``"lever/spotify_postings.json"``."""
    return resources.files("dossier.fixtures").joinpath(path).read_bytes()


def fixture_json(path: str) -> object:
    return json.loads(fixture_bytes(path))


def pay(low: int, high: int, currency: str, interval: str = "year") -> dict[str, object]:
    """A ``compensation`` field as every job-board parser writes it."""
    return {"min": low, "max": high, "currency": currency, "interval": interval}


async def no_sleep(_seconds: float) -> None:
    return None


def recorded(path: str, status: int = 200, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """A packaged recording served for a URL it was not recorded for (replay itself
    answers only recorded requests): e.g. the real "no such board" 404 for another slug."""
    return status, dict(headers), fixture_bytes(path)


def replay_http(extra: Extra | None = None) -> SourceHttp:
    """SourceHttp over the packaged recordings (plus ``extra`` URL -> response)."""
    client = httpx.AsyncClient(transport=ReplayTransport(extra=extra))
    return SourceHttp(client, host_intervals_s={}, sleep=no_sleep)


def mock_http(handler: Handler, *, retries: int = 3) -> SourceHttp:
    """SourceHttp over a request -> response function."""
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return SourceHttp(client, retries=retries, host_intervals_s={}, sleep=no_sleep)


def deps(http: SourceHttp, settings: Settings) -> CollectorDeps:
    return CollectorDeps(http=http, settings=settings)


C = TypeVar("C")
Extra = dict[str, tuple[int, dict[str, str], bytes]]


def replayed(
    make: Callable[[CollectorDeps], C], settings: Settings, extra: Extra | None = None
) -> tuple[C, ReplayTransport]:
    """A collector over the packaged recordings without retries, and its transport (which
    keeps the URLs asked)."""
    transport = ReplayTransport(extra=extra)
    http = SourceHttp(httpx.AsyncClient(transport=transport), host_intervals_s={}, retries=0)
    return make(CollectorDeps(http=http, settings=settings)), transport


@dataclass
class Recorder:
    """Callbacks of a CollectContext that keep what the collector reported."""

    emitted: list[Finding] = field(default_factory=list)
    progress: list[ProgressReport] = field(default_factory=list)
    retries: list[RetryNotice] = field(default_factory=list)

    def context(self, **identifiers: str) -> CollectContext:
        return self.account(identifiers.get("name", ""), identifiers)

    def account(self, name: str, identifiers: dict[str, str]) -> CollectContext:
        """A context for ``name`` whose identifiers need not include the name."""
        return CollectContext(
            account_name=name,
            identifiers=dict(identifiers),
            emit=self._emit,
            progress=self._progress,
            on_retry=self._retry,
        )

    async def run(
        self,
        make: Callable[[CollectorDeps], Collector],
        http: SourceHttp,
        settings: Settings,
        **identifiers: str,
    ) -> CollectResult:
        """Build the collector over ``http`` and collect the account ``identifiers`` name."""
        return await make(CollectorDeps(http=http, settings=settings)).collect(
            self.context(**identifiers)
        )

    def of(self, kind: FindingKind) -> list[Finding]:
        return [f for f in self.emitted if f.kind is kind]

    async def _emit(self, finding: Finding) -> None:
        self.emitted.append(finding)

    async def _progress(self, report: ProgressReport) -> None:
        self.progress.append(report)

    async def _retry(self, notice: RetryNotice) -> None:
        self.retries.append(notice)
