"""Greenhouse public job board -> ``job_posting`` findings.

``GET boards-api.greenhouse.io/v1/boards/{token}/jobs?content=true``. A 404
(``{"status":404,"error":"Job not found"}``) means the company has no board under that
token: a negative answer, cached as such. ``content`` is HTML that Greenhouse entity-
escapes a second time (``&lt;p&gt;``).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import JsonValue

from dossier.collectors.jobboard import BoardEndpoint, JobBoardCollector
from dossier.collectors.jobs import JobPosting, detect_remote, job_finding
from dossier.collectors.parsing import html_to_text, parse_datetime
from dossier.core.types import Finding


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


class GreenhouseCollector(JobBoardCollector):
    name: ClassVar[str] = "greenhouse"
    label: ClassVar[str] = "Greenhouse"
    endpoint: ClassVar[BoardEndpoint] = BoardEndpoint(
        "https://boards-api.greenhouse.io/v1/boards/{token}/jobs", {"content": "true"}
    )
    parse = staticmethod(parse_jobs)
