"""The one HTTP path of every collector: timeouts, retries, per-host pacing, size limits.

Collectors never build clients: they get a :class:`SourceHttp` wrapping the process's one
``httpx.AsyncClient`` (live) or the same client over :class:`ReplayTransport` (replay), so
replay exercises exactly the code that runs live. A 404 is returned, not raised: "no
board here" is an answer. Retries (429, 5xx, timeouts, connection errors) back off with
jitter, honour ``Retry-After``, and are reported through ``on_retry`` so the workflow can
emit ``step.retrying``.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from dossier.collectors.scope import PriorityGate, current_priority, current_scope
from dossier.core.ports import RetryNotice
from dossier.errors import (
    DossierError,
    RateLimited,
    SourceBadAnswer,
    SourceTimeout,
    SourceUnavailable,
    SourceUnreachable,
    Stopped,
)

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Replay marks answers that come from constructed (sample) recordings with this header,
# and answers from recordings cut down to a few entries with the other (such an answer
# cannot prove that something is *not* there).
SAMPLE_HEADER = "x-dossier-sample"
TRIMMED_HEADER = "x-dossier-trimmed"
MAX_RETRY_AFTER_S = 30.0

# Minimum seconds between two requests to one host (the sources' published limits).
DEFAULT_HOST_INTERVALS_S: dict[str, float] = {
    "www.sec.gov": 0.1,  # SEC: <= 10 requests/s
    "data.sec.gov": 0.1,
    "efts.sec.gov": 0.1,
    "api.gdeltproject.org": 5.0,  # GDELT DOC: <= 1 request / 5 s
}

OnRetry = Callable[[RetryNotice], Awaitable[None]]
UrlGuard = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class SourceResponse:
    """What a source answered (after retries)."""

    url: str
    status: int
    headers: Mapping[str, str]
    content: bytes
    elapsed_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def text(self) -> str:
        """Body decoded with the declared charset, falling back to UTF-8 then Latin-1."""
        charset = _charset(self.headers.get("content-type", ""))
        for encoding in (charset, "utf-8-sig", "latin-1"):
            if not encoding:
                continue
            try:
                return self.content.decode(encoding)
            except (LookupError, UnicodeDecodeError):
                continue
        return self.content.decode("utf-8", errors="replace")


def _charset(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"').lower()
    return None


@dataclass
class _HostPacer:
    interval_s: float
    # one request at a time per paced host, the focused data type's first
    gate: PriorityGate = field(default_factory=lambda: PriorityGate(1))
    next_at: float = 0.0


class SourceHttp:
    """GET with retries and pacing over the shared client. Safe to share across tasks."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        retries: int = 3,
        max_response_bytes: int = 8 * 1024 * 1024,
        host_intervals_s: Mapping[str, float] | None = None,
        guard: UrlGuard | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        backoff_base_s: float = 0.5,
        attempt_timeout_s: float = 30.0,
        concurrency: int = 8,
    ) -> None:
        self.client = client
        self._retries = retries
        self._max_bytes = max_response_bytes
        self._intervals = dict(
            DEFAULT_HOST_INTERVALS_S if host_intervals_s is None else host_intervals_s
        )
        self._pacers: dict[str, _HostPacer] = {}
        self._guard = guard
        self._sleep = sleep
        self._backoff_base_s = backoff_base_s
        # httpx bounds each read, not a whole exchange: a source that trickles bytes (or a
        # transport that never answers) would hold a step forever without this deadline.
        self._attempt_timeout_s = attempt_timeout_s
        # Requests in flight at once, process-wide: bounded like everything else, and the
        # queue in front of it is where ``focus`` moves a data type's requests first.
        self._slots = PriorityGate(concurrency)
        self.requests = 0  # requests actually sent (for "calls saved" accounting)

    async def _pace(self, host: str) -> None:
        interval = self._intervals.get(host)
        if not interval:
            return
        pacer = self._pacers.setdefault(host, _HostPacer(interval))
        await pacer.gate.acquire(current_priority())
        try:
            wait = pacer.next_at - time.monotonic()
            if wait > 0:
                await self._sleep(wait)
            pacer.next_at = time.monotonic() + pacer.interval_s
        finally:
            pacer.gate.release()

    async def get(
        self,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
        on_retry: OnRetry | None = None,
        guarded: bool = False,
    ) -> SourceResponse:
        """GET ``url``; retry transient failures; return the final response.

        Raises:
            Stopped: the user stopped the research (checked before each request).
            SourceUnreachable: the host could not be reached (after all retries).
            SourceTimeout: no answer in time (after all retries).
            SourceUnavailable: still 5xx after all retries.
            SourceBadAnswer: the body is larger than allowed.
            RateLimited: still 429 after all retries.
            BlockedURL: ``guarded`` and the URL (or a redirect) is not a public http(s) host.
        """
        scope = current_scope()
        attempt = 0
        while True:
            attempt += 1
            if scope is not None and scope.stop_requested():
                raise Stopped("stopped at your request before this request")
            try:
                async with asyncio.timeout(self._attempt_timeout_s):
                    response = await self._once(url, params, headers, guarded)
            except DossierError:
                raise
            except TimeoutError:
                error, retry_after, final = "timeout: no answer in time", None, None
                failure: type[SourceUnavailable] = SourceTimeout
            except httpx.TimeoutException as exc:
                error, retry_after, final = f"timeout: {type(exc).__name__}", None, None
                failure = SourceTimeout
            except httpx.TransportError as exc:
                error, retry_after, final = f"network: {exc!s}"[:200], None, None
                failure = SourceUnreachable
            else:
                if response.status not in RETRY_STATUSES:
                    return response
                error = f"HTTP {response.status}"
                retry_after = _retry_after_s(response.headers.get("retry-after"))
                final = response
                failure = SourceUnavailable
            if attempt > self._retries:
                if final is not None and final.status == 429:
                    raise RateLimited(
                        f"{_host(url)} rate-limited us ({error})", retry_after_s=retry_after
                    )
                raise failure(f"{_host(url)} failed after {attempt} attempts: {error}")
            delay = self._backoff(attempt, retry_after)
            if on_retry is not None:
                await on_retry(RetryNotice(attempt=attempt, error=error, next_in_s=round(delay, 3)))
            log.info("retrying %s in %.2fs after %s", _host(url), delay, error)
            await self._sleep(delay)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(MAX_RETRY_AFTER_S, retry_after)
        base: float = self._backoff_base_s * (2.0 ** (attempt - 1))
        return min(MAX_RETRY_AFTER_S, base * (0.5 + random.random()))  # jitter: 0.5x-1.5x

    async def _once(
        self,
        url: str,
        params: Mapping[str, str | int] | None,
        headers: Mapping[str, str] | None,
        guarded: bool,
    ) -> SourceResponse:
        target = url
        redirects = 0
        while True:
            if guarded and self._guard is not None:
                await self._guard(target)
            await self._pace(_host(target))
            await self._slots.acquire(current_priority())
            try:
                started = time.perf_counter()
                self.requests += 1
                scope = current_scope()
                if scope is not None:
                    scope.requests += 1
                request = self.client.build_request(
                    "GET", target, params=params if target == url else None, headers=headers
                )
                response = await self.client.send(request, stream=True, follow_redirects=False)
                try:
                    if response.is_redirect and redirects < 5:
                        location = response.headers.get("location", "")
                        target = str(response.url.join(location))
                        redirects += 1
                        continue
                    content = await self._read_limited(response)
                finally:
                    await response.aclose()
            finally:
                self._slots.release()
            if scope is not None and response.headers.get(SAMPLE_HEADER):
                scope.samples += 1
            return SourceResponse(
                url=str(response.url),
                status=response.status_code,
                headers={k.lower(): v for k, v in response.headers.items()},
                content=content,
                elapsed_ms=(time.perf_counter() - started) * 1000,
            )

    async def _read_limited(self, response: httpx.Response) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self._max_bytes:
                raise SourceBadAnswer(
                    f"{response.url.host} answered more than {self._max_bytes} bytes"
                )
            chunks.append(chunk)
        return b"".join(chunks)


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _retry_after_s(value: str | None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def build_client(
    *, user_agent: str, timeout_s: float, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The process's one client: connect/read timeouts, pooled, our User-Agent."""
    return httpx.AsyncClient(
        headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"},
        timeout=httpx.Timeout(timeout_s, connect=min(5.0, timeout_s)),
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
        transport=transport,
        follow_redirects=False,
        trust_env=False,
    )
