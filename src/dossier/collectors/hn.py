"""Hacker News (Algolia search API) -> ``news_article`` findings.

``GET hn.algolia.com/api/v1/search?query=NAME&tags=story&hitsPerPage=20``. Only stories
whose title names the company (as a word) are kept: Algolia matches loosely.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import ClassVar

from pydantic import JsonValue

from dossier.collectors.base import SourceCollector
from dossier.collectors.fetching import deliver, fetch_json, reading
from dossier.collectors.news import news_finding, unique
from dossier.collectors.parsing import mentions, parse_datetime
from dossier.core.ports import CollectContext, CollectResult, ProgressReport
from dossier.core.types import DataType, Finding, utcnow
from dossier.core.words import plural

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
            news_finding(
                source="hn",
                title=title,
                url=str(url),
                published_at=parse_datetime(hit.get("created_at"))
                or parse_datetime(hit.get("created_at_i")),
                observed_at=observed_at,
                confidence=0.8 if points >= 50 else 0.6,
                fields=fields,
            )
        )
    return unique(findings)


class HackerNewsCollector(SourceCollector):
    name: ClassVar[str] = "hn"
    label: ClassVar[str] = "Hacker News"
    data_types: ClassVar[frozenset[DataType]] = frozenset({DataType.NEWS})

    async def collect(self, ctx: CollectContext) -> CollectResult:
        name = ctx.identifiers["name"]
        await ctx.progress(ProgressReport(0, 1, 0, f"searching HN for {name}"))
        payload = await fetch_json(
            self._http,
            SEARCH_URL,
            label=self.label,
            params={"query": name.lower(), "tags": "story", "hitsPerPage": 20},
            on_retry=ctx.on_retry,
        )
        with reading(self.label):
            findings = parse_search(payload, company=name, observed_at=utcnow())
        await deliver(ctx, findings, plural(len(findings), "story", "stories"))
        return CollectResult(findings=findings, negative=not findings)
