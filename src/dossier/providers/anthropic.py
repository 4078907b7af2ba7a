"""Anthropic analyst: the streamed Messages API through the official ``anthropic`` SDK.

The wire format is Server-Sent Events with named events: ``message_start``, then per content
block ``content_block_start`` / ``content_block_delta`` (``text_delta``) /
``content_block_stop``, ``message_delta`` (carrying ``stop_reason``), ``message_stop``;
``ping`` may come at any point, and an ``error`` event (e.g. ``overloaded_error``, the
in-stream form of HTTP 529) can interrupt a stream that already sent text. The SDK parses
the events and skips pings; this module builds the request (:mod:`dossier.providers.prompts`),
turns text deltas into cited provider chunks (:mod:`dossier.providers.citations`) and every
failure into ``ProviderError``.

Each call opens its own SDK client (this SDK accepts only ``httpx2`` clients, not the
process's ``httpx`` one) and closes it when the stream ends, is abandoned or fails. SDK
retries are off: retrying is decided once, in ``providers.base``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import ClassVar

import anthropic
import anyio
import httpx2
from anthropic.types import MessageParam

from dossier.core.ports import AnalysisRequest, ProviderChunk, QuestionRequest
from dossier.errors import ProviderError
from dossier.providers.base import ProviderDeps
from dossier.providers.citations import cite_stream
from dossier.providers.prompts import Prompt, analysis_prompt, question_prompt
from dossier.providers.remote import Endpoint, redact

DEFAULT_BASE_URL = "https://api.anthropic.com"
# The Messages API requires a cap; an analysis has six short parts, an answer five sentences.
ANALYSIS_MAX_TOKENS = 1500
ANSWER_MAX_TOKENS = 700
_COMPLETE_REASONS = frozenset({"end_turn", "stop_sequence"})
# The SDK wraps errors before the response, but not transport errors while reading the
# stream (httpx2 / anyio); a body that is not JSON raises ValueError.
_FOREIGN_ERRORS = (
    anthropic.AnthropicError,
    httpx2.HTTPError,
    httpx2.StreamError,
    anyio.EndOfStream,
    OSError,
    ValueError,
)


class AnthropicProvider:
    """Streams an analysis or an answer from the Anthropic Messages API.

    ``analyze``/``answer`` yield ``TextDelta`` chunks without citation markers and a
    ``CitationMark`` per cited finding. They raise ``ProviderError`` (cause chained, never
    the API key) on an HTTP error (e.g. 529 overloaded), a timeout (no byte for
    ``provider_timeout_s``), a dropped connection, an ``error`` event, or a stream that
    ends without ``message_stop`` or stops for a reason other than ``end_turn`` /
    ``stop_sequence`` (e.g. ``max_tokens``); what was streamed before stays streamed.
    """

    name: ClassVar[str] = "anthropic"
    deterministic: ClassVar[bool] = False
    offline: ClassVar[bool] = False

    def __init__(self, deps: ProviderDeps) -> None:
        settings = deps.settings
        self.model = settings.anthropic_model
        self.endpoint = Endpoint(
            provider="anthropic",
            base_url=settings.anthropic_base_url or DEFAULT_BASE_URL,
            custom=settings.anthropic_base_url is not None,
            api_key=settings.anthropic_api_key,
            timeout_s=settings.provider_timeout_s,
            missing_key="DOSSIER_ANTHROPIC_API_KEY is not set",
        )

    def analyze(self, request: AnalysisRequest) -> AsyncIterator[ProviderChunk]:
        prompt = analysis_prompt(request)
        texts = self._texts(prompt, max_tokens=ANALYSIS_MAX_TOKENS)
        return cite_stream(texts, prompt.citation_parser())

    def answer(self, request: QuestionRequest) -> AsyncIterator[ProviderChunk]:
        prompt = question_prompt(request)
        texts = self._texts(prompt, max_tokens=ANSWER_MAX_TOKENS)
        return cite_stream(texts, prompt.citation_parser())

    async def _texts(self, prompt: Prompt, *, max_tokens: int) -> AsyncGenerator[str, None]:
        key = self.endpoint.key()
        messages: list[MessageParam] = [{"role": "user", "content": prompt.user}]
        stop_reason: str | None = None
        stopped = False
        try:
            async with anthropic.AsyncAnthropic(
                api_key=key,
                base_url=self.endpoint.base_url,
                timeout=self.endpoint.timeouts(),
                max_retries=0,
            ) as client:
                stream = await client.messages.create(
                    model=self.model,
                    max_tokens=max_tokens,
                    system=prompt.system,
                    messages=messages,
                    stream=True,
                )
                async with stream:
                    async for event in stream:
                        if event.type == "content_block_delta":
                            # thinking / tool deltas are not part of the answer
                            if event.delta.type == "text_delta" and event.delta.text:
                                yield event.delta.text
                        elif event.type == "message_delta":
                            stop_reason = event.delta.stop_reason
                        elif event.type == "message_stop":
                            stopped = True
        except _FOREIGN_ERRORS as exc:
            raise ProviderError(self._describe(exc, key)) from exc
        if not stopped:
            raise ProviderError(
                f"anthropic ({self.endpoint.host()}): the stream ended before message_stop"
            )
        if stop_reason is not None and stop_reason not in _COMPLETE_REASONS:
            raise ProviderError(f"anthropic: the answer was cut off (stop_reason={stop_reason})")

    def _describe(self, exc: BaseException, key: str) -> str:
        where = f"anthropic ({self.endpoint.host()}, model {self.model})"
        cause = exc.__cause__ or exc.__context__
        if isinstance(exc, anthropic.APITimeoutError) and isinstance(cause, httpx2.ConnectTimeout):
            text = f"{where}: could not connect within {self.endpoint.connect_timeout_s:g} s"
        elif isinstance(exc, anthropic.APITimeoutError):
            text = f"{where}: no response for {self.endpoint.timeout_s:g} s"
        elif isinstance(exc, httpx2.TimeoutException):
            text = f"{where}: the stream stalled for {self.endpoint.timeout_s:g} s"
        elif isinstance(exc, anthropic.APIConnectionError):
            reason = type(cause).__name__ if cause is not None else "connection error"
            text = f"{where}: connection failed ({reason})"
        elif isinstance(exc, (httpx2.HTTPError, httpx2.StreamError, anyio.EndOfStream, OSError)):
            text = f"{where}: connection dropped mid-stream ({type(exc).__name__})"
        elif isinstance(exc, anthropic.APIStatusError):
            detail = exc.api_message or exc.message
            kind = f" ({exc.type})" if exc.type else ""
            # An in-stream `error` event arrives on a 200 response.
            status = "error event" if exc.status_code < 400 else f"HTTP {exc.status_code}"
            text = f"{where}: {status}: {detail}{kind}"
        else:
            text = f"{where}: {type(exc).__name__}: {exc}"
        return redact(text, key)
