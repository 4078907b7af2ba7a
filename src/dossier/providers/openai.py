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

from collections.abc import AsyncGenerator, AsyncIterator
from typing import ClassVar

import anyio
import httpx2
import openai
from openai.types.chat import ChatCompletionMessageParam

from dossier.core.ports import AnalysisRequest, ProviderChunk, QuestionRequest
from dossier.errors import ProviderError
from dossier.providers.base import ProviderDeps
from dossier.providers.citations import cite_stream
from dossier.providers.prompts import Prompt, analysis_prompt, question_prompt
from dossier.providers.remote import Endpoint, redact

DEFAULT_BASE_URL = "https://api.openai.com/v1"
_COMPLETE_REASONS = frozenset({"stop"})
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
    deterministic: ClassVar[bool] = False
    offline: ClassVar[bool] = False

    def __init__(self, deps: ProviderDeps) -> None:
        settings = deps.settings
        self.model = settings.openai_model
        self.endpoint = Endpoint(
            provider="openai",
            base_url=settings.openai_base_url or DEFAULT_BASE_URL,
            custom=settings.openai_base_url is not None,
            api_key=settings.openai_api_key,
            timeout_s=settings.provider_timeout_s,
            missing_key="DOSSIER_OPENAI_API_KEY is not set (a local server needs only "
            "DOSSIER_OPENAI_BASE_URL)",
        )

    def analyze(self, request: AnalysisRequest) -> AsyncIterator[ProviderChunk]:
        prompt = analysis_prompt(request)
        return cite_stream(self._texts(prompt), prompt.citation_parser())

    def answer(self, request: QuestionRequest) -> AsyncIterator[ProviderChunk]:
        prompt = question_prompt(request)
        return cite_stream(self._texts(prompt), prompt.citation_parser())

    async def _texts(self, prompt: Prompt) -> AsyncGenerator[str, None]:
        key = self.endpoint.key()
        messages: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": prompt.system},
            {"role": "user", "content": prompt.user},
        ]
        finish: str | None = None
        try:
            async with openai.AsyncOpenAI(
                api_key=key,
                base_url=self.endpoint.base_url,
                timeout=self.endpoint.timeouts(),
                max_retries=0,
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
            raise ProviderError(
                f"openai ({self.endpoint.host()}): the stream ended before the answer did"
            )
        if finish not in _COMPLETE_REASONS:
            raise ProviderError(f"openai: the answer was cut off (finish_reason={finish})")

    def _describe(self, exc: BaseException, key: str) -> str:
        where = f"openai ({self.endpoint.host()}, model {self.model})"
        if isinstance(exc, openai.APITimeoutError) and _caused_by(exc, httpx2.ConnectTimeout):
            text = f"{where}: could not connect within {self.endpoint.connect_timeout_s:g} s"
        elif isinstance(exc, openai.APITimeoutError):
            text = f"{where}: no response for {self.endpoint.timeout_s:g} s"
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
        return redact(text, key)


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
