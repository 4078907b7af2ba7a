"""RSS 2.0, RSS 1.0 and Atom documents read with ``feedparser``, which does what feeds
need: any declared or sniffed encoding, byte-order marks, HTML entities XML does not
define, and a loose parser for documents that are not well-formed (``bozo``).

Around it, what feedparser does not do for us:

- no DTD: entity definitions in untrusted input are how "billion laughs" documents work,
  and feedparser's strict parser expands internal entities, so the DOCTYPE goes first;
- UTF-8 bytes under a Latin-1 / windows-1252 declaration are read as UTF-8 (feedparser
  trusts the declaration and would give "cafÃ©");
- whitespace before the XML declaration is dropped (it makes a valid feed "malformed");
- the content is handed over as a stream: given bytes, feedparser may read them as a
  file name (or a URL), and nothing here is ever fetched or opened.

Pure: no I/O.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.entities import name2codepoint
from time import struct_time
from typing import Any

import feedparser  # type: ignore[import-untyped]

from dossier.collectors.parsing import html_to_text, text_or_none

MAX_ENTRIES = 50
SUMMARY_CHARS = 500

_DECL_RE = re.compile(rb"^<\?xml[^>]*\?>")
_DECL_ENCODING_RE = re.compile(rb"""^<\?xml[^>]*encoding=["']([A-Za-z0-9._-]+)["']""")
_DOCTYPE_BYTES_RE = re.compile(rb"<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>", re.S | re.I)
_ENTITY_RE = re.compile(rb"&(#\d+|#x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*)?;?")
_XML_ENTITIES = frozenset({b"lt", b"gt", b"amp", b"quot", b"apos"})
_NAME_AND_EMAIL_RE = re.compile(r"^(.+?)\s*\(([^()]+)\)$")
_SINGLE_BYTE = frozenset(
    {b"iso-8859-1", b"latin-1", b"latin1", b"windows-1252", b"cp1252", b"us-ascii"}
)


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
    recovered: bool = False  # not well-formed: read by the loose parser, entries may be lost


def read_feed(content: bytes) -> Feed:
    """An RSS/Atom document as a :class:`Feed`.

    Raises ValueError when the document is broken and no entry could be read from it (an
    HTML error page, a cut-off response); a well-formed feed with no entries is empty.
    """
    data = content.lstrip(b" \t\r\n")
    data = _DOCTYPE_BYTES_RE.sub(b"", _utf8_mislabelled(data), count=1)
    parsed, problem = _parse(data)
    if problem is not None:
        # the loose parser reads "R&D&nbsp;" as "R&D;": with the entities XML lacks
        # written as characters and stray ampersands escaped, the strict one often can
        repaired, still = _parse(_ENTITY_RE.sub(_entity, data))
        if still is None or len(repaired.get("entries", [])) >= len(parsed.get("entries", [])):
            parsed, problem = repaired, still
    broken = problem is not None
    head = parsed.get("feed", {})
    feed_author = _author(head)
    entries = [e for e in (_entry(raw, feed_author) for raw in parsed.get("entries", [])) if e]
    if broken and not entries:
        raise ValueError(f"feed is not well-formed XML ({problem})")
    return Feed(
        title=_plain(head.get("title")),
        language=text_or_none(head.get("language")),
        entries=entries[:MAX_ENTRIES],
        recovered=broken,
    )


def _parse(data: bytes) -> tuple[dict[str, Any], object | None]:
    """feedparser's result, and what made the document not well-formed (None if it is;
    an encoding feedparser had to correct does not count)."""
    parsed = feedparser.parse(io.BytesIO(data), sanitize_html=False, resolve_relative_uris=False)
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if isinstance(problem, feedparser.ThingsNobodyCaresAboutButMe):
        problem = None
    return parsed, problem


def _entity(match: re.Match[bytes]) -> bytes:
    name, whole = match.group(1), match.group(0)
    if name and whole.endswith(b";") and (name.startswith(b"#") or name in _XML_ENTITIES):
        return whole
    known = name.decode("ascii") if name else ""
    if known in name2codepoint and whole.endswith(b";"):  # not "?a=1&para=2" (a URL)
        return f"&#{name2codepoint[known]};".encode("ascii")
    return b"&amp;" + whole[1:]


def _utf8_mislabelled(data: bytes) -> bytes:
    """UTF-8 bytes under a single-byte declaration lose the declaration (and are read as
    UTF-8): non-ASCII text that is valid UTF-8 is UTF-8, whatever it says."""
    declared = _DECL_ENCODING_RE.match(data)
    if not declared or data.isascii() or declared.group(1).lower() not in _SINGLE_BYTE:
        return data
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    return _DECL_RE.sub(b"", data)


def _entry(raw: dict[str, Any], feed_author: str | None) -> FeedEntry | None:
    title = _plain(raw.get("title"))
    if not title:
        return None
    content = raw.get("content")
    first_content = content[0].get("value") if isinstance(content, list) and content else None
    summary = _plain(raw.get("summary")) or _plain(first_content)
    return FeedEntry(
        title=title,
        link=text_or_none(raw.get("link")),
        entry_id=text_or_none(raw.get("id")),
        published_at=_utc(raw.get("published_parsed") or raw.get("updated_parsed")),
        summary=summary[:SUMMARY_CHARS] if summary else None,
        author=_author(raw) or feed_author,
    )


def _author(element: dict[str, Any]) -> str | None:
    """The name alone: "Jonas Berg" for RSS's "press@northwind.example (Jonas Berg)" and
    for the "Webmaster (webmaster@sec.gov)" feedparser writes for an Atom author. (Its own
    ``author_detail`` cuts names at unfamiliar top-level domains.)"""
    raw = text_or_none(element.get("author"))
    pair = _NAME_AND_EMAIL_RE.match(raw or "")
    if pair and "@" in pair.group(1):
        return pair.group(2).strip()
    if pair and "@" in pair.group(2):
        return pair.group(1).strip()
    return raw  # "Jane Doe", or "Jane (the editor)": no address to drop


def _plain(value: object) -> str | None:
    """A title or summary as text: feeds carry escaped HTML in both."""
    raw = text_or_none(value)
    return (html_to_text(raw) or None) if raw else None


def _utc(value: object) -> datetime | None:
    # feedparser normalises every date format it knows to a UTC struct_time
    if not isinstance(value, struct_time):
        return None
    return datetime(*value[:6], tzinfo=UTC)
