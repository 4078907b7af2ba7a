"""Greenhouse public job board -> ``job_posting`` findings.

``GET boards-api.greenhouse.io/v1/boards/{token}/jobs?content=true``. A 404
(``{"status":404,"error":"Job not found"}``) means the company has no board under that
token: a negative answer, cached as such. ``content`` is HTML that Greenhouse entity-
escapes a second time (``&lt;p&gt;``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import ClassVar

from pydantic import JsonValue

from dossier.collectors.base import CollectorDeps, html_to_text, parse_datetime
from dossier.collectors.jobs import JobPosting, detect_remote, job_finding
from dossier.core.ports import CollectContext, CollectResult, ProgressReport
from dossier.core.types import DataType, Finding, utcnow
from dossier.errors import SourceBadAnswer, SourceUnavailable

BOARD_URL = "https://boards-api.greenhouse.io/v1/boards/{token}/jobs"


def parse_jobs(payload: object, *, board: str, observed_at: datetime) -> list[Finding]:
    """Findings from a ``jobs?content=true`` body. Raises ValueError if it is not one.

    Pay is read from the content text (the list has no pay field); departments lose their
    cost-centre codes ("8611 Security Analytics" -> "Security Analytics").
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("jobs"), list):
        raise ValueError("not a Greenhouse jobs payload")
    findings: list[Finding] = []
    for job in payload["jobs"]:
        if not isinstance(job, dict) or not job.get("title"):
            continue
        url = job.get("absolute_url") or None
        departments = [d.get("name") for d in job.get("departments") or [] if isinstance(d, dict)]
        offices = [o.get("name") for o in job.get("offices") or [] if isinstance(o, dict)]
        location = (
            (job.get("location") or {}).get("name")
            if isinstance(job.get("location"), dict)
            else None
        )
        extra: dict[str, JsonValue] = {
            "departments": [d for d in departments if d],
            "offices": [o for o in offices if o],
            "updated_at": job.get("updated_at"),
        }
        posting = JobPosting(
            board="greenhouse",
            board_token=board,
            job_id=str(job.get("id") or url),
            title=str(job["title"]),
            url=url,
            description=html_to_text(str(job.get("content") or ""), unescape_twice=True),
            department=departments[0] if departments else None,
            location=location,
            remote=detect_remote(None, location, *[o for o in offices if o]),
            language=job.get("language") or None,
            published_at=parse_datetime(job.get("first_published"))
            or parse_datetime(job.get("updated_at")),
            extra=extra,
        )
        findings.append(job_finding(posting, observed_at=observed_at))
    return findings


class GreenhouseCollector:
    name: ClassVar[str] = "greenhouse"
    label: ClassVar[str] = "Greenhouse"
    data_types: ClassVar[frozenset[DataType]] = frozenset({DataType.JOBS})

    def __init__(self, deps: CollectorDeps) -> None:
        self._http = deps.http

    def applicable(self, identifiers: dict[str, str]) -> bool:
        return bool(identifiers.get("greenhouse"))

    async def collect(self, ctx: CollectContext) -> CollectResult:
        token = ctx.identifiers["greenhouse"]
        await ctx.progress(ProgressReport(done=0, total=1, found=0, message=f"board {token}"))
        response = await self._http.get(
            BOARD_URL.format(token=token), params={"content": "true"}, on_retry=ctx.on_retry
        )
        if response.status == 404:
            await ctx.progress(ProgressReport(1, 1, 0, f"no Greenhouse board '{token}'"))
            return CollectResult(
                findings=[], negative=True, notes=[f"no Greenhouse board '{token}'"]
            )
        if not response.ok:
            raise SourceUnavailable(f"Greenhouse answered HTTP {response.status}")
        try:
            payload = json.loads(response.text())
            findings = parse_jobs(payload, board=token, observed_at=utcnow())
        except ValueError as exc:
            raise SourceBadAnswer(f"Greenhouse sent something unexpected: {exc}") from exc
        for finding in findings:
            await ctx.emit(finding)
        await ctx.progress(ProgressReport(1, 1, len(findings), f"{len(findings)} open roles"))
        return CollectResult(findings=findings)
