"""SmartRecruiters public postings API -> ``job_posting`` findings.

``GET api.smartrecruiters.com/v1/companies/{token}/postings?limit=100&offset=N`` answers
``{"offset", "limit", "totalFound", "content": [...]}``. We read pages of 100 (the API's
maximum) up to :data:`MAX_PAGES`, reporting done/total postings as we go; a page shorter
than asked for is the last. The list carries no description (that is one more request per
posting, too many for a live research), so technologies come from titles only.

``department`` is SmartRecruiters' ``function`` ("Engineering", "Marketing"): its own
``department`` field often just repeats the company ("Ubisoft"), which says nothing about
who is hiring. Postings keep their language (``fr-CA``): non-English ads are real openings.
With ``totalFound`` 0 nothing tells a wrong identifier from a company that is not hiring, so
it is a negative answer (as is a 404).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import JsonValue

from dossier.collectors.fetching import NotFound, answered_none, reading
from dossier.collectors.jobboard import BoardEndpoint, JobBoardCollector
from dossier.collectors.jobs import JobPosting, job_finding
from dossier.collectors.parsing import as_dict, as_list, parse_datetime, text_or_none
from dossier.core.ports import CollectContext, CollectResult, ProgressReport
from dossier.core.types import Finding, utcnow
from dossier.errors import SourceUnavailable

POSTING_PAGE_URL = "https://jobs.smartrecruiters.com/{token}/{id}"
PAGE_SIZE = 100
MAX_PAGES = 5


def parse_postings(
    payload: object, *, board: str, observed_at: datetime
) -> tuple[list[Finding], int]:
    """Findings of one page, and ``totalFound``. Raises ValueError if it is not a page."""
    if not isinstance(payload, dict) or not isinstance(payload.get("content"), list):
        raise ValueError("not a SmartRecruiters postings page")
    total = payload.get("totalFound")
    findings = [
        job_finding(_posting(item, board), observed_at=observed_at)
        for item in payload["content"]
        if isinstance(item, dict) and item.get("id") and item.get("name")
    ]
    return findings, total if isinstance(total, int) else len(findings)


def _posting(item: dict[str, object], board: str) -> JobPosting:
    location = as_dict(item.get("location"))
    language = as_dict(item.get("language"))
    function = _label(item.get("function"))
    if location.get("remote") is True:
        remote: bool | None = True
    elif location.get("remote") is False:
        remote = False  # on-site or hybrid: not fully remote
    else:
        remote = None
    hybrid = location.get("hybrid")
    extra: dict[str, JsonValue] = {
        "company_department": _label(item.get("department")),
        "experience_level": _label(item.get("experienceLevel")),
        "industry": _label(item.get("industry")),
        "hybrid": hybrid if isinstance(hybrid, bool) else None,
        "country": text_or_none(location.get("country")),
        "ref_number": text_or_none(item.get("refNumber")),
        "api_url": text_or_none(item.get("ref")),
    }
    return JobPosting(
        board="smartrecruiters",
        board_token=board,
        job_id=str(item["id"]),
        title=str(item["name"]),
        url=POSTING_PAGE_URL.format(token=board, id=item["id"]),
        department=function or _label(item.get("department")),
        location=text_or_none(location.get("fullLocation"))
        or ", ".join(str(v) for v in (location.get("city"), location.get("country")) if v)
        or None,
        remote=remote,
        employment_type=_label(item.get("typeOfEmployment")),
        language=text_or_none(language.get("code")),
        published_at=parse_datetime(item.get("releasedDate")),
        extra=extra,
    )


def _label(value: object) -> str | None:
    return text_or_none(as_dict(value).get("label"))


class SmartRecruitersCollector(JobBoardCollector):
    name: ClassVar[str] = "smartrecruiters"
    label: ClassVar[str] = "SmartRecruiters"
    noun: ClassVar[str] = "company"
    endpoint: ClassVar[BoardEndpoint] = BoardEndpoint(
        "https://api.smartrecruiters.com/v1/companies/{token}/postings",
        {"limit": PAGE_SIZE, "offset": 0},
        needs_postings=True,
    )
    page_size: ClassVar[int] = PAGE_SIZE
    max_pages: ClassVar[int] = MAX_PAGES

    async def collect(self, ctx: CollectContext) -> CollectResult:
        """Pages until the last; a failure after the first page raises, and the findings
        already emitted stay on the session log as partial results."""
        token = ctx.identifiers[self.name]
        await ctx.progress(ProgressReport(0, 0, 0, f"SmartRecruiters company {token}"))
        findings: list[Finding] = []
        seen: set[str] = set()
        total = 0
        for page in range(self.max_pages):
            offset = page * self.page_size
            params = {"limit": self.page_size, "offset": offset}
            try:
                payload = await self.fetch(token, ctx, params)
            except NotFound:
                if page == 0:
                    return await self.no_board(ctx, token)
                raise SourceUnavailable(f"SmartRecruiters page {page + 1} is gone") from None
            with reading(self.label):
                batch, total = parse_postings(payload, board=token, observed_at=utcnow())
            if total == 0 and page == 0:
                return await self.no_board(ctx, token)
            for finding in batch:
                if finding.id not in seen:
                    seen.add(finding.id)
                    findings.append(finding)
                    await ctx.emit(finding)
            count = len(as_list(as_dict(payload).get("content")))
            await ctx.progress(
                ProgressReport(len(findings), total, len(findings), f"{len(findings)} of {total}")
            )
            if count < self.page_size or offset + count >= total:
                break
        notes = []
        if total > len(findings):
            notes.append(
                f"SmartRecruiters lists {total} postings for '{token}'; read {len(findings)}"
            )
        return CollectResult(findings=findings, notes=notes)

    async def no_board(self, ctx: CollectContext, token: str) -> CollectResult:
        return await answered_none(ctx, f"no SmartRecruiters postings for '{token}'")
