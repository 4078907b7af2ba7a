"""What a homepage's ``<head>`` says: scripts, meta tags, advertised feeds.

One scanner (stdlib ``html.parser``) read by the tech-stack fingerprint and by the company
blog's feed discovery.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml"})


class HeadScanner(HTMLParser):
    """Collects ``<script src>``, ``<meta name|property|http-equiv content>`` and feed links
    (``<link rel="alternate" type="application/rss+xml|atom+xml">``), honouring ``<base>``."""

    def __init__(self, base_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.scripts: list[str] = []
        self.meta: dict[str, list[str]] = {}
        self.feeds: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key.lower(): (value or "").strip() for key, value in attrs}
        if tag == "base" and values.get("href"):
            self.base_url = urljoin(self.base_url, values["href"])
        elif tag == "script" and values.get("src"):
            self.scripts.append(urljoin(self.base_url, values["src"]))
        elif tag == "meta" and "content" in values:
            key = values.get("name") or values.get("property") or values.get("http-equiv")
            if key:
                self.meta.setdefault(key.lower(), []).append(values["content"])
        elif tag == "link" and "alternate" in values.get("rel", "").lower().split():
            kind = values.get("type", "").lower().split(";")[0].strip()
            # WordPress lists a "Comments Feed" next to the posts feed: comments are not news
            if kind in FEED_TYPES and "comments" not in values.get("title", "").lower():
                url = urljoin(self.base_url, values.get("href", ""))
                if url not in self.feeds and urlsplit(url).scheme in ("http", "https"):
                    self.feeds.append(url)


def scan_head(url: str, html: str) -> HeadScanner:
    scanner = HeadScanner(url)
    try:
        scanner.feed(html)
        scanner.close()
    except (AssertionError, ValueError):  # html.parser gives up on some broken markup
        pass
    return scanner


def discover_feeds(page_html: str, *, base_url: str) -> list[str]:
    """RSS/Atom feed URLs a page advertises: absolute, in page order, no duplicates."""
    return [feed for feed in scan_head(base_url, page_html).feeds if feed != base_url]
