"""What every news source shares: one ``news_article`` finding shape, keyed by the
article's canonical URL, so a story found by a feed, GDELT and HN is one fact.

Sources fill the ``fields`` they know (``outlet, author, domain, language, summary`` and
their own extras); a story without a link (some feed entries) is keyed by what the source
gives instead. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pydantic import JsonValue

from dossier.collectors.normalize import canonical_url
from dossier.core.types import Finding, FindingKind, finding_id


def news_finding(
    *,
    source: str,
    title: str,
    url: str | None,
    published_at: datetime | None,
    observed_at: datetime,
    confidence: float,
    fields: dict[str, JsonValue],
    key: Iterable[str] = (),
) -> Finding:
    """``url`` is canonicalised here; ``key`` identifies a story without one."""
    link = canonical_url(url) if url else None
    return Finding(
        id=finding_id(FindingKind.NEWS_ARTICLE, *((link,) if link else tuple(key))),
        kind=FindingKind.NEWS_ARTICLE,
        title=title,
        source=source,
        url=link,
        observed_at=observed_at,
        published_at=published_at,
        confidence=confidence,
        fields=fields,
    )


def unique(findings: Iterable[Finding]) -> list[Finding]:
    """The first finding of each id, in order (a feed or search lists a story twice)."""
    out: dict[str, Finding] = {}
    for finding in findings:
        out.setdefault(finding.id, finding)
    return list(out.values())
