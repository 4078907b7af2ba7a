"""The skeleton every collector shares: ask a source, read its JSON, say how it went.

A source's own module keeps what is particular to it (URLs, the payload's shape); these
keep the rest the same everywhere: which HTTP status means what, how a body that is not
what was asked for is reported, the last progress line, findings emitted as they are read.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping, Sequence

from dossier.collectors.http import OnRetry, SourceHttp
from dossier.core.ports import CollectContext, CollectResult, ProgressReport
from dossier.core.types import Finding
from dossier.errors import SourceBadAnswer, SourceUnavailable


class NotFound(Exception):
    """The source answered 404 where that is an answer ("no such board"), not a failure."""


async def fetch_json(
    http: SourceHttp,
    url: str,
    *,
    label: str,
    params: Mapping[str, str | int] | None = None,
    on_retry: OnRetry | None = None,
    missing_is_answer: bool = False,
    strict: bool = True,
) -> object:
    """GET ``url`` and decode its JSON body.

    ``strict=False`` lets control characters through inside strings (GDELT's titles).

    Raises:
        NotFound: 404, when ``missing_is_answer``.
        SourceUnavailable: any other status that is not 2xx.
        SourceBadAnswer: a body that is not JSON (a maintenance page, a login wall).
    """
    response = await http.get(url, params=params, on_retry=on_retry)
    if missing_is_answer and response.status == 404:
        raise NotFound(url)
    if not response.ok:
        raise SourceUnavailable(f"{label} answered HTTP {response.status}")
    body = response.text()
    try:
        return json.loads(body, strict=strict)
    except ValueError as exc:
        snippet = " ".join(body.split())[:160]
        raise SourceBadAnswer(f"{label} sent something unexpected: {snippet!r}") from exc


@contextlib.contextmanager
def reading(label: str) -> Iterator[None]:
    """A parser's ValueError ("not a Lever postings array") as the source's bad answer."""
    try:
        yield
    except ValueError as exc:
        raise SourceBadAnswer(f"{label} sent something unexpected: {exc}") from exc


async def deliver(
    ctx: CollectContext, findings: Sequence[Finding], summary: str, *, total: int = 1
) -> None:
    """Emit the findings, then the last progress line (``total`` of ``total`` done)."""
    for finding in findings:
        await ctx.emit(finding)
    await ctx.progress(ProgressReport(total, total, len(findings), summary))


async def answered_none(ctx: CollectContext, note: str, *, total: int = 1) -> CollectResult:
    """The source answered, and there is nothing for this company (cached as such)."""
    await ctx.progress(ProgressReport(total, total, 0, note))
    return CollectResult(findings=[], negative=True, notes=[note])
