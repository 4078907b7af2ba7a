"""Tech stack -> ``technology`` findings, from the homepage and from job descriptions.

``GET https://{domain}/`` (guarded: the domain comes from the user) is fingerprinted with
the Wappalyzer data (:mod:`dossier.collectors.wappalyzer`) over its HTML, response headers,
cookies, ``<meta>`` tags and ``<script src>`` URLs. Technologies named in job ads come from
:mod:`dossier.collectors.tech_terms`; both key a technology the same way.

Finding id = (domain, technology name), so the same technology seen on the homepage and in
job ads is one fact. Fields: ``name, category, categories, version, evidence
([{"type": header|script|meta|html|cookie|url|job_description, "value"}]), website`` (the
technology's own site), plus ``detected_on`` (the page) and ``implied_by``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar

from pydantic import JsonValue

from dossier.collectors.base import SourceCollector
from dossier.collectors.fetching import deliver
from dossier.collectors.pages import scan_head
from dossier.collectors.wappalyzer import Detection, PageSignals, load_fingerprints
from dossier.core.ports import CollectContext, CollectResult, ProgressReport
from dossier.core.types import DataType, Finding, FindingKind, finding_id, utcnow
from dossier.errors import SourceUnavailable

HOMEPAGE_URL = "https://{domain}/"

_COOKIE_SPLIT_RE = re.compile(r",\s*(?=[^;,=\s]+=)")


def page_signals(url: str, html: str, headers: Mapping[str, str]) -> PageSignals:
    """What Wappalyzer looks at, from a fetched page. ``headers`` as SourceResponse has them
    (lower-cased names; repeated headers such as Set-Cookie joined by commas)."""
    scanner = scan_head(url, html)
    cookies: dict[str, list[str]] = {}
    for raw in _COOKIE_SPLIT_RE.split(headers.get("set-cookie", "")):
        name, sep, rest = raw.partition("=")
        if sep and name.strip():
            cookies.setdefault(name.strip().lower(), []).append(rest.split(";", 1)[0].strip())
    return PageSignals(
        url=url,
        html=html,
        headers={k.lower(): [v] for k, v in headers.items() if k.lower() != "set-cookie"},
        cookies=cookies,
        meta=scanner.meta,
        script_src=scanner.scripts,
    )


def detect_technologies(
    url: str, html: str, headers: Mapping[str, str], *, domain: str, observed_at: datetime
) -> list[Finding]:
    """``technology`` findings for one fetched page (pure)."""
    detections = load_fingerprints().analyze(page_signals(url, html, headers))
    return [_finding(d, domain=domain, page_url=url, observed_at=observed_at) for d in detections]


def _finding(detection: Detection, *, domain: str, page_url: str, observed_at: datetime) -> Finding:
    evidence: list[JsonValue] = [{"type": e.type, "value": e.value} for e in detection.evidence]
    fields: dict[str, JsonValue] = {
        "name": detection.name,
        "category": detection.categories[0] if detection.categories else None,
        "categories": list(detection.categories),
        "version": detection.version,
        "evidence": evidence,
        "website": detection.website,
        "detected_on": page_url,
        "implied_by": detection.implied_by,
        "fingerprint_confidence": detection.confidence,
    }
    title = f"{detection.name} {detection.version}" if detection.version else detection.name
    return Finding(
        id=finding_id(FindingKind.TECHNOLOGY, domain, detection.name),
        kind=FindingKind.TECHNOLOGY,
        title=title,
        source="techstack",
        url=page_url,
        observed_at=observed_at,
        # a fingerprint can misfire (a file named "bootstrapped.css"), so never above 0.9
        confidence=round(0.9 * detection.confidence / 100, 3),
        fields=fields,
    )


class TechStackCollector(SourceCollector):
    name: ClassVar[str] = "techstack"
    label: ClassVar[str] = "Website fingerprint"
    data_types: ClassVar[frozenset[DataType]] = frozenset({DataType.TECH})
    needs: ClassVar[tuple[str, ...]] = ("domain",)

    async def collect(self, ctx: CollectContext) -> CollectResult:
        domain = ctx.identifiers["domain"]
        url = HOMEPAGE_URL.format(domain=domain)
        await ctx.progress(ProgressReport(0, 1, 0, f"fingerprinting {domain}"))
        response = await self._http.get(url, on_retry=ctx.on_retry, guarded=True)
        if response.status in (404, 410):
            await ctx.progress(ProgressReport(1, 1, 0, f"{domain} has no homepage"))
            return CollectResult(findings=[], negative=True, notes=[f"{url} answered 404"])
        if not response.ok:
            raise SourceUnavailable(f"{domain} answered HTTP {response.status}")
        findings = detect_technologies(
            response.url, response.text(), response.headers, domain=domain, observed_at=utcnow()
        )
        names = ", ".join(f.fields["name"] for f in findings if isinstance(f.fields["name"], str))
        await deliver(ctx, findings, names or "nothing recognised")
        return CollectResult(findings=findings, negative=not findings)
