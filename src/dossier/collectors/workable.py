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

from datetime import datetime
from typing import ClassVar

from pydantic import JsonValue

from dossier.collectors.jobboard import BoardEndpoint, JobBoardCollector
from dossier.collectors.jobs import JobPosting, job_finding
from dossier.collectors.parsing import as_list, html_to_text, parse_datetime, text_or_none
from dossier.core.types import Finding


def parse_account(payload: object, *, board: str, observed_at: datetime) -> list[Finding]:
    """Findings from a widget ``accounts/{slug}`` body. Raises ValueError if it is not one."""
    if not isinstance(payload, dict) or not isinstance(payload.get("jobs"), list):
        raise ValueError("not a Workable account payload")
    findings: list[Finding] = []
    for job in payload["jobs"]:
        if (
            not isinstance(job, dict)
            or not text_or_none(job.get("title"))
            or not job.get("shortcode")
        ):
            continue
        findings.append(job_finding(_posting(job, board), observed_at=observed_at))
    return findings


def _posting(job: dict[str, object], board: str) -> JobPosting:
    primary = ", ".join(
        part
        for part in (text_or_none(job.get(key)) for key in ("city", "state", "country"))
        if part
    )
    locations = [
        ", ".join(
            str(loc[key]) for key in ("city", "region", "country") if text_or_none(loc.get(key))
        )
        for loc in as_list(job.get("locations"))
        if isinstance(loc, dict) and not loc.get("hidden")
    ]
    telecommuting = job.get("telecommuting")
    extra: dict[str, JsonValue] = {
        "shortcode": str(job["shortcode"]),
        "locations": [loc for loc in locations if loc],
        "function": text_or_none(job.get("function")),
        "industry": text_or_none(job.get("industry")),
        "experience": text_or_none(job.get("experience")),
        "education": text_or_none(job.get("education")),
        "apply_url": text_or_none(job.get("application_url")),
    }
    return JobPosting(
        board="workable",
        board_token=board,
        job_id=str(job["shortcode"]),
        title=str(job["title"]),
        url=text_or_none(job.get("url")) or text_or_none(job.get("shortlink")),
        description=html_to_text(str(job.get("description") or "")),
        department=text_or_none(job.get("department")) or text_or_none(job.get("function")),
        location=primary or (locations[0] if locations else None),
        remote=telecommuting if isinstance(telecommuting, bool) else None,
        employment_type=text_or_none(job.get("employment_type")),
        published_at=parse_datetime(job.get("published_on") or job.get("created_at")),
        extra=extra,
    )


class WorkableCollector(JobBoardCollector):
    name: ClassVar[str] = "workable"
    label: ClassVar[str] = "Workable"
    noun: ClassVar[str] = "account"
    endpoint: ClassVar[BoardEndpoint] = BoardEndpoint(
        "https://apply.workable.com/api/v1/widget/accounts/{token}", {"details": "true"}
    )
    parse = staticmethod(parse_account)
