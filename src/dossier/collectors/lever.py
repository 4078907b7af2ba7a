"""Lever public postings API -> ``job_posting`` findings.

``GET api.lever.co/v0/postings/{token}?mode=json`` answers a bare JSON array of every
published posting (no paging needed without ``limit``). A 404 with
``{"ok":false,"error":"Document not found"}`` means no board under that token: a negative
answer, cached as such. ``[]`` is a board that exists with no openings today: an empty
answer, *not* negative, so a company that stopped hiring is told apart from a wrong token.
Pay comes from ``salaryRange`` (``{"currency","interval":"per-year-salary","min","max"}``)
when the company publishes it, else from the posting text.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import JsonValue

from dossier.collectors.jobboard import BoardEndpoint, JobBoardCollector
from dossier.collectors.jobs import (
    JobPosting,
    compensation,
    detect_remote,
    job_finding,
)
from dossier.collectors.parsing import as_list, html_to_text, parse_datetime, text_or_none
from dossier.core.types import Finding


def parse_postings(payload: object, *, board: str, observed_at: datetime) -> list[Finding]:
    """Findings from a ``postings?mode=json`` body. Raises ValueError if it is not one."""
    if not isinstance(payload, list):
        raise ValueError("not a Lever postings array")
    findings: list[Finding] = []
    for posting in payload:
        if not isinstance(posting, dict) or not posting.get("text") or not posting.get("id"):
            continue
        findings.append(job_finding(_posting(posting, board), observed_at=observed_at))
    return findings


def _posting(posting: dict[str, object], board: str) -> JobPosting:
    categories = posting.get("categories")
    cats = categories if isinstance(categories, dict) else {}
    location = text_or_none(cats.get("location"))
    all_locations = [str(x) for x in as_list(cats.get("allLocations")) if x]
    salary = posting.get("salaryRange")
    pay = None
    if isinstance(salary, dict):
        pay = compensation(
            salary.get("min"), salary.get("max"), salary.get("currency"), salary.get("interval")
        )
    extra: dict[str, JsonValue] = {
        "team": text_or_none(cats.get("team")),
        "all_locations": list(all_locations),
        "workplace_type": text_or_none(posting.get("workplaceType")),
        "country": text_or_none(posting.get("country")),
        "apply_url": text_or_none(posting.get("applyUrl")),
    }
    return JobPosting(
        board="lever",
        board_token=board,
        job_id=str(posting["id"]),
        title=str(posting["text"]),
        url=text_or_none(posting.get("hostedUrl")),
        description=_description(posting),
        department=text_or_none(cats.get("department")) or text_or_none(cats.get("team")),
        location=location,
        compensation=pay,
        remote=detect_remote(text_or_none(posting.get("workplaceType")), location, *all_locations),
        employment_type=text_or_none(cats.get("commitment")),
        published_at=parse_datetime(posting.get("createdAt")),
        extra=extra,
    )


def _description(posting: dict[str, object]) -> str:
    """Opening text, then each titled list ("What You'll Do"), then the closing text."""
    parts = [
        text_or_none(posting.get("descriptionPlain"))
        or html_to_text(str(posting.get("description") or ""))
    ]
    for item in as_list(posting.get("lists")):
        if isinstance(item, dict):
            body = html_to_text(str(item.get("content") or ""))
            parts.append(f"{item.get('text') or ''}\n{body}".strip())
    parts.append(text_or_none(posting.get("additionalPlain")) or "")
    return "\n\n".join(part.strip() for part in parts if part and part.strip())


class LeverCollector(JobBoardCollector):
    name: ClassVar[str] = "lever"
    label: ClassVar[str] = "Lever"
    endpoint: ClassVar[BoardEndpoint] = BoardEndpoint(
        "https://api.lever.co/v0/postings/{token}", {"mode": "json"}
    )
    parse = staticmethod(parse_postings)
