"""Findings with fixed dates for provider tests (prompts must be reproducible)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import JsonValue

from dossier.core.types import Finding, FindingKind, finding_id

BASE_TIME = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def finding(
    kind: FindingKind,
    title: str,
    *,
    days_ago: int = 0,
    confidence: float = 0.9,
    source: str = "fake",
    **fields: JsonValue,
) -> Finding:
    return Finding(
        id=finding_id(kind, title),
        kind=kind,
        title=title,
        source=source,
        url=f"https://example.com/{finding_id(kind, title)}",
        observed_at=BASE_TIME,
        published_at=BASE_TIME - timedelta(days=days_ago),
        confidence=confidence,
        fields=dict(fields),
    )
