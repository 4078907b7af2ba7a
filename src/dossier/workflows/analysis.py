"""The analyze step's body: stream the analyst onto the log as ``analysis.*`` events.

Deltas are coalesced into small batches (one log commit per ~30 ms or 24 events): a
builtin analysis streams hundreds of words in a few milliseconds, an LLM one token at a
time, and both should cost few commits. Every event has a dedup key by position, so a
re-run after a crash does not repeat what the log already holds; ``analysis.completed``
carries the whole text, which is what the snapshot shows.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import JsonValue

from dossier.core import keys
from dossier.core.coverage import CoverageNote
from dossier.core.events import EventType, NewEvent
from dossier.core.ports import AnalysisRequest, CitationMark, TextDelta
from dossier.core.records import WorkflowKind
from dossier.core.types import Account, Finding, Vendor
from dossier.errors import DossierError
from dossier.providers.base import analysis_stream

if TYPE_CHECKING:
    from dossier.workflows.runtime import Runtime

_FLUSH_EVENTS = 24
_FLUSH_S = 0.03


async def run_analysis(
    rt: Runtime,
    session_id: str,
    workflow: str,
    account: Account,
    vendor: Vendor,
    findings: Sequence[Finding],
    coverage: Mapping[str, CoverageNote],
    vendor_text: str | None,
) -> dict[str, Any]:
    subject = account if workflow == WorkflowKind.CUSTOMER_INTELLIGENCE else None
    request = AnalysisRequest(
        workflow=workflow,
        account_name=subject.name if subject else (vendor.name or "our company"),
        vendor_name=vendor.name,
        vendor_description=vendor.description,
        vendor_sells_to=vendor.sells_to,
        findings=findings,
        coverage=coverage,
        vendor_summary=vendor_text,
    )
    index = 0
    buffer: list[NewEvent] = []
    last_flush = time.monotonic()

    def event(etype: str, data: dict[str, JsonValue], key: str | None = None) -> NewEvent:
        nonlocal index
        index += 1
        dedup = keys.analysis(workflow, key or index)
        return NewEvent(type=etype, data=data, workflow=workflow, step="analyze", dedup=dedup)

    async def flush() -> None:
        nonlocal last_flush
        if buffer:
            await rt.log.append(session_id, list(buffer))
            buffer.clear()
        last_flush = time.monotonic()

    text: list[str] = []
    length = 0  # of the text so far: where each citation stands in it
    citations: list[dict[str, JsonValue]] = []
    error: str | None = None
    buffer.append(event(EventType.ANALYSIS_STARTED, {"provider": rt.provider.name}, "started"))
    await flush()
    provider_used = rt.provider.name
    try:
        async for chunk, used in analysis_stream(rt.provider, request, rt.settings):
            provider_used = used
            if isinstance(chunk, TextDelta):
                text.append(chunk.text)
                length += len(chunk.text)
                buffer.append(event(EventType.ANALYSIS_DELTA, {"text": chunk.text}))
            elif isinstance(chunk, CitationMark):
                cite: dict[str, JsonValue] = chunk.citation.model_dump(mode="json")
                cite["at"] = length  # after the sentence it supports (the export's [n])
                citations.append(cite)
                buffer.append(event(EventType.ANALYSIS_CITATION, cite))
            if len(buffer) >= _FLUSH_EVENTS or time.monotonic() - last_flush >= _FLUSH_S:
                await flush()
    except DossierError as exc:
        error = exc.message
    result: dict[str, Any] = {
        "text": "".join(text),
        "citations": citations,
        "provider": provider_used,
        "partial": error is not None,
    }
    if error is not None:
        result["error"] = error
    buffer.append(event(EventType.ANALYSIS_COMPLETED, dict(result), "completed"))
    await flush()
    return result
