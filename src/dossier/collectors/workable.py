"""Workable public job widget API -> ``job_posting`` findings.

``GET apply.workable.com/api/v1/widget/accounts/{slug}?details=true`` (the documented
``api/accounts/:subdomain`` public-jobs endpoint, workable.readme.io/reference/jobs-1)
answers ``{"name", "description", "jobs": [...]}`` with every published job at once (no
paging). Each job has ``title, shortcode, code, employment_type, telecommuting, department,
url, shortlink, application_url, published_on, created_at, country, city, state,
education, experience, function, industry, locations[]`` and, with ``details=true``, an
HTML ``description``. An unknown account is a 404: a negative answer.

``telecommuting`` is Workable's "fully remote" flag; ``department`` may be "" (then the
job ``function`` names the team); ``published_on`` is a date.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import ClassVar

from pydantic import JsonValue

from dossier.collectors.base import CollectorDeps, html_to_text, parse_datetime
from dossier.collectors.jobs import JobPosting, as_list, job_finding
from dossier.core.ports import CollectContext, CollectResult, ProgressReport
from dossier.core.types import DataType, Finding, utcnow
from dossier.errors import SourceBadAnswer, SourceUnavailable

ACCOUNT_URL = "https://apply.workable.com/api/v1/widget/accounts/{slug}"


def parse_account(payload: object, *, board: str, observed_at: datetime) -> list[Finding]:
    """Findings from a widget ``accounts/{slug}`` body. Raises ValueError if it is not one."""
    if not isinstance(payload, dict) or not isinstance(payload.get("jobs"), list):
        raise ValueError("not a Workable account payload")
    findings: list[Finding] = []
    for job in payload["jobs"]:
        if not isinstance(job, dict) or not _text(job.get("title")) or not job.get("shortcode"):
            continue
        findings.append(job_finding(_posting(job, board), observed_at=observed_at))
    return findings


def _posting(job: dict[str, object], board: str) -> JobPosting:
    primary = ", ".join(
        part for part in (_text(job.get(key)) for key in ("city", "state", "country")) if part
    )
    locations = [
        ", ".join(str(loc[key]) for key in ("city", "region", "country") if _text(loc.get(key)))
        for loc in as_list(job.get("locations"))
        if isinstance(loc, dict) and not loc.get("hidden")
    ]
    telecommuting = job.get("telecommuting")
    extra: dict[str, JsonValue] = {
        "shortcode": str(job["shortcode"]),
        "locations": [loc for loc in locations if loc],
        "function": _text(job.get("function")),
        "industry": _text(job.get("industry")),
        "experience": _text(job.get("experience")),
        "education": _text(job.get("education")),
        "apply_url": _text(job.get("application_url")),
    }
    return JobPosting(
        board="workable",
        board_token=board,
        job_id=str(job["shortcode"]),
        title=str(job["title"]),
        url=_text(job.get("url")) or _text(job.get("shortlink")),
        description=html_to_text(str(job.get("description") or "")),
        department=_text(job.get("department")) or _text(job.get("function")),
        location=primary or (locations[0] if locations else None),
        remote=telecommuting if isinstance(telecommuting, bool) else None,
        employment_type=_text(job.get("employment_type")),
        published_at=parse_datetime(job.get("published_on") or job.get("created_at")),
        extra=extra,
    )


def _text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip() or None


class WorkableCollector:
    name: ClassVar[str] = "workable"
    label: ClassVar[str] = "Workable"
    data_types: ClassVar[frozenset[DataType]] = frozenset({DataType.JOBS})

    def __init__(self, deps: CollectorDeps) -> None:
        self._http = deps.http

    def applicable(self, identifiers: dict[str, str]) -> bool:
        return bool(identifiers.get("workable"))

    async def collect(self, ctx: CollectContext) -> CollectResult:
        slug = ctx.identifiers["workable"]
        await ctx.progress(ProgressReport(0, 1, 0, f"Workable account {slug}"))
        response = await self._http.get(
            ACCOUNT_URL.format(slug=slug), params={"details": "true"}, on_retry=ctx.on_retry
        )
        if response.status == 404:
            note = f"no Workable account '{slug}'"
            await ctx.progress(ProgressReport(1, 1, 0, note))
            return CollectResult(findings=[], negative=True, notes=[note])
        if not response.ok:
            raise SourceUnavailable(f"Workable answered HTTP {response.status}")
        try:
            findings = parse_account(json.loads(response.text()), board=slug, observed_at=utcnow())
        except ValueError as exc:
            raise SourceBadAnswer(f"Workable sent something unexpected: {exc}") from exc
        for finding in findings:
            await ctx.emit(finding)
        await ctx.progress(ProgressReport(1, 1, len(findings), f"{len(findings)} open roles"))
        notes = [] if findings else [f"Workable account '{slug}' has no openings"]
        return CollectResult(findings=findings, notes=notes)
