"""Company blog feeds (RSS 2.0, RSS 1.0, Atom) -> ``news_article`` findings.

With a ``feed_url`` identifier the feed is fetched directly; otherwise the homepage
``https://{domain}/`` is read for ``<link rel="alternate" type="application/rss+xml|
application/atom+xml" href>`` (:func:`~dossier.collectors.techstack.discover_feeds`, the one
homepage-head scanner: relative hrefs resolved, comment feeds skipped) and up to
:data:`MAX_FEEDS` feeds are read. Every URL comes from the user or a page they named, so
every fetch is ``guarded`` (SSRF). No advertised feed is a negative answer.

Feeds are hostile input: Latin-1 / windows-1252 declarations, byte-order marks, blank lines
before the XML declaration, a UTF-8 declaration over windows-1252 bytes, HTML entities
(``&nbsp;``) XML does not define, truncated documents. :func:`read_feed` repairs what it can:
it parses the whole document if possible, else each ``<item>``/``<entry>`` on its own and
keeps those that parse (``Feed.recovered``); only a feed with no readable entry raises
ValueError, which the collector turns into SourceUnavailable naming the cause.
"""

from __future__ import annotations

import email.utils
import html
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.entities import name2codepoint
from typing import ClassVar
from urllib.parse import urljoin, urlsplit

from pydantic import JsonValue

from dossier.collectors.base import CollectorDeps
from dossier.collectors.news import news_finding, unique
from dossier.collectors.pages import discover_feeds
from dossier.collectors.parsing import html_to_text, parse_datetime
from dossier.core.coverage import RequestFailure
from dossier.core.ports import CollectContext, CollectResult, ProgressReport
from dossier.core.types import DataType, Finding, utcnow
from dossier.errors import SourceBadAnswer, SourceUnavailable

HOMEPAGE_URL = "https://{domain}/"
MAX_FEEDS = 2
MAX_ENTRIES = 50
SUMMARY_CHARS = 500
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# -- feed parsing


@dataclass
class FeedEntry:
    title: str
    link: str | None
    entry_id: str | None
    published_at: datetime | None
    summary: str | None
    author: str | None


@dataclass
class Feed:
    title: str | None = None
    language: str | None = None
    entries: list[FeedEntry] = field(default_factory=list)
    recovered: bool = False  # parsed entry by entry: the document as a whole is broken
    skipped: int = 0  # entries that could not be read even on their own


_DECL_RE = re.compile(rb"^<\?xml[^>]*\?>")
_DECL_ENCODING_RE = re.compile(rb"""^<\?xml[^>]*encoding=["']([A-Za-z0-9._-]+)["']""")
# No DTD: entity definitions in untrusted input are how "billion laughs" documents work.
_DOCTYPE_BYTES_RE = re.compile(rb"<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>", re.S | re.I)
_SINGLE_BYTE = frozenset(
    {b"iso-8859-1", b"latin-1", b"latin1", b"windows-1252", b"cp1252", b"us-ascii"}
)
_ENTITY_RE = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*)?;?")
_ENTRY_RE = re.compile(r"<(item|entry)\b[^>]*>.*?</\1\s*>", re.S)
_ROOT_RE = re.compile(r"<((?:[\w-]+:)?(?:rss|feed|RDF))\b[^>]*>", re.S)
_XML_ENTITIES = frozenset({"lt", "gt", "amp", "quot", "apos"})


def read_feed(content: bytes) -> Feed:
    """An RSS/Atom document as a :class:`Feed`. Raises ValueError if no entry is readable."""
    data, bom = content, False
    if data.startswith(b"\xef\xbb\xbf"):
        data, bom = data[3:], True
    elif data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        data, bom = data.decode("utf-16").encode("utf-8"), True
    # Anything before the declaration (blank lines, spaces) is a fatal error to expat.
    data = data.lstrip(b" \t\r\n")
    if bom:  # a byte-order mark overrides whatever the declaration says
        data = _DECL_RE.sub(b"", data)
    data = _DOCTYPE_BYTES_RE.sub(b"", _utf8_mislabelled(data), count=1)
    try:
        return _feed(ET.fromstring(data))
    except ET.ParseError:
        pass
    text = _repair(_decode(data))
    try:
        return _feed(ET.fromstring(text))
    except ET.ParseError as exc:
        return _salvage(text, exc)


def _utf8_mislabelled(data: bytes) -> bytes:
    """UTF-8 bytes under a Latin-1 / windows-1252 declaration parse without error into
    mojibake ("cafÃ©"); non-ASCII text that is valid UTF-8 is UTF-8, whatever it says."""
    declared = _DECL_ENCODING_RE.match(data)
    if not declared or data.isascii() or declared.group(1).lower() not in _SINGLE_BYTE:
        return data
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    return _DECL_RE.sub(b"", data)


def _decode(data: bytes) -> str:
    """Declared encoding, else UTF-8, else windows-1252 (what mislabelled feeds really are)."""
    declared = _DECL_ENCODING_RE.match(data)
    body = _DECL_RE.sub(b"", data)
    for encoding in ([declared.group(1).decode("ascii")] if declared else []) + ["utf-8", "cp1252"]:
        try:
            return body.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("cp1252", errors="replace")


def _repair(text: str) -> str:
    """HTML entities (``&nbsp;``) as characters, stray ``&`` (``AT&T``) escaped."""

    def entity(match: re.Match[str]) -> str:
        name, whole = match.group(1), match.group(0)
        if name and whole.endswith(";") and (name.startswith("#") or name in _XML_ENTITIES):
            return whole
        if name in name2codepoint and whole.endswith(";"):  # not "?a=1&para=2" (a URL)
            return f"&#{name2codepoint[name]};"
        return "&amp;" + whole[1:]

    return _ENTITY_RE.sub(entity, text.strip())


def _salvage(text: str, error: ET.ParseError) -> Feed:
    root = _ROOT_RE.search(text)
    wrapper = (root.group(0), f"</{root.group(1)}>") if root else ("<rss>", "</rss>")
    feed = Feed(recovered=True)
    title = re.search(r"<title[^>]*>(.*?)</title>", text, re.S)
    if title:
        feed.title = html_to_text(html.unescape(title.group(1))) or None
    for block in _ENTRY_RE.finditer(text):
        try:
            element = ET.fromstring(wrapper[0] + block.group(0) + wrapper[1])
        except ET.ParseError:
            feed.skipped += 1
            continue
        feed.entries.extend(_entries(element, author=None))
    if not feed.entries:
        raise ValueError(f"feed is not well-formed XML ({error})")
    return feed


def _feed(root: ET.Element) -> Feed:
    channel = _child(root, "channel")
    head = channel if channel is not None else root
    author = _child(head, "author")
    feed = Feed(
        title=_plain(_child(head, "title")),
        language=_text(_child(head, "language")) or root.get(_XML_LANG) or head.get(_XML_LANG),
    )
    feed.entries = _entries(
        root, author=_text(_child(author, "name")) if author is not None else None
    )
    return feed


def _entries(root: ET.Element, *, author: str | None) -> list[FeedEntry]:
    entries = []
    for element in root.iter():
        if _local(element.tag) not in ("item", "entry"):
            continue
        title = _plain(_child(element, "title"))
        if title:
            entries.append(_entry(element, title, author))
        if len(entries) >= MAX_ENTRIES:
            break
    return entries


def _entry(element: ET.Element, title: str, feed_author: str | None) -> FeedEntry:
    link = None
    for candidate in _children(element, "link"):
        rel = candidate.get("rel", "alternate")
        href = candidate.get("href") or (candidate.text or "").strip()
        if href and rel == "alternate":
            link = href
            break
    guid = _child(element, "guid")
    if link is None and guid is not None and guid.get("isPermaLink", "true") == "true":
        link = _text(guid)
    author = _text(_child(_child(element, "author"), "name")) or _first(
        element, "author", "creator"
    )
    summary = next(
        (p for n in ("summary", "description", "content") if (p := _plain(_child(element, n)))),
        None,
    )
    return FeedEntry(
        title=title,
        link=link,
        entry_id=_text(guid) or _text(_child(element, "id")),
        published_at=_date(_first(element, "pubDate", "published", "updated", "date")),
        summary=summary[:SUMMARY_CHARS] if summary else None,
        author=author or feed_author,
    )


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1].rsplit(":", 1)[-1]


def _children(element: ET.Element | None, name: str) -> list[ET.Element]:
    children = [] if element is None else list(element)
    return [child for child in children if _local(child.tag) == name]


def _first(element: ET.Element, *names: str) -> str | None:
    """Text of the first of these children that has some (``pubDate`` or ``updated``...)."""
    return next((t for name in names if (t := _text(_child(element, name)))), None)


def _child(element: ET.Element | None, name: str) -> ET.Element | None:
    found = _children(element, name)
    return found[0] if found else None


def _text(element: ET.Element | None) -> str | None:
    if element is None:
        return None
    return "".join(element.itertext()).strip() or None


def _plain(element: ET.Element | None) -> str | None:
    """Text of a title/summary that may hold escaped HTML (RSS, Atom ``type="html"``)."""
    raw = _text(element)
    if not raw:
        return None
    return html_to_text(raw) or None


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)  # RSS: RFC 822 dates
    except (TypeError, ValueError, IndexError):
        return parse_datetime(value)  # Atom, dc:date: ISO 8601
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


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


class RssCollector:
    name: ClassVar[str] = "rss"
    label: ClassVar[str] = "Company blog"
    data_types: ClassVar[frozenset[DataType]] = frozenset({DataType.NEWS})

    def __init__(self, deps: CollectorDeps) -> None:
        self._http = deps.http

    def applicable(self, identifiers: dict[str, str]) -> bool:
        return bool(identifiers.get("feed_url") or identifiers.get("domain"))

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
            note = f"feed {url} is malformed; read {len(feed.entries)} entries one by one"
            note += f", {feed.skipped} unreadable" if feed.skipped else ""
        return feed_findings(feed, feed_url=response.url, observed_at=utcnow()), note
