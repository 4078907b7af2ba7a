"""The builtin grounded analyst: offline, deterministic, never a fact without a finding.

Composition is pure (``providers/compose.py``); this module streams it: each sentence in
small groups of words (a "token" here is up to three words: enough to feel live, few
enough frames to stay cheap under load), then the citations of that sentence, each
finding cited once per text.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import ClassVar

from dossier.core.ports import (
    AnalysisRequest,
    CitationMark,
    ProviderChunk,
    QuestionRequest,
    TextDelta,
)
from dossier.core.types import Citation
from dossier.providers import answers, compose
from dossier.providers.base import ProviderDeps
from dossier.providers.compose import Sentence

WORDS_PER_DELTA = 3


def tokens(text: str, lead: str = "") -> list[str]:
    words = text.split(" ")
    chunks = [
        " ".join(words[i : i + WORDS_PER_DELTA]) for i in range(0, len(words), WORDS_PER_DELTA)
    ]
    return [(lead if i == 0 else " ") + chunk for i, chunk in enumerate(chunks)]


async def stream_sentences(
    sentences: Sequence[Sentence], *, delay_s: float = 0.0
) -> AsyncIterator[ProviderChunk]:
    # every sentence carries its citations, even a source cited before: each fact in the
    # brief shows its [n] (clients number a finding once and reuse the number)
    for index, sentence in enumerate(sentences):
        for token in tokens(sentence.text, " " if index else ""):
            yield TextDelta(token)
            if delay_s:
                await asyncio.sleep(delay_s)
        by_id = {f.id: f for f in sentence.cites}
        for finding in by_id.values():
            yield CitationMark(Citation(finding=finding.id, url=finding.url, title=finding.title))


def render(sentences: Sequence[Sentence]) -> str:
    return " ".join(s.text for s in sentences)


class BuiltinAnalyst:
    """Grounded extractive analyst (the default provider)."""

    name: ClassVar[str] = "builtin"
    deterministic: ClassVar[bool] = True
    offline: ClassVar[bool] = True

    def __init__(self, deps: ProviderDeps) -> None:
        self._delay_s = deps.settings.stream_delay_ms / 1000.0

    def analyze(self, request: AnalysisRequest) -> AsyncIterator[ProviderChunk]:
        return stream_sentences(compose.analysis(request), delay_s=self._delay_s)

    def answer(self, request: QuestionRequest) -> AsyncIterator[ProviderChunk]:
        return stream_sentences(answers.answer(request), delay_s=self._delay_s)
