"""GDELT DOC 2.0 article list -> ``news_article`` findings.

``GET api.gdeltproject.org/api/v2/doc/doc?query="name"&mode=artlist&format=json
&maxrecords=75&sort=datedesc`` answers ``{"articles": [{url, url_mobile, title, seendate,
socialimage, domain, language, sourcecountry}]}``, or ``{}`` when nothing matches (a
negative answer). ``seendate`` is ``20260101T120000Z`` (UTC), ``language`` a name
("English"). GDELT allows one request per 5 s: :class:`SourceHttp` paces the host and
retries its 429, whose body is plain text, not JSON; errors about the query also come back
as plain text with a 200. GDELT matches loosely, so only articles whose *title* names the
company are kept.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

from pydantic import JsonValue

from dossier.collectors.base import SourceCollector
from dossier.collectors.fetching import deliver, fetch_json, reading
from dossier.collectors.news import news_finding, unique
from dossier.collectors.parsing import mentions
from dossier.core.ports import CollectContext, CollectResult, ProgressReport
from dossier.core.types import (
    DataType,
    Finding,
    normalize_name,
    utcnow,
)
from dossier.core.words import plural

DOC_URL = "https://api.gdeltproject.org/api/v2/doc/doc"
MAX_RECORDS = 75


def parse_seendate(value: object) -> datetime | None:
    """``20260101T120000Z`` -> aware UTC datetime (None if it is not that format)."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value.strip(), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def parse_artlist(payload: object, *, company: str | None, observed_at: datetime) -> list[Finding]:
    """Findings from an ``artlist`` JSON body (``{}`` = none). Raises ValueError otherwise."""
    if not isinstance(payload, dict):
        raise ValueError("not a GDELT artlist payload")
    articles = payload.get("articles", [])
    if not isinstance(articles, list):
        raise ValueError("GDELT 'articles' is not a list")
    findings: list[Finding] = []
    for article in articles:
        if not isinstance(article, dict):
            continue
        title = " ".join(str(article.get("title") or "").split())
        url = str(article.get("url") or "").strip()
        if not title or not url.startswith(("http://", "https://")):
            continue
        if company and not mentions(title, company):
            continue
        domain = str(article.get("domain") or "").strip() or None
        fields: dict[str, JsonValue] = {
            "outlet": domain,  # GDELT names no outlet, only the site
            "author": None,
            "domain": domain,
            "language": str(article.get("language") or "").strip() or None,
            "summary": None,
            "source_country": str(article.get("sourcecountry") or "").strip() or None,
            "image": str(article.get("socialimage") or "").strip() or None,
        }
        finding = news_finding(
            source="gdelt",
            title=title,
            url=url,
            published_at=parse_seendate(article.get("seendate")),
            observed_at=observed_at,
            confidence=0.6,  # machine-collected press coverage, matched on the title only
            fields=fields,
        )
        findings.append(finding)
    return unique(findings)


class GdeltCollector(SourceCollector):
    name: ClassVar[str] = "gdelt"
    label: ClassVar[str] = "GDELT"
    data_types: ClassVar[frozenset[DataType]] = frozenset({DataType.NEWS})

    async def collect(self, ctx: CollectContext) -> CollectResult:
        """Raises RateLimited if GDELT still says 429 after SourceHttp's retries."""
        name = ctx.identifiers["name"]
        # "Stripe, Inc." is "stripe" in headlines; quoted, or GDELT would match each word
        # of "Acme Analytics" alone.
        term = normalize_name(name)
        phrase = '"' + term.replace('"', " ") + '"'
        await ctx.progress(ProgressReport(0, 1, 0, f"searching GDELT for {name}"))
        payload = await fetch_json(
            self._http,
            DOC_URL,
            label=self.label,
            params={
                "query": phrase,
                "mode": "artlist",
                "format": "json",
                "maxrecords": MAX_RECORDS,
                "sort": "datedesc",
            },
            on_retry=ctx.on_retry,
            strict=False,  # GDELT titles sometimes carry raw control characters
        )
        with reading(self.label):
            findings = parse_artlist(payload, company=term, observed_at=utcnow())
        await deliver(ctx, findings, plural(len(findings), "article"))
        return CollectResult(findings=findings, negative=not findings)
