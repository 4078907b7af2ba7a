"""Ashby public job board API -> ``job_posting`` findings.

``GET api.ashbyhq.com/posting-api/job-board/{token}?includeCompensation=true`` answers
``{"apiVersion": "1", "jobs": [...]}``. Pay comes from ``compensation.summaryComponents``
(the ``Salary`` component: ``minValue``/``maxValue``/``currencyCode``/``interval`` "1 YEAR"),
present only when asked for and published; without it, from the posting text. Real-world
quirks: ``descriptionHtml`` can be "" while ``descriptionPlain`` is filled, and titles can
carry a leading space. Unlisted jobs (``isListed`` false) are skipped. A 404 means no board.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import ClassVar

from pydantic import JsonValue

from dossier.collectors.base import CollectorDeps, html_to_text, parse_datetime
from dossier.collectors.jobs import (
    Compensation,
    JobPosting,
    as_list,
    compensation,
    detect_remote,
    job_finding,
)
from dossier.core.ports import CollectContext, CollectResult, ProgressReport
from dossier.core.types import DataType, Finding, utcnow
from dossier.errors import SourceBadAnswer, SourceUnavailable

BOARD_URL = "https://api.ashbyhq.com/posting-api/job-board/{token}"
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
    location = _str(job.get("location"))
    secondary = [
        str(item["location"])
        for item in as_list(job.get("secondaryLocations"))
        if isinstance(item, dict) and item.get("location")
    ]
    is_remote = job.get("isRemote")
    workplace = _str(job.get("workplaceType"))
    pay_summary = None
    raw_pay = job.get("compensation")
    if isinstance(raw_pay, dict):
        pay_summary = _str(raw_pay.get("compensationTierSummary"))
    extra: dict[str, JsonValue] = {
        "team": _str(job.get("team")),
        "secondary_locations": list(secondary),
        "workplace_type": workplace,
        "apply_url": _str(job.get("applyUrl")),
        "compensation_summary": pay_summary,
    }
    employment = _str(job.get("employmentType"))
    return JobPosting(
        board="ashby",
        board_token=board,
        job_id=str(job["id"]),
        title=title,
        url=_str(job.get("jobUrl")),
        description=_str(job.get("descriptionPlain"))
        or html_to_text(str(job.get("descriptionHtml") or "")),
        department=_str(job.get("department")) or _str(job.get("team")),
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


def _str(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip() or None


class AshbyCollector:
    name: ClassVar[str] = "ashby"
    label: ClassVar[str] = "Ashby"
    data_types: ClassVar[frozenset[DataType]] = frozenset({DataType.JOBS})

    def __init__(self, deps: CollectorDeps) -> None:
        self._http = deps.http

    def applicable(self, identifiers: dict[str, str]) -> bool:
        return bool(identifiers.get("ashby"))

    async def collect(self, ctx: CollectContext) -> CollectResult:
        token = ctx.identifiers["ashby"]
        await ctx.progress(ProgressReport(0, 1, 0, f"Ashby board {token}"))
        response = await self._http.get(
            BOARD_URL.format(token=token),
            params={"includeCompensation": "true"},
            on_retry=ctx.on_retry,
        )
        if response.status == 404:
            note = f"no Ashby board '{token}'"
            await ctx.progress(ProgressReport(1, 1, 0, note))
            return CollectResult(findings=[], negative=True, notes=[note])
        if not response.ok:
            raise SourceUnavailable(f"Ashby answered HTTP {response.status}")
        try:
            payload = json.loads(response.text())
            findings = parse_job_board(payload, board=token, observed_at=utcnow())
        except ValueError as exc:
            raise SourceBadAnswer(f"Ashby sent something unexpected: {exc}") from exc
        for finding in findings:
            await ctx.emit(finding)
        await ctx.progress(ProgressReport(1, 1, len(findings), f"{len(findings)} open roles"))
        notes = [] if findings else [f"Ashby board '{token}' has no openings"]
        return CollectResult(findings=findings, notes=notes)
