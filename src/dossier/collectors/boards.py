"""Job boards: how to ask each provider whether a company has a board, and which
tokens to try (the probes use the same URLs as the providers' collectors, so one
recorded answer serves both)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from dossier.core.types import normalize_name, slugify

MAX_SLUGS = 2


@dataclass(frozen=True)
class BoardProbe:
    """How to ask one job-board provider whether a slug exists (same URLs as the
    provider's collector, so a recorded answer serves both)."""

    url: str
    params: Mapping[str, str | int]
    # SmartRecruiters (and Ashby, for a board that never existed) answer any slug with 200
    # and an empty list: only postings prove the company is there
    needs_postings: bool = False


BOARD_PROBES: dict[str, BoardProbe] = {
    "greenhouse": BoardProbe(
        "https://boards-api.greenhouse.io/v1/boards/{slug}/jobs", {"content": "true"}
    ),
    "lever": BoardProbe("https://api.lever.co/v0/postings/{slug}", {"mode": "json"}),
    "ashby": BoardProbe(
        "https://api.ashbyhq.com/posting-api/job-board/{slug}",
        {"includeCompensation": "true"},
        needs_postings=True,
    ),
    "smartrecruiters": BoardProbe(
        "https://api.smartrecruiters.com/v1/companies/{slug}/postings",
        {"limit": 100, "offset": 0},
        needs_postings=True,
    ),
    "workable": BoardProbe(
        "https://apply.workable.com/api/v1/widget/accounts/{slug}", {"details": "true"}
    ),
}


def has_postings(text: str) -> bool:
    """A board body that lists at least one posting (SmartRecruiters or Ashby shape)."""
    try:
        body = json.loads(text)
    except ValueError:
        return False
    if not isinstance(body, dict):
        return False
    return bool(body.get("totalFound")) or bool(body.get("jobs"))


def slug_guesses(name: str, domain: str | None) -> list[str]:
    """Board tokens to try: the name squashed ("stripe"), hyphenated, the domain label."""
    name = name.replace("'", "").replace("\u2019", "")  # "Shepherd's" -> "shepherds"
    guesses = [slugify(name), normalize_name(name).replace(" ", "-").replace(".", "")]
    if domain:
        guesses.append(domain.split(".")[0])
    return [g for g in dict.fromkeys(guesses) if g][:MAX_SLUGS]
