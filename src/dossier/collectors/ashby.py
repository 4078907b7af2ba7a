"""Ashby public job board API -> ``job_posting`` findings.

``GET api.ashbyhq.com/posting-api/job-board/{token}?includeCompensation=true`` answers
``{"apiVersion": "1", "jobs": [...]}``. Pay comes from ``compensation.summaryComponents``
(the ``Salary`` component: ``minValue``/``maxValue``/``currencyCode``/``interval`` "1 YEAR"),
present only when asked for and published; without it, from the posting text. Real-world
quirks: ``descriptionHtml`` can be "" while ``descriptionPlain`` is filled, and titles can
carry a leading space. Unlisted jobs (``isListed`` false) are skipped. A 404 means no board.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import JsonValue

from dossier.collectors.jobboard import BoardEndpoint, JobBoardCollector
from dossier.collectors.jobs import (
    Compensation,
    JobPosting,
    compensation,
    detect_remote,
    job_finding,
)
from dossier.collectors.parsing import as_list, html_to_text, parse_datetime, text_or_none
from dossier.core.types import Finding

_EMPLOYMENT_TYPES = {
    "FullTime": "Full-time",
    "PartTime": "Part-time",
    "Intern": "Internship",
    "Contract": "Contract",
    "Temporary": "Temporary",
}


def parse_job_board(payload: object, *, board: str, observed_at: datetime) -> list[Finding]:
    """Findings from a ``job-board`` body. Raises ValueError if it is not one."""
    if not isinstance(payload, dict) or not isinstance(payload.get("jobs"), list):
        raise ValueError("not an Ashby job-board payload")
    findings: list[Finding] = []
    for job in payload["jobs"]:
        if not isinstance(job, dict) or job.get("isListed") is False:
            continue
        title = str(job.get("title") or "").strip()
        if not title or not job.get("id"):
            continue
        findings.append(job_finding(_posting(job, title, board), observed_at=observed_at))
    return findings


def _posting(job: dict[str, object], title: str, board: str) -> JobPosting:
    location = text_or_none(job.get("location"))
    secondary = [
        str(item["location"])
        for item in as_list(job.get("secondaryLocations"))
        if isinstance(item, dict) and item.get("location")
    ]
    is_remote = job.get("isRemote")
    workplace = text_or_none(job.get("workplaceType"))
    pay_summary = None
    raw_pay = job.get("compensation")
    if isinstance(raw_pay, dict):
        pay_summary = text_or_none(raw_pay.get("compensationTierSummary"))
    extra: dict[str, JsonValue] = {
        "team": text_or_none(job.get("team")),
        "secondary_locations": list(secondary),
        "workplace_type": workplace,
        "apply_url": text_or_none(job.get("applyUrl")),
        "compensation_summary": pay_summary,
    }
    employment = text_or_none(job.get("employmentType"))
    return JobPosting(
        board="ashby",
        board_token=board,
        job_id=str(job["id"]),
        title=title,
        url=text_or_none(job.get("jobUrl")),
        description=text_or_none(job.get("descriptionPlain"))
        or html_to_text(str(job.get("descriptionHtml") or "")),
        department=text_or_none(job.get("department")) or text_or_none(job.get("team")),
        location=location,
        compensation=_salary(raw_pay),
        # isRemote is Ashby's own "remote allowed" flag; workplaceType describes the
        # primary location only (Ramp: "Hybrid" in New York, remote in the US and Canada)
        remote=is_remote
        if isinstance(is_remote, bool)
        else detect_remote(workplace, location, *secondary),
        employment_type=_EMPLOYMENT_TYPES.get(employment or "", employment),
        published_at=parse_datetime(job.get("publishedAt")),
        extra=extra,
    )


def _salary(raw: object) -> Compensation | None:
    """The ``Salary`` summary component (tiers summarise the same range per tier)."""
    if not isinstance(raw, dict):
        return None
    components = as_list(raw.get("summaryComponents"))
    for tier in as_list(raw.get("compensationTiers")):
        if isinstance(tier, dict):
            components.extend(as_list(tier.get("components")))
    for component in components:
        if isinstance(component, dict) and component.get("compensationType") == "Salary":
            found = compensation(
                component.get("minValue"),
                component.get("maxValue"),
                component.get("currencyCode"),
                component.get("interval"),
            )
            if found is not None:
                return found
    return None


class AshbyCollector(JobBoardCollector):
    name: ClassVar[str] = "ashby"
    label: ClassVar[str] = "Ashby"
    endpoint: ClassVar[BoardEndpoint] = BoardEndpoint(
        "https://api.ashbyhq.com/posting-api/job-board/{token}",
        {"includeCompensation": "true"},
        needs_postings=True,
    )
    parse = staticmethod(parse_job_board)
