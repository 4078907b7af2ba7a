"""Provider registry by name, picked from settings (``DOSSIER_PROVIDER``)."""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass

import httpx

from dossier.core.ports import AnalysisRequest, Provider, ProviderChunk, QuestionRequest
from dossier.errors import DossierError, ProviderError
from dossier.settings import Settings

log = logging.getLogger(__name__)

PROVIDERS: dict[str, str] = {
    "builtin": "dossier.providers.builtin:BuiltinAnalyst",
    "openai": "dossier.providers.openai:OpenAIProvider",
    "anthropic": "dossier.providers.anthropic:AnthropicProvider",
}


@dataclass(frozen=True)
class ProviderDeps:
    settings: Settings
    http: httpx.AsyncClient | None = None


def load_provider(
    name: str, deps: ProviderDeps, table: Mapping[str, str] | None = None
) -> Provider:
    paths = table or PROVIDERS
    if name not in paths:
        raise KeyError(f"no provider named {name!r}; known: {sorted(paths)}")
    module_name, _, class_name = paths[name].partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    provider: Provider = cls(deps)
    return provider


async def analysis_stream(
    provider: Provider, request: AnalysisRequest, settings: Settings
) -> AsyncIterator[tuple[ProviderChunk, str]]:
    """The provider's analysis with the fallback rule; yields (chunk, provider used).

    An error before the first chunk is retried once, then the builtin analyst takes over
    (the answer is still complete); an error after it ends the stream with ProviderError
    (the caller marks the result partial).
    """
    async for item in _with_fallback(provider, settings, lambda p: p.analyze(request)):
        yield item


async def _with_fallback(
    provider: Provider,
    settings: Settings,
    start: Callable[[Provider], AsyncIterator[ProviderChunk]],
) -> AsyncIterator[tuple[ProviderChunk, str]]:
    attempts = 1 if provider.offline else 2
    last_error: Exception | None = None
    for _ in range(attempts):
        started = False
        try:
            async for chunk in start(provider):
                started = True
                yield chunk, provider.name
            return
        except (DossierError, Exception) as exc:
            if started:
                raise ProviderError(f"{provider.name} failed mid-answer: {exc}") from exc
            last_error = exc
            log.warning("provider %s failed before its first token: %s", provider.name, exc)
    if provider.name == "builtin":
        raise ProviderError(f"builtin analyst failed: {last_error}") from last_error
    fallback = load_provider("builtin", ProviderDeps(settings=settings))
    async for chunk in start(fallback):
        yield chunk, fallback.name


async def answer_stream(
    provider: Provider, request: QuestionRequest, settings: Settings
) -> AsyncIterator[tuple[ProviderChunk, str]]:
    """A chat answer with the same fallback rule as :func:`analysis_stream`."""
    async for item in _with_fallback(provider, settings, lambda p: p.answer(request)):
        yield item
