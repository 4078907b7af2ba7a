from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from dossier.collectors.feeds import read_feed
from dossier.collectors.http import SourceHttp
from dossier.collectors.pages import discover_feeds
from dossier.collectors.rss import RssCollector, parse_feed
from dossier.core.types import FindingKind, finding_id
from dossier.errors import BlockedURL, SourceUnavailable
from dossier.settings import Settings
from tests.unit.collectors import (
    OBSERVED_AT,
    Recorder,
    fixture_bytes,
    no_sleep,
    replay_http,
)

SEC_ATOM = "rss/sec_getcurrent_form4.atom"
BLANK_LINE_ATOM = "rss/derived_blank_line_before_decl.atom"
CP1252_RSS = "rss/constructed_northwind_blog_cp1252.rss"
NORTHWIND_FEED = "https://northwind.example/blog/feed.xml"
SEC_FEED = (
    "https://www.sec.gov/cgi-bin/browse-edgar?action=getcurrent&count=100&start=0"
    "&type=4&owner=include&output=atom"
)


# -- the real Latin-1 Atom feed


def test_latin1_declared_atom_feed_yields_every_entry() -> None:
    findings = parse_feed(fixture_bytes(SEC_ATOM), feed_url=SEC_FEED, observed_at=OBSERVED_AT)
    assert len(findings) == 15
    first = findings[0]
    assert first.kind is FindingKind.NEWS_ARTICLE
    assert first.source == "rss"
    assert first.title == "4 - Perez Daniel Antonio (0002063236) (Reporting)"
    assert first.url == (
        "https://www.sec.gov/Archives/edgar/data/2063236/000206323625000004/"
        "0002063236-25-000004-index.htm"
    )
    assert first.id == finding_id(FindingKind.NEWS_ARTICLE, first.url)
    # 2025-12-12T18:02:43-05:00
    assert first.published_at == datetime(2025, 12, 12, 23, 2, 43, tzinfo=UTC)
    assert first.fields["summary"] == "Filed: 2025-12-12 AccNo: 0002063236-25-000004 Size: 10 KB"
    assert first.fields["outlet"] == "Latest Filings - Fri, 12 Dec 2025 18:03:57 EST"
    assert first.fields["domain"] == "sec.gov"
    assert findings[-1].title == "4 - Walton Family Holdings Trust (0001678632) (Reporting)"


def test_atom_entries_inherit_the_feed_author() -> None:
    findings = parse_feed(fixture_bytes(SEC_ATOM), feed_url=SEC_FEED, observed_at=OBSERVED_AT)
    assert {f.fields["author"] for f in findings} == {"Webmaster"}


def test_blank_line_before_the_xml_declaration_is_tolerated() -> None:
    assert fixture_bytes(BLANK_LINE_ATOM).startswith(b"\n  \n<?xml")
    feed = read_feed(fixture_bytes(BLANK_LINE_ATOM))
    assert len(feed.entries) == 15
    assert feed.recovered is False


def test_utf8_byte_order_mark_is_tolerated() -> None:
    feed = read_feed(b"\xef\xbb\xbf" + fixture_bytes(SEC_ATOM))
    assert len(feed.entries) == 15


def test_truncated_feed_keeps_the_complete_entries() -> None:
    whole = fixture_bytes(SEC_ATOM)
    cut = whole[: whole.index(b"<entry>", whole.index(b"Vance Ronald J")) + 40]
    feed = read_feed(cut)
    assert feed.recovered is True
    assert [e.title for e in feed.entries] == [
        "4 - Perez Daniel Antonio (0002063236) (Reporting)",
        "4 - Hinge Health, Inc. (0001673743) (Issuer)",
        "4 - Vance Ronald J (0001572985) (Reporting)",
    ]
    assert feed.title == "Latest Filings - Fri, 12 Dec 2025 18:03:57 EST"


def test_an_entry_with_a_stray_tag_is_still_read() -> None:
    whole = fixture_bytes(SEC_ATOM)
    broken = whole.replace(b"<title>4 - Hinge Health", b"<title>4 - <b>Hinge Health", 1)
    feed = read_feed(broken)
    assert feed.recovered is True
    assert len(feed.entries) == 15
    assert feed.entries[1].title == "4 - Hinge Health, Inc. (0001673743) (Issuer)"


def test_internal_entities_are_not_expanded() -> None:
    laughs = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY a "xxxxxxxxxx"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<rss><channel><item><title>t &b; t</title></item></channel></rss>"""
    (entry,) = read_feed(laughs).entries
    assert "xxxxxxxxxx" not in entry.title


def test_document_with_no_readable_entry_raises_value_error() -> None:
    with pytest.raises(ValueError, match="not well-formed XML"):
        read_feed(b"<html><body>Service Unavailable</body></html")


# -- the constructed windows-1252 RSS 2.0 feed


def test_windows_1252_rss_decodes_smart_quotes_euro_and_accents() -> None:
    raw = fixture_bytes(CP1252_RSS)
    assert b"\x80" in raw and b"\x93" in raw  # bytes only windows-1252 gives meaning to
    findings = parse_feed(raw, feed_url=NORTHWIND_FEED, observed_at=OBSERVED_AT)
    assert [f.title for f in findings] == [
        "Northwind raises €12 million Series A",
        "“Pick-to-light” at Café Nord’s warehouse",
        "We’re hiring field technicians in Rotterdam",
    ]
    series_a, cafe, hiring = findings
    assert series_a.fields["outlet"] == "Northwind Labs – Blog"
    assert series_a.fields["author"] == "Zoë Müller"  # dc:creator
    assert series_a.fields["language"] == "en-gb"
    assert series_a.fields["summary"] == (
        "We’re delighted to announce our Series A … led by Nordlicht Ventures."
    )
    assert cafe.fields["summary"] == "How Café Nord cut picking errors by 38 % in six weeks."
    assert cafe.fields["author"] == "Jonas Berg"  # <author>press@… (Jonas Berg)</author>
    assert hiring.fields["author"] is None


def test_rfc822_dates_become_utc() -> None:
    series_a, cafe, hiring = parse_feed(
        fixture_bytes(CP1252_RSS), feed_url=NORTHWIND_FEED, observed_at=OBSERVED_AT
    )
    assert series_a.published_at == datetime(2026, 10, 13, 7, 30, tzinfo=UTC)  # +0200
    assert cafe.published_at == datetime(2026, 9, 28, 14, 0, tzinfo=UTC)
    assert hiring.published_at == datetime(2026, 9, 4, 8, 15, tzinfo=UTC)


def test_article_urls_lose_tracking_parameters() -> None:
    series_a = parse_feed(
        fixture_bytes(CP1252_RSS), feed_url=NORTHWIND_FEED, observed_at=OBSERVED_AT
    )[0]
    assert series_a.url == "https://northwind.example/blog/series-a"
    assert series_a.id == finding_id(
        FindingKind.NEWS_ARTICLE, "https://northwind.example/blog/series-a"
    )


def test_windows_1252_bytes_under_a_utf8_declaration_are_still_read() -> None:
    mislabelled = fixture_bytes(CP1252_RSS).replace(b'encoding="windows-1252"', b'encoding="utf-8"')
    feed = read_feed(mislabelled)
    assert feed.entries[0].title == "Northwind raises €12 million Series A"
    assert feed.recovered is False


def test_utf8_bytes_under_a_latin1_declaration_are_not_mojibake() -> None:
    text = fixture_bytes(CP1252_RSS).decode("cp1252")
    mislabelled = text.replace('encoding="windows-1252"', 'encoding="ISO-8859-1"').encode("utf-8")
    assert read_feed(mislabelled).entries[1].title == "“Pick-to-light” at Café Nord’s warehouse"


def test_html_entities_and_stray_ampersands_are_repaired() -> None:
    text = fixture_bytes(CP1252_RSS).decode("cp1252")
    broken = text.replace("Join the service team", "Join R&D&nbsp;and the service team")
    feed = read_feed(broken.encode("cp1252"))
    assert feed.entries[2].summary == "Join R&D and the service team – see our open roles."


def test_rss_1_0_rdf_items_are_read() -> None:
    # shape of the RSS 1.0 specification (web.resource.org/rss/1.0/spec), written here
    rdf = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
  xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
 <channel rdf:about="https://northwind.example/rdf">
  <title>Northwind RDF</title><link>https://northwind.example/</link>
  <description>d</description>
 </channel>
 <item rdf:about="https://northwind.example/blog/a">
  <title>Item A</title><link>https://northwind.example/blog/a</link>
  <dc:date>2026-10-01T09:00:00+02:00</dc:date><dc:creator>Ana</dc:creator>
 </item>
</rdf:RDF>"""
    (entry,) = read_feed(rdf).entries
    assert (entry.title, entry.link, entry.author) == (
        "Item A",
        "https://northwind.example/blog/a",
        "Ana",
    )
    assert entry.published_at == datetime(2026, 10, 1, 7, 0, tzinfo=UTC)


# -- discovery


def test_discovery_resolves_relative_hrefs_and_skips_comment_feeds() -> None:
    page = fixture_bytes("homepages/constructed_northwind.example_home.html").decode()
    assert discover_feeds(page, base_url="https://northwind.example/") == [NORTHWIND_FEED]


def test_discovery_finds_nothing_on_pages_without_feed_links() -> None:
    fly = fixture_bytes("homepages/fly.io_about.html").decode()
    assert discover_feeds(fly, base_url="https://fly.io/") == []


def test_discovery_honours_base_href_and_atom_type() -> None:
    page = (
        '<head><base href="https://cdn.example.org/site/">'
        '<link rel="alternate" type="application/atom+xml" href="feed.atom">'
        '<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)"></head>'
    )
    assert discover_feeds(page, base_url="https://example.org/") == [
        "https://cdn.example.org/site/feed.atom"
    ]


# -- the collector


async def test_collects_the_blog_advertised_on_the_homepage(settings: Settings) -> None:
    recorder = Recorder()
    result = await recorder.run(
        RssCollector, replay_http(), settings, name="Northwind Labs", domain="northwind.example"
    )
    assert len(result.findings) == 3
    assert recorder.emitted == result.findings
    assert {f.fields["feed_url"] for f in result.findings} == {NORTHWIND_FEED}
    assert result.notes == []


async def test_homepage_without_feed_is_a_negative_answer(settings: Settings) -> None:
    result = await Recorder().run(
        RssCollector, replay_http(), settings, name="Fly.io", domain="fly.io"
    )
    assert result.negative is True
    assert result.notes == ["https://fly.io/ advertises no RSS/Atom feed"]


async def test_explicit_feed_url_is_read_directly(settings: Settings) -> None:
    result = await Recorder().run(
        RssCollector, replay_http(), settings, name="SEC", feed_url=SEC_FEED
    )
    assert len(result.findings) == 15


async def test_malformed_feed_gives_partial_findings_and_a_note(settings: Settings) -> None:
    whole = fixture_bytes(SEC_ATOM)
    cut = whole[: whole.index(b"<entry>", whole.index(b"Vance Ronald J")) + 40]
    url = "https://feeds.example.org/broken.atom"
    http = replay_http(extra={url: (200, {"content-type": "application/atom+xml"}, cut)})
    result = await Recorder().run(RssCollector, http, settings, feed_url=url)
    assert len(result.findings) == 3
    assert result.notes == [f"feed {url} is malformed; read 3 entries (some may be missing)"]


async def test_one_failing_feed_of_two_becomes_a_note(settings: Settings) -> None:
    page = (
        b'<head><link rel="alternate" type="application/atom+xml" href="/gone.atom">'
        b'<link rel="alternate" type="application/rss+xml" href="/blog/feed.xml"></head>'
    )
    http = replay_http(
        extra={
            "https://northwind.example/": (200, {"content-type": "text/html"}, page),
            "https://northwind.example/gone.atom": (410, {}, b""),
        }
    )
    result = await Recorder().run(RssCollector, http, settings, domain="northwind.example")
    assert len(result.findings) == 3
    assert result.notes == ["feed https://northwind.example/gone.atom answered HTTP 410"]


async def test_unreadable_feed_is_source_unavailable(settings: Settings) -> None:
    url = "https://feeds.example.org/garbage.xml"
    http = replay_http(extra={url: (200, {"content-type": "text/html"}, b"<html><p>oops")})
    with pytest.raises(SourceUnavailable, match="is unreadable: feed is not well-formed XML"):
        await Recorder().run(RssCollector, http, settings, feed_url=url)


async def test_fetches_are_guarded_against_private_addresses(settings: Settings) -> None:
    async def guard(url: str) -> None:
        if "127.0.0.1" in url:
            raise BlockedURL(f"refusing {url}")

    client = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    http = SourceHttp(client, host_intervals_s={}, sleep=no_sleep, guard=guard)
    with pytest.raises(BlockedURL):
        await Recorder().run(RssCollector, http, settings, feed_url="http://127.0.0.1:8000/feed")


@pytest.mark.parametrize(
    ("author", "name"),
    [
        ("press@northwind.example (Jonas Berg)", "Jonas Berg"),
        ("Jane Doe", "Jane Doe"),
        ("Jane (the editor)", "Jane (the editor)"),
    ],
)
def test_authors_are_named_without_their_address(author: str, name: str) -> None:
    rss = f"<rss><channel><item><title>t</title><author>{author}</author></item></channel></rss>"
    (entry,) = read_feed(rss.encode()).entries
    assert entry.author == name
