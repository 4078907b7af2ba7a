"""A public job board read with one request per company token.

A board collector names its endpoint and parses its payload; this class does the rest
(progress, "no board" on 404, findings as they are read, a board with no openings told
apart from a wrong token). Resolution probes the same endpoints (:mod:`.boards`), so one
recorded answer serves the probe and the collector.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Protocol

from dossier.collectors.base import SourceCollector
from dossier.collectors.fetching import NotFound, answered_none, deliver, fetch_json, reading
from dossier.core.ports import CollectContext, CollectResult, ProgressReport
from dossier.core.types import DataType, Finding, utcnow
from dossier.core.words import plural


@dataclass(frozen=True)
class BoardEndpoint:
    """Where a provider lists a company's openings; ``url`` has a ``{token}``."""

    url: str
    params: Mapping[str, str | int]
    # SmartRecruiters (and Ashby, for a board that never existed) answer any token with 200
    # and an empty list: only postings prove the company is there
    needs_postings: bool = False


class BoardParser(Protocol):
    def __call__(self, payload: object, *, board: str, observed_at: datetime) -> list[Finding]: ...


def has_postings(text: str) -> bool:
    """A board body that lists at least one posting (SmartRecruiters or Ashby shape)."""
    try:
        body = json.loads(text)
    except ValueError:
        return False
    if not isinstance(body, dict):
        return False
    return bool(body.get("totalFound")) or bool(body.get("jobs"))


class JobBoardCollector(SourceCollector):
    """Base of the job-board collectors; the identifier under the collector's ``name``
    (``{"lever": "spotify"}``) is the company's token on that board."""

    name: ClassVar[str]
    label: ClassVar[str]
    endpoint: ClassVar[BoardEndpoint]
    noun: ClassVar[str] = "board"  # Workable calls it an account
    data_types: ClassVar[frozenset[DataType]] = frozenset({DataType.JOBS})

    def applicable(self, identifiers: dict[str, str]) -> bool:
        return bool(identifiers.get(self.name))

    # findings from one payload (the board's ``parse_*`` function); raises ValueError if
    # the payload is not the board's shape
    parse: ClassVar[BoardParser]

    async def collect(self, ctx: CollectContext) -> CollectResult:
        token = ctx.identifiers[self.name]
        await ctx.progress(ProgressReport(0, 1, 0, f"{self.label} {self.noun} {token}"))
        try:
            payload = await self.fetch(token, ctx, self.endpoint.params)
        except NotFound:
            return await self.no_board(ctx, token)
        with reading(self.label):
            findings = self.parse(payload, board=token, observed_at=utcnow())
        await deliver(ctx, findings, plural(len(findings), "open role"))
        # an existing board with nothing open today is an answer, not "no board": a company
        # that stopped hiring is told apart from a wrong token
        notes = [] if findings else [f"{self.label} {self.noun} '{token}' has no openings"]
        return CollectResult(findings=findings, notes=notes)

    async def fetch(
        self, token: str, ctx: CollectContext, params: Mapping[str, str | int]
    ) -> object:
        return await fetch_json(
            self._http,
            self.endpoint.url.format(token=token),
            label=self.label,
            params=params,
            on_retry=ctx.on_retry,
            missing_is_answer=True,
        )

    async def no_board(self, ctx: CollectContext, token: str) -> CollectResult:
        return await answered_none(ctx, f"no {self.label} {self.noun} '{token}'")
