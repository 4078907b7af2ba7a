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
from dossier.core.ports import CollectContext, CollectResult, ProgressReport
from dossier.core.types import DataType, Finding, FindingKind, finding_id, utcnow
from dossier.errors import SourceUnavailable

BOARD_URL = "https://boards-api.greenhouse.io/v1/boards/{token}/jobs"
DESCRIPTION_CHARS = 4000


def parse_jobs(payload: object, *, board: str, observed_at: datetime) -> list[Finding]:
    """Findings from a ``jobs?content=true`` body. Raises ValueError if it is not one."""
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
        description = html_to_text(str(job.get("content") or ""), unescape_twice=True)
        fields: dict[str, JsonValue] = {
            "board": "greenhouse",
            "board_token": board,
            "job_id": job.get("id"),
            "department": departments[0] if departments else None,
            "departments": [d for d in departments if d],
            "location": location,
            "offices": [o for o in offices if o],
            "description": description[:DESCRIPTION_CHARS],
            "compensation": None,
            "updated_at": job.get("updated_at"),
        }
        published = parse_datetime(job.get("first_published")) or parse_datetime(
            job.get("updated_at")
        )
        findings.append(
            Finding(
                id=finding_id(
                    FindingKind.JOB_POSTING, "greenhouse", board, str(job.get("id") or url)
                ),
                kind=FindingKind.JOB_POSTING,
                title=str(job["title"]).strip(),
                source="greenhouse",
                url=url,
                observed_at=observed_at,
                published_at=published,
                confidence=0.95,
                fields=fields,
            )
        )
    return findings


class GreenhouseCollector:
    name: ClassVar[str] = "greenhouse"
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
            raise SourceUnavailable(f"Greenhouse sent something unexpected: {exc}") from exc
        for finding in findings:
            await ctx.emit(finding)
        await ctx.progress(ProgressReport(1, 1, len(findings), f"{len(findings)} open roles"))
        return CollectResult(findings=findings)
