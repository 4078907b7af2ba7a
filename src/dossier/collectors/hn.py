"""Hacker News (Algolia search API) -> ``news_article`` findings.

``GET hn.algolia.com/api/v1/search?query=NAME&tags=story&hitsPerPage=20``. Only stories
whose title names the company (as a word) are kept: Algolia matches loosely.
"""

from __future__ import annotations

import html
import json
from datetime import datetime
from typing import ClassVar

from pydantic import JsonValue

from dossier.collectors.base import CollectorDeps, mentions, parse_datetime
from dossier.core.ports import CollectContext, CollectResult, ProgressReport
from dossier.core.types import DataType, Finding, FindingKind, finding_id, utcnow
from dossier.errors import SourceBadAnswer, SourceUnavailable

SEARCH_URL = "https://hn.algolia.com/api/v1/search"
ITEM_URL = "https://news.ycombinator.com/item?id={id}"


def parse_search(payload: object, *, company: str | None, observed_at: datetime) -> list[Finding]:
    """Findings from an Algolia ``search`` body. Raises ValueError if it is not one."""
    if not isinstance(payload, dict) or not isinstance(payload.get("hits"), list):
        raise ValueError("not an HN Algolia search payload")
    findings: list[Finding] = []
    for hit in payload["hits"]:
        if not isinstance(hit, dict):
            continue
        title = html.unescape(str(hit.get("title") or "")).strip()
        object_id = str(hit.get("objectID") or "")
        if not title or not object_id:
            continue
        if company and not mentions(title, company):
            continue
        discussion = ITEM_URL.format(id=object_id)
        url = hit.get("url") or discussion
        raw_points = hit.get("points")
        points = raw_points if isinstance(raw_points, int) else 0
        fields: dict[str, JsonValue] = {
            "outlet": "Hacker News",
            "points": points,
            "comments": hit.get("num_comments") if isinstance(hit.get("num_comments"), int) else 0,
            "discussion_url": discussion,
            "author": hit.get("author"),
            "hn_id": object_id,
        }
        findings.append(
            Finding(
                id=finding_id(FindingKind.NEWS_ARTICLE, str(url)),
                kind=FindingKind.NEWS_ARTICLE,
                title=title,
                source="hn",
                url=str(url),
                observed_at=observed_at,
                published_at=parse_datetime(hit.get("created_at"))
                or parse_datetime(hit.get("created_at_i")),
                confidence=0.8 if points >= 50 else 0.6,
                fields=fields,
            )
        )
    return findings


class HackerNewsCollector:
    name: ClassVar[str] = "hn"
    label: ClassVar[str] = "Hacker News"
    data_types: ClassVar[frozenset[DataType]] = frozenset({DataType.NEWS})

    def __init__(self, deps: CollectorDeps) -> None:
        self._http = deps.http

    def applicable(self, identifiers: dict[str, str]) -> bool:
        return bool(identifiers.get("name"))

    async def collect(self, ctx: CollectContext) -> CollectResult:
        name = ctx.identifiers["name"]
        await ctx.progress(ProgressReport(0, 1, 0, f"searching HN for {name}"))
        response = await self._http.get(
            SEARCH_URL,
            params={"query": name.lower(), "tags": "story", "hitsPerPage": 20},
            on_retry=ctx.on_retry,
        )
        if not response.ok:
            raise SourceUnavailable(f"HN Algolia answered HTTP {response.status}")
        try:
            findings = parse_search(json.loads(response.text()), company=name, observed_at=utcnow())
        except ValueError as exc:
            raise SourceBadAnswer(f"HN Algolia sent something unexpected: {exc}") from exc
        for finding in findings:
            await ctx.emit(finding)
        await ctx.progress(ProgressReport(1, 1, len(findings), f"{len(findings)} stories"))
        return CollectResult(findings=findings, negative=not findings)
