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

import json
from datetime import datetime
from typing import ClassVar

from pydantic import JsonValue

from dossier.collectors.base import CollectorDeps, html_to_text, parse_datetime
from dossier.collectors.jobs import (
    JobPosting,
    as_list,
    compensation,
    detect_remote,
    job_finding,
)
from dossier.core.ports import CollectContext, CollectResult, ProgressReport
from dossier.core.types import DataType, Finding, utcnow
from dossier.errors import SourceBadAnswer, SourceUnavailable

POSTINGS_URL = "https://api.lever.co/v0/postings/{token}"


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
    location = _str(cats.get("location"))
    all_locations = [str(x) for x in as_list(cats.get("allLocations")) if x]
    salary = posting.get("salaryRange")
    pay = None
    if isinstance(salary, dict):
        pay = compensation(
            salary.get("min"), salary.get("max"), salary.get("currency"), salary.get("interval")
        )
    extra: dict[str, JsonValue] = {
        "team": _str(cats.get("team")),
        "all_locations": list(all_locations),
        "workplace_type": _str(posting.get("workplaceType")),
        "country": _str(posting.get("country")),
        "apply_url": _str(posting.get("applyUrl")),
    }
    return JobPosting(
        board="lever",
        board_token=board,
        job_id=str(posting["id"]),
        title=str(posting["text"]),
        url=_str(posting.get("hostedUrl")),
        description=_description(posting),
        department=_str(cats.get("department")) or _str(cats.get("team")),
        location=location,
        compensation=pay,
        remote=detect_remote(_str(posting.get("workplaceType")), location, *all_locations),
        employment_type=_str(cats.get("commitment")),
        published_at=parse_datetime(posting.get("createdAt")),
        extra=extra,
    )


def _description(posting: dict[str, object]) -> str:
    """Opening text, then each titled list ("What You'll Do"), then the closing text."""
    parts = [
        _str(posting.get("descriptionPlain")) or html_to_text(str(posting.get("description") or ""))
    ]
    for item in as_list(posting.get("lists")):
        if isinstance(item, dict):
            body = html_to_text(str(item.get("content") or ""))
            parts.append(f"{item.get('text') or ''}\n{body}".strip())
    parts.append(_str(posting.get("additionalPlain")) or "")
    return "\n\n".join(part.strip() for part in parts if part and part.strip())


def _str(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip() or None


class LeverCollector:
    name: ClassVar[str] = "lever"
    label: ClassVar[str] = "Lever"
    data_types: ClassVar[frozenset[DataType]] = frozenset({DataType.JOBS})

    def __init__(self, deps: CollectorDeps) -> None:
        self._http = deps.http

    def applicable(self, identifiers: dict[str, str]) -> bool:
        return bool(identifiers.get("lever"))

    async def collect(self, ctx: CollectContext) -> CollectResult:
        token = ctx.identifiers["lever"]
        await ctx.progress(ProgressReport(0, 1, 0, f"Lever board {token}"))
        response = await self._http.get(
            POSTINGS_URL.format(token=token), params={"mode": "json"}, on_retry=ctx.on_retry
        )
        if response.status == 404:
            note = f"no Lever board '{token}'"
            await ctx.progress(ProgressReport(1, 1, 0, note))
            return CollectResult(findings=[], negative=True, notes=[note])
        if not response.ok:
            raise SourceUnavailable(f"Lever answered HTTP {response.status}")
        try:
            findings = parse_postings(
                json.loads(response.text()), board=token, observed_at=utcnow()
            )
        except ValueError as exc:
            raise SourceBadAnswer(f"Lever sent something unexpected: {exc}") from exc
        for finding in findings:
            await ctx.emit(finding)
        await ctx.progress(ProgressReport(1, 1, len(findings), f"{len(findings)} open roles"))
        notes = [] if findings else [f"Lever board '{token}' has no openings"]
        return CollectResult(findings=findings, notes=notes)
