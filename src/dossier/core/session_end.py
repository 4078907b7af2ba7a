"""The ``session.completed`` payload (PRODUCT.md "Event types"): built here only.

Three writers end a session: the research workflow (``workflows/steps.finish_session``),
the cached fast path (``workflows/engine``), and a cancel or a failure to start
(``core/sessions``). A count a writer does not know is left out rather than said as 0: a
cancelled session made requests nobody counted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import JsonValue

from dossier.core import keys
from dossier.core.events import EventType, NewEvent
from dossier.core.records import WorkflowKind
from dossier.core.states import SessionStatus


@dataclass(frozen=True)
class SessionEnd:
    status: SessionStatus
    coverage: Mapping[str, JsonValue]
    found: int
    missing: Sequence[JsonValue] | None = None
    hint: str | None = None
    cache_hits: int | None = None
    requests: int | None = None
    calls_saved: int | None = None
    time_saved_ms: int | None = None
    duration_ms: int | None = None
    failed_workflows: Sequence[str] = field(default_factory=tuple)
    cached_at: str | None = None  # only for a session served whole from cache
    error: str | None = None

    @classmethod
    def of_workflows(
        cls,
        status: SessionStatus,
        summaries: Mapping[str, Mapping[str, Any]],
        *,
        failed: Sequence[str] = (),
        duration_ms: int | None = None,
        cached_at: str | None = None,
    ) -> SessionEnd:
        """From the workflows' summaries (``workflows/outcome.workflow_summary``): the
        account's coverage is the customer workflow's; the counts are both workflows'."""
        customer = summaries.get(WorkflowKind.CUSTOMER_INTELLIGENCE) or {}

        def total(name: str) -> int:
            return sum(int((s or {}).get(name) or 0) for s in summaries.values())

        coverage = customer.get("coverage")
        missing = customer.get("missing")
        hint = customer.get("hint")
        return cls(
            status=status,
            coverage=coverage if isinstance(coverage, Mapping) else {},
            found=total("found"),
            missing=list(missing) if isinstance(missing, list) else [],
            hint=hint if isinstance(hint, str) else None,
            cache_hits=total("cache_hits"),
            requests=0 if cached_at else total("requests"),
            calls_saved=total("saved_requests"),
            time_saved_ms=total("saved_ms"),
            duration_ms=duration_ms,
            failed_workflows=tuple(failed),
            cached_at=cached_at,
        )

    def data(self) -> dict[str, JsonValue]:
        out: dict[str, JsonValue] = {
            "status": self.status.value,
            "coverage": dict(self.coverage),
            "found": self.found,
        }
        counts: dict[str, JsonValue] = {
            "missing": list(self.missing) if self.missing is not None else None,
            "hint": self.hint,
            "cache_hits": self.cache_hits,
            "requests": self.requests,
            "calls_saved": self.calls_saved,
            "time_saved_ms": self.time_saved_ms,
        }
        if self.requests is not None:  # a workflow's end: every field, known or null
            out.update(counts)
            out["duration_ms"] = self.duration_ms
            out["failed_workflows"] = list(self.failed_workflows)
        if self.cached_at is not None:
            out["cached"] = True
            out["cached_at"] = self.cached_at
        if self.error is not None:
            out["error"] = self.error
        return out

    def event(self) -> NewEvent:
        return NewEvent(
            type=EventType.SESSION_COMPLETED, data=self.data(), dedup=keys.SESSION_COMPLETED
        )
