"""Technology names in free text (job descriptions), and the ``technology`` findings the
job boards' postings add up to.

Shared by the job collectors (each posting records the names in its text), the workflow
step that turns those names into findings, and the tech-stack collector. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pydantic import JsonValue

from dossier.core.technologies import (
    KEYWORD_CATEGORIES,
    technologies_in_text,
    technology_sentences,
)
from dossier.core.types import Finding, FindingKind, finding_id

__all__ = [
    "KEYWORD_CATEGORIES",
    "technologies_from_jobs",
    "technologies_in_text",
    "technology_sentences",
]

MAX_JOB_EVIDENCE = 5


def technologies_from_jobs(
    jobs: Iterable[Finding], *, domain: str, observed_at: datetime
) -> list[Finding]:
    """``technology`` findings from the ``technologies`` the job collectors recorded.

    Confidence grows with the number of postings naming the technology (0.6 for one,
    0.85 from four on); the evidence cites up to five postings, each with the sentence
    that names the technology (``technology_sentences``, recorded by the job collectors),
    and the finding links to the first of them.
    """
    postings: dict[str, list[Finding]] = {}
    for job in jobs:
        names = job.fields.get("technologies")
        if job.kind is not FindingKind.JOB_POSTING or not isinstance(names, list):
            continue
        for name in names:
            if isinstance(name, str):
                postings.setdefault(name, []).append(job)
    findings = []
    for name, jobs_naming in sorted(postings.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        evidence: list[JsonValue] = [
            {
                "type": "job_description",
                "value": _sentence_in(job, name) or job.title,
                "posting": job.title,
                "url": job.url,
            }
            for job in jobs_naming[:MAX_JOB_EVIDENCE]
        ]
        category = KEYWORD_CATEGORIES.get(name)
        fields: dict[str, JsonValue] = {
            "name": name,
            "category": category,
            "categories": [category] if category else [],
            "version": None,
            "evidence": evidence,
            "website": None,
            "job_postings": len(jobs_naming),
        }
        findings.append(
            Finding(
                id=finding_id(FindingKind.TECHNOLOGY, domain, name),
                kind=FindingKind.TECHNOLOGY,
                title=name,
                source="techstack",
                url=next((job.url for job in jobs_naming if job.url), None),
                observed_at=observed_at,
                confidence=min(0.85, 0.5 + 0.1 * len(jobs_naming)),
                fields=fields,
            )
        )
    return findings


def _sentence_in(job: Finding, name: str) -> str | None:
    sentences = job.fields.get("technology_sentences")
    value = sentences.get(name) if isinstance(sentences, dict) else None
    return value if isinstance(value, str) else None
