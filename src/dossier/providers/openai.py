"""OpenAI-compatible analyst: streamed chat completions through the official ``openai`` SDK.

Any endpoint that speaks the Chat Completions API works through ``DOSSIER_OPENAI_BASE_URL``:
OpenAI itself, Ollama (``http://localhost:11434/v1``), vLLM, LM Studio. The wire format is
Server-Sent Events of ``data: {chat.completion.chunk}`` lines ending with ``data: [DONE]``;
the SDK parses it, this module builds the request (:mod:`dossier.providers.prompts`), turns
the text deltas into cited provider chunks (:mod:`dossier.providers.citations`) and every
failure into ``ProviderError``.

Each call opens its own SDK client (``httpx2`` inside, not the process's ``httpx`` client:
that one carries the sources' replay transport and SSRF guard) and closes it when the
stream ends, is abandoned or fails; the SDK's own retries are off, so retrying is decided
in one place (``providers.base``: once before the first token, then the builtin analyst).
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, AsyncIterator
from typing import ClassVar
from urllib.parse import urlsplit

import anyio
import httpx2
import openai
from openai.types.chat import ChatCompletionMessageParam

from dossier.core.ports import AnalysisRequest, ProviderChunk, QuestionRequest
from dossier.errors import ProviderError
from dossier.providers.base import ProviderDeps
from dossier.providers.citations import cite_stream
from dossier.providers.prompts import Prompt, analysis_prompt, question_prompt

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# Local servers ignore the key but the SDK refuses to run without one.
_KEYLESS_PLACEHOLDER = "unused"
_COMPLETE_REASONS = frozenset({"stop"})
_MESSAGE_MAX_CHARS = 300
# Connecting takes milliseconds when the endpoint is up; waiting the full provider timeout
# (twice, with the retry) would keep the builtin fallback from answering for minutes.
CONNECT_TIMEOUT_S = 5.0
_KEY_LIKE = re.compile(r"sk-[A-Za-z0-9_\-*.]{3,}")
# What can go wrong under the SDK: its own errors, transport errors it does not wrap
# (httpx2 / anyio), and a body that is not the JSON it expects.
_FOREIGN_ERRORS = (
    openai.OpenAIError,
    httpx2.HTTPError,
    httpx2.StreamError,
    anyio.EndOfStream,
    OSError,
    ValueError,
)


class OpenAIProvider:
    """Streams an analysis or an answer from an OpenAI-compatible endpoint.

    ``analyze``/``answer`` yield ``TextDelta`` chunks without citation markers and a
    ``CitationMark`` per cited finding. They raise ``ProviderError`` (with the cause chained,
    never the API key) when the endpoint refuses, times out (no byte for
    ``provider_timeout_s``), drops the connection, sends an error chunk, or ends without
    finishing (``finish_reason`` other than ``stop``); after a mid-stream failure what was
    streamed stays streamed.
    """

    name: ClassVar[str] = "openai"
    streams_tokens: ClassVar[bool] = True
    offline: ClassVar[bool] = False

    def __init__(self, deps: ProviderDeps) -> None:
        settings = deps.settings
        self.model = settings.openai_model
        self._base_url = settings.openai_base_url or DEFAULT_BASE_URL
        self._custom_endpoint = settings.openai_base_url is not None
        self._api_key = settings.openai_api_key
        self._timeout_s = settings.provider_timeout_s

    def analyze(self, request: AnalysisRequest) -> AsyncIterator[ProviderChunk]:
        prompt = analysis_prompt(request)
        return cite_stream(self._texts(prompt), prompt.citation_parser())

    def answer(self, request: QuestionRequest) -> AsyncIterator[ProviderChunk]:
        prompt = question_prompt(request)
        return cite_stream(self._texts(prompt), prompt.citation_parser())

    async def _texts(self, prompt: Prompt) -> AsyncGenerator[str, None]:
        key = self._key()
        messages: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": prompt.system},
            {"role": "user", "content": prompt.user},
        ]
        finish: str | None = None
        try:
            async with openai.AsyncOpenAI(
                api_key=key, base_url=self._base_url, timeout=self._timeouts(), max_retries=0
            ) as client:
                stream = await client.chat.completions.create(
                    model=self.model, messages=messages, stream=True
                )
                async with stream:
                    async for chunk in stream:
                        # Several choices only with n > 1, which we never ask for.
                        for choice in chunk.choices:
                            if choice.index != 0:
                                continue
                            if choice.delta is not None and choice.delta.content:
                                yield choice.delta.content
                            if choice.finish_reason:
                                finish = choice.finish_reason
        except _FOREIGN_ERRORS as exc:
            raise ProviderError(self._describe(exc, key)) from exc
        if finish is None:
            raise ProviderError(f"openai ({self._host()}): the stream ended before the answer did")
        if finish not in _COMPLETE_REASONS:
            raise ProviderError(f"openai: the answer was cut off (finish_reason={finish})")

    def _key(self) -> str:
        if self._api_key is not None and self._api_key.get_secret_value():
            return self._api_key.get_secret_value()
        if self._custom_endpoint:
            return _KEYLESS_PLACEHOLDER
        raise ProviderError(
            "openai: DOSSIER_OPENAI_API_KEY is not set (a local server needs only "
            "DOSSIER_OPENAI_BASE_URL)"
        )

    def _timeouts(self) -> httpx2.Timeout:
        """``provider_timeout_s`` for every wait (headers, each read: a stalled stream
        fails), except connecting, which is capped at ``CONNECT_TIMEOUT_S``."""
        return httpx2.Timeout(self._timeout_s, connect=min(CONNECT_TIMEOUT_S, self._timeout_s))

    def _host(self) -> str:
        parts = urlsplit(self._base_url)
        return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)

    def _describe(self, exc: BaseException, key: str) -> str:
        where = f"openai ({self._host()}, model {self.model})"
        if isinstance(exc, openai.APITimeoutError) and _caused_by(exc, httpx2.ConnectTimeout):
            text = (
                f"{where}: could not connect within {min(CONNECT_TIMEOUT_S, self._timeout_s):g} s"
            )
        elif isinstance(exc, openai.APITimeoutError):
            text = f"{where}: no response for {self._timeout_s:g} s"
        elif isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__ or exc.__context__
            reason = type(cause).__name__ if cause is not None else "connection error"
            text = f"{where}: connection failed or dropped ({reason})"
        elif isinstance(exc, openai.APIStatusError):
            text = f"{where}: HTTP {exc.status_code}: {_api_message(exc.body, exc.message)}"
        elif isinstance(exc, openai.APIError):
            text = f"{where}: error in stream: {_api_message(exc.body, exc.message)}"
        else:
            text = f"{where}: {type(exc).__name__}: {exc}"
        return _redact(text, key)


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    cause = exc.__cause__ or exc.__context__
    return isinstance(cause, kind)


def _api_message(body: object, fallback: str) -> str:
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            kind = inner.get("type") or inner.get("code")
            return f"{inner['message']} ({kind})" if isinstance(kind, str) else inner["message"]
    return fallback


def _redact(text: str, key: str) -> str:
    """Server messages may echo (part of) the key: 'Incorrect API key provided: sk-…'."""
    if len(key) >= 4:
        text = text.replace(key, "***")
    text = _KEY_LIKE.sub("sk-***", text)
    return text if len(text) <= _MESSAGE_MAX_CHARS else text[: _MESSAGE_MAX_CHARS - 1] + "…"
