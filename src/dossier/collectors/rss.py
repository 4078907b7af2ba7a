"""Company blog feeds (RSS 2.0, RSS 1.0, Atom) -> ``news_article`` findings.

With a ``feed_url`` identifier the feed is fetched directly; otherwise the homepage
``https://{domain}/`` is read for ``<link rel="alternate" type="application/rss+xml|
application/atom+xml" href>`` (:func:`~dossier.collectors.pages.discover_feeds`, the one
homepage-head scanner: relative hrefs resolved, comment feeds skipped) and up to
:data:`MAX_FEEDS` feeds are read. Every URL comes from the user or a page they named, so
every fetch is ``guarded`` (SSRF). No advertised feed is a negative answer.

Feeds are hostile input (odd encodings, HTML entities, truncated documents):
:func:`~dossier.collectors.feeds.read_feed` reads what can be read; a feed that is not
well-formed gives its readable entries and a note, one with no readable entry fails.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from urllib.parse import urljoin, urlsplit

from pydantic import JsonValue

from dossier.collectors.base import SourceCollector
from dossier.collectors.feeds import Feed, read_feed
from dossier.collectors.news import news_finding, unique
from dossier.collectors.pages import discover_feeds
from dossier.core.coverage import RequestFailure
from dossier.core.ports import CollectContext, CollectResult, ProgressReport
from dossier.core.types import DataType, Finding, utcnow
from dossier.core.words import plural
from dossier.errors import SourceBadAnswer, SourceUnavailable

HOMEPAGE_URL = "https://{domain}/"
MAX_FEEDS = 2


def parse_feed(content: bytes, *, feed_url: str, observed_at: datetime) -> list[Finding]:
    """``news_article`` findings from a feed document. Raises ValueError if unreadable."""
    return feed_findings(read_feed(content), feed_url=feed_url, observed_at=observed_at)


def feed_findings(feed: Feed, *, feed_url: str, observed_at: datetime) -> list[Finding]:
    findings: list[Finding] = []
    for entry in feed.entries:
        url = urljoin(feed_url, entry.link) if entry.link else None
        fields: dict[str, JsonValue] = {
            "outlet": feed.title,
            "author": entry.author,
            "domain": (urlsplit(url or feed_url).hostname or "").removeprefix("www.") or None,
            "language": feed.language,
            "summary": entry.summary,
            "feed_url": feed_url,
        }
        finding = news_finding(
            source="rss",
            title=entry.title,
            url=url,
            published_at=entry.published_at,
            observed_at=observed_at,
            confidence=0.9,  # the company's own words, dated by the company
            fields=fields,
            key=(feed_url, entry.entry_id or entry.title),
        )
        findings.append(finding)
    return unique(findings)


class RssCollector(SourceCollector):
    name: ClassVar[str] = "rss"
    label: ClassVar[str] = "Company blog"
    data_types: ClassVar[frozenset[DataType]] = frozenset({DataType.NEWS})
    needs: ClassVar[tuple[str, ...]] = ("feed_url", "domain")

    async def collect(self, ctx: CollectContext) -> CollectResult:
        """Reads each feed; one failing feed of two becomes a note, all failing raises."""
        if ctx.identifiers.get("feed_url"):
            feed_urls = [ctx.identifiers["feed_url"]]
        else:
            homepage = HOMEPAGE_URL.format(domain=ctx.identifiers["domain"])
            feed_urls = await self._discover(homepage, ctx)
            if not feed_urls:
                note = f"{homepage} advertises no RSS/Atom feed"
                await ctx.progress(ProgressReport(1, 1, 0, note))
                return CollectResult(findings=[], negative=True, notes=[note])
        findings: dict[str, Finding] = {}
        notes: list[str] = []
        failures: list[SourceUnavailable] = []
        for done, url in enumerate(feed_urls):
            await ctx.progress(
                ProgressReport(done, len(feed_urls), len(findings), f"reading {url}")
            )
            try:
                batch, feed_note = await self._read(url, ctx)
            except SourceUnavailable as exc:
                failures.append(exc)
                continue
            notes.extend([feed_note] if feed_note else [])
            for finding in batch:
                if finding.id not in findings:
                    findings[finding.id] = finding
                    await ctx.emit(finding)
        if len(failures) == len(feed_urls):
            if len(failures) == 1:
                raise failures[0]  # keeps its type (BlockedURL, RateLimited...)
            raise SourceUnavailable("; ".join(f.message for f in failures))
        total = len(feed_urls)
        await ctx.progress(ProgressReport(total, total, len(findings), f"{len(findings)} posts"))
        notes = [f.message for f in failures] + notes
        return CollectResult(
            findings=list(findings.values()),
            notes=notes,
            failures=[RequestFailure.of(f) for f in failures],
        )

    async def _discover(self, homepage: str, ctx: CollectContext) -> list[str]:
        await ctx.progress(ProgressReport(0, 1, 0, f"looking for a feed on {homepage}"))
        page = await self._http.get(homepage, on_retry=ctx.on_retry, guarded=True)
        if page.status == 404:
            return []
        if not page.ok:
            raise SourceUnavailable(f"{homepage} answered HTTP {page.status}")
        return discover_feeds(page.text(), base_url=page.url)[:MAX_FEEDS]

    async def _read(self, url: str, ctx: CollectContext) -> tuple[list[Finding], str | None]:
        response = await self._http.get(url, on_retry=ctx.on_retry, guarded=True)
        if not response.ok:
            raise SourceUnavailable(f"feed {url} answered HTTP {response.status}")
        try:
            feed = read_feed(response.content)
        except ValueError as exc:
            raise SourceBadAnswer(f"feed {url} is unreadable: {exc}") from exc
        note = None
        if feed.recovered:
            entries = plural(len(feed.entries), "entry", "entries")
            note = f"feed {url} is malformed; read {entries} (some may be missing)"
        return feed_findings(feed, feed_url=response.url, observed_at=utcnow()), note
