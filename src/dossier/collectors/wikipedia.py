"""Wikipedia REST summary -> a ``company_profile`` finding (description, Wikidata id).

``GET en.wikipedia.org/api/rest_v1/page/summary/{title}`` (title with underscores,
percent-encoded: ``Stripe,_Inc.``). When only the Wikidata id is known, the English title
comes first from the item's ``enwiki`` sitelink (``wbgetentities&props=sitelinks``). A 404
(no such article), a disambiguation page, or an article about a different Wikidata item
than the account's is a negative answer, not an error.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from urllib.parse import quote

from pydantic import JsonValue

from dossier.collectors.base import SourceCollector
from dossier.collectors.fetching import NotFound, answered_none, deliver, fetch_json, reading
from dossier.collectors.normalize import profile_finding
from dossier.collectors.parsing import html_to_text, parse_datetime, text_or_none
from dossier.core.ports import CollectContext, CollectResult, ProgressReport
from dossier.core.types import DataType, Finding, normalize_name, utcnow

SUMMARY_URL = "https://en.wikipedia.org/api/rest_v1/page/summary/{title}"
WIKIDATA_API_URL = "https://www.wikidata.org/w/api.php"
EXTRACT_CHARS = 2000


def summary_url(title: str) -> str:
    """The REST summary URL of an article title, encoded as Wikipedia writes it."""
    return SUMMARY_URL.format(title=quote(title.strip().replace(" ", "_"), safe="_,.()'!:;@$*+-~"))


def sitelink_params(qid: str) -> dict[str, str]:
    return {
        "action": "wbgetentities",
        "ids": qid,
        "props": "sitelinks",
        "sitefilter": "enwiki",
        "format": "json",
    }


def parse_sitelink(payload: object, *, qid: str) -> str | None:
    """The English Wikipedia title of ``qid`` in a ``wbgetentities`` body, if it has one."""
    if not isinstance(payload, dict) or not isinstance(payload.get("entities"), dict):
        raise ValueError("not a wbgetentities payload")
    entity = payload["entities"].get(qid)
    links = entity.get("sitelinks") if isinstance(entity, dict) else None
    enwiki = links.get("enwiki") if isinstance(links, dict) else None
    title = enwiki.get("title") if isinstance(enwiki, dict) else None
    return title if isinstance(title, str) and title else None


def parse_summary(payload: object, *, account_key: str, observed_at: datetime) -> list[Finding]:
    """A ``company_profile`` from a summary body; [] for a disambiguation page.

    Raises ValueError if the body is not a REST summary.
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("title"), str):
        raise ValueError("not a Wikipedia summary payload")
    if payload.get("type") == "disambiguation":
        return []
    titles = payload.get("titles")
    normalized = titles.get("normalized") if isinstance(titles, dict) else None
    name = text_or_none(normalized) or str(payload["title"])
    urls = payload.get("content_urls")
    desktop = urls.get("desktop") if isinstance(urls, dict) else None
    page = desktop.get("page") if isinstance(desktop, dict) else None
    page_url = page if isinstance(page, str) else f"https://en.wikipedia.org/wiki/{quote(name)}"
    extract = text_or_none(payload.get("extract")) or html_to_text(
        text_or_none(payload.get("extract_html")) or ""
    )
    fields: dict[str, JsonValue] = {
        "name": name,
        "description": extract[:EXTRACT_CHARS] or None,
        "short_description": text_or_none(payload.get("description")),
        "wikidata": text_or_none(payload.get("wikibase_item")),
        "wikipedia_url": page_url,
        "revision": str(payload.get("revision") or "") or None,
    }
    profile = profile_finding(
        account_key,
        title=f"{name} (Wikipedia)",
        source="wikipedia",
        url=page_url,
        observed_at=observed_at,
        published_at=parse_datetime(payload.get("timestamp")),
        confidence=0.8,
        fields=fields,
    )
    return [profile]


class WikipediaCollector(SourceCollector):
    """The account's English Wikipedia summary (needs ``wikipedia`` or ``wikidata``)."""

    name: ClassVar[str] = "wikipedia"
    label: ClassVar[str] = "Wikipedia"
    data_types: ClassVar[frozenset[DataType]] = frozenset({DataType.PROFILE})
    needs: ClassVar[tuple[str, ...]] = ("wikipedia", "wikidata")

    async def collect(self, ctx: CollectContext) -> CollectResult:
        qid = (ctx.identifiers.get("wikidata") or "").strip().upper() or None
        title = ctx.identifiers.get("wikipedia")
        account_key = ctx.identifiers.get("account_key") or normalize_name(ctx.account_name)
        total = 1 if title else 2
        if not title and qid:
            await ctx.progress(ProgressReport(0, total, 0, f"English article of {qid}"))
            title = await self._title_of(qid, ctx)
            if title is None:
                return await answered_none(
                    ctx, f"{qid} has no English Wikipedia article", total=total
                )
        assert title is not None
        await ctx.progress(ProgressReport(total - 1, total, 0, f"Wikipedia summary of {title}"))
        try:
            payload = await fetch_json(
                self._http,
                summary_url(title),
                label=self.label,
                on_retry=ctx.on_retry,
                missing_is_answer=True,
            )
        except NotFound:
            return await answered_none(ctx, f"no English Wikipedia article '{title}'", total=total)
        with reading(self.label):
            findings = parse_summary(payload, account_key=account_key, observed_at=utcnow())
        if not findings:
            return await answered_none(ctx, f"'{title}' is a disambiguation page", total=total)
        about = findings[0].fields.get("wikidata")
        if qid and about and about != qid:
            # a title guess that landed on a namesake: better nothing than the wrong company
            return await answered_none(ctx, f"'{title}' is about {about}, not {qid}", total=total)
        await deliver(ctx, findings, f"summary of {title}", total=total)
        return CollectResult(findings=findings)

    async def _title_of(self, qid: str, ctx: CollectContext) -> str | None:
        payload = await fetch_json(
            self._http,
            WIKIDATA_API_URL,
            label="Wikidata",
            params=sitelink_params(qid),
            on_retry=ctx.on_retry,
        )
        with reading("Wikidata"):
            return parse_sitelink(payload, qid=qid)
