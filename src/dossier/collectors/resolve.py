"""Account resolution: a company name (plus whatever the user knows) -> source identifiers.

Steps, with few requests and never a silent guess:

1. SEC ``company_tickers.json`` (skipped when a CIK is given): exact match on the
   normalised title, or on the ticker when one is given. Several companies -> candidates.
2. Wikidata ``wbsearchentities`` (skipped when a Q-id is given; the API's default of 7
   hits): keep hits whose label matches the name and whose description says company.
3. One ``wbgetentities`` (claims + English sitelink) for those hits: a CIK (P5531) or
   website (P856) that contradicts what is already known rules a hit out; one hit left is
   the company, else the hits become candidates. Gives Wikipedia title, domain, CIK, LEI.
4. GLEIF (only when no LEI yet and the company is confirmed): a unique active legal entity
   with the same normalised name.
5. Job boards: probe each provider with slug guesses from the name and domain. A 404 (or
   SmartRecruiters' empty answer) is a *negative*, returned for the caller to cache.

Explicit identifiers always win. Resolution never raises for a source: every lookup's
outcome (answered, failed with a cause, not recorded) is kept in ``lookups``, so the step
can say "could not reach Wikidata" instead of a green "done", and a resolution resting on
a failed lookup is not cached.

A board probe that failed proves nothing: its slug is kept for the board's collector to
try (and report) -- unless another provider's board was verified, since a company's
postings are on its one job board (the failed probe stays in ``lookups``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping

from dossier.collectors.boards import BOARD_ENDPOINTS, slug_guesses
from dossier.collectors.http import TRIMMED_HEADER, OnRetry, SourceHttp
from dossier.collectors.identity import (
    agrees,
    contradicts,
    facts_of,
    given_identifiers,
    looks_like_ticker,
    pick_lei,
)
from dossier.collectors.jobboard import has_postings
from dossier.collectors.resolution import PROVIDES, Lookup, Resolution
from dossier.collectors.sec_tickers import (
    TICKERS_URL,
    resolve_from_tickers,
)
from dossier.collectors.wikidata import API_URL as WIKIDATA_API_URL
from dossier.collectors.wikidata import company_hits
from dossier.core.coverage import FailureCause, cause_of
from dossier.core.ports import ProgressReport
from dossier.core.types import BOARD_PROVIDERS, normalize_name
from dossier.errors import DossierError
from dossier.settings import Settings

__all__ = ["Lookup", "Resolution", "resolve"]

GLEIF_URL = "https://api.gleif.org/api/v1/lei-records"
SEARCH_PARAMS = {"action": "wbsearchentities", "language": "en", "type": "item", "format": "json"}
CHECK_PARAMS = {
    "action": "wbgetentities",
    "props": "claims|sitelinks",
    "sitefilter": "enwiki",
    "format": "json",
}
Progress = Callable[[ProgressReport], Awaitable[None]]


class _Resolver:
    def __init__(
        self, http: SourceHttp, progress: Progress | None, on_retry: OnRetry | None
    ) -> None:
        self.http, self.progress, self.on_retry = http, progress, on_retry
        self.result = Resolution(identifiers={})
        self.unverified: dict[str, str] = {}
        self.trimmed: dict[str, bool] = {}  # lookups answered from a trimmed recording
        self.done = 0
        self.total = 0

    async def step(self, message: str) -> None:
        self.done += 1
        if self.progress is not None:
            found = len(self.result.identifiers)
            await self.progress(ProgressReport(self.done, self.total, found, message))

    def failed(self, name: str, label: str, cause: str, error: str, *, identity: bool) -> None:
        provides = PROVIDES.get(name, ())
        self.result.lookups.append(Lookup(name, label, False, cause, error, identity, provides))
        self.result.notes.append(f"{label}: {error}")

    async def get_json(
        self,
        name: str,
        label: str,
        url: str,
        params: Mapping[str, str | int] | None = None,
        *,
        identity: bool = True,
    ) -> object | None:
        """The JSON body, or None after recording why (a failing source never fails
        resolution: the caller goes on with what the others said)."""
        try:
            response = await self.http.get(url, params=params, on_retry=self.on_retry)
        except DossierError as exc:
            self.failed(name, label, cause_of(exc), exc.message, identity=identity)
            return None
        if not response.ok:
            error = f"answered HTTP {response.status}"
            self.failed(name, label, FailureCause.HTTP, error, identity=identity)
            return None
        try:
            body: object = json.loads(response.text())
        except ValueError:
            error = "answered something that is not JSON"
            self.failed(name, label, FailureCause.GARBAGE, error, identity=identity)
            return None
        self.result.lookups.append(Lookup(name, label, True, identity=identity))
        self.trimmed[name] = bool(response.headers.get(TRIMMED_HEADER))
        return body

    async def sec(self, query: str, *, is_ticker: bool) -> None:
        payload = await self.get_json("sec_tickers", "SEC company list", TICKERS_URL)
        await self.step("SEC company list")
        if payload is None:
            return
        try:
            match = resolve_from_tickers(payload, query)
        except ValueError as exc:
            self.unreadable("sec_tickers", "SEC company list", exc)
            return
        ids = self.result.identifiers
        if match.company and (match.by == "title" or is_ticker):
            ids.setdefault("cik", match.company.cik)
            if match.company.tickers:
                ids.setdefault("ticker", match.company.tickers[0])
            self.result.notes.append(f"SEC: {match.company.title} (CIK {match.company.cik})")
            return
        offered = [match.company] if match.company else list(match.candidates)
        self.result.candidates += [
            {"source": "sec", "cik": c.cik, "ticker": ", ".join(c.tickers), "title": c.title}
            for c in offered
        ]
        if match.company:
            self.result.notes.append(
                f"'{query}' is the ticker of {match.company.title}; not assumed to be the account"
            )
        elif not offered and self.trimmed.get("sec_tickers"):
            # A recording cut down to a few companies cannot say who is *not* listed.
            self.unanswered(
                "sec_tickers",
                "SEC company list",
                FailureCause.NOT_RECORDED,
                f"'{query}' is not among the companies this demo's SEC list keeps",
            )
        elif not offered:
            self.result.notes.append(f"SEC lists no public company named '{query}'")

    async def gleif(self, name: str) -> None:
        self.total += 1
        params: dict[str, str | int] = {"filter[entity.legalName]": name.lower(), "page[size]": 200}
        # The LEI is extra detail on a company already identified: not an identity lookup.
        payload = await self.get_json("gleif", "GLEIF", GLEIF_URL, params, identity=False)
        await self.step("GLEIF legal entities")
        try:
            lei, options = pick_lei(payload, name=name) if payload is not None else (None, [])
        except ValueError as exc:
            self.unreadable("gleif", "GLEIF", exc, identity=False)
            return
        if lei:
            self.result.identifiers["lei"] = lei
        elif options:
            self.result.notes.append(f"GLEIF: {len(options)} legal entities named '{name}'")
            self.result.candidates += [{"source": "gleif", **o} for o in options]

    def unreadable(self, name: str, label: str, exc: ValueError, *, identity: bool = True) -> None:
        """A lookup answered, but with something we cannot read: a failure after all."""
        self.unanswered(name, label, FailureCause.GARBAGE, f"unreadable: {exc}", identity=identity)

    def unanswered(
        self, name: str, label: str, cause: str, error: str, *, identity: bool = True
    ) -> None:
        """Turn an answered lookup into one that did not answer (after reading it)."""
        self.result.lookups = [
            lookup for lookup in self.result.lookups if lookup.name != name or not lookup.answered
        ]
        self.failed(name, label, cause, error, identity=identity)

    async def board(self, provider: str, slugs: list[str]) -> None:
        probe = BOARD_ENDPOINTS[provider]
        # A probe that fails (timeout, 5xx) proves nothing either way: keep that slug so the
        # board's collector tries it and reports the failure, instead of the jobs silently
        # counting as "no board".
        unverified: str | None = None
        for slug in slugs:
            name, label = f"board:{provider}:{slug}", f"{provider} board '{slug}'"
            try:
                response = await self.http.get(
                    probe.url.format(token=slug), params=probe.params, on_retry=self.on_retry
                )
            except DossierError as exc:
                self.failed(name, label, cause_of(exc), exc.message, identity=False)
                unverified = unverified or slug
                continue
            self.result.lookups.append(Lookup(name, label, True))
            present = response.ok
            if present and probe.needs_postings:
                present = has_postings(response.text())
            if present:
                self.result.identifiers.setdefault(provider, slug)
                break
            if response.status == 404 or response.ok:
                self.result.negatives.append(f"{provider}:{slug}")
            else:
                self.result.notes.append(f"{provider} answered HTTP {response.status} for '{slug}'")
                unverified = unverified or slug
        else:
            if unverified is not None:
                self.unverified[provider] = unverified
        await self.step(f"{provider} board")

    def settle_boards(self, providers: list[str]) -> None:
        """Unverified boards go to their collectors, unless a board was verified."""
        ids = self.result.identifiers
        if any(ids.get(p) for p in providers):
            for provider, slug in self.unverified.items():
                self.result.notes.append(
                    f"{provider} board '{slug}' not checked further: their board is known"
                )
            return
        for provider, slug in self.unverified.items():
            ids.setdefault(provider, slug)
            self.result.notes.append(f"{provider} board '{slug}' unverified; will try it")


async def resolve(
    account: Mapping[str, object],
    http: SourceHttp,
    *,
    settings: Settings,
    progress: Progress | None = None,
    on_retry: OnRetry | None = None,
    boards: bool = True,
) -> Resolution:
    """Resolve an account (``name`` plus optional ``domain``, ``cik``, ``ticker``,
    ``wikidata``, ``wikipedia``, ``lei``, board tokens flat or under ``boards``).

    ``boards=False`` only identifies the company (no job-board probes). Never raises for a
    source failure (it is kept in ``lookups``). Cancellation propagates.
    """
    given = given_identifiers(account)
    name = given.get("name", "")
    run = _Resolver(http, progress, on_retry)
    ids = run.result.identifiers
    ids.update(given)
    if not name:
        run.result.notes.append("no name to resolve")
        return run.result
    ids.setdefault("account_key", normalize_name(name))
    if settings.sources == "live" and not settings.contact_email:
        run.result.notes.append("DOSSIER_CONTACT_EMAIL is not set; SEC may refuse requests")
    probe = [p for p in BOARD_PROVIDERS if p not in given] if boards else []
    slugs = slug_guesses(name, ids.get("domain"))
    run.total = len(probe) + (0 if "cik" in given else 1) + (1 if "wikidata" in given else 2)
    search: list[object | None] = [None]

    async def wikidata_search() -> None:
        params = {**SEARCH_PARAMS, "search": name}
        search[0] = await run.get_json(
            "wikidata_search", "Wikidata search", WIKIDATA_API_URL, params
        )
        await run.step("Wikidata search")

    async with asyncio.TaskGroup() as group:
        if "cik" not in given:
            # "NVDA" or "$shop" reads as a ticker; "Fly" (for Fly.io) must not become FLY
            as_ticker = "ticker" in given or looks_like_ticker(name)
            group.create_task(run.sec(given.get("ticker") or name, is_ticker=as_ticker))
        if "wikidata" not in given:
            group.create_task(wikidata_search())
        for provider in probe:
            group.create_task(run.board(provider, slugs))
    run.settle_boards(list(BOARD_PROVIDERS))
    await _wikidata(run, name, search[0], given)
    if "lei" not in ids and ("cik" in ids or "wikidata" in ids):
        await run.gleif(name)
    run.result.settle()
    return run.result


async def _wikidata(
    run: _Resolver, name: str, search: object | None, given: dict[str, str]
) -> None:
    """Pick the company among search hits (or read the given Q-id) with one claims call."""
    ids = run.result.identifiers
    if "wikidata" in given:
        chosen = [{"wikidata": given["wikidata"]}]
    elif search is None:
        return
    else:
        try:
            chosen, others = company_hits(search, name=name)
        except ValueError as exc:
            run.unreadable("wikidata_search", "Wikidata search", exc)
            return
        if not chosen:
            run.result.notes.append(f"Wikidata has no company named '{name}'")
            run.result.candidates += [{"source": "wikidata", **o} for o in others]
            return
    qids = [c["wikidata"] for c in chosen][:5]
    payload = await run.get_json(
        "wikidata_check",
        "Wikidata entities",
        WIKIDATA_API_URL,
        {**CHECK_PARAMS, "ids": "|".join(qids)},
    )
    await run.step("Wikidata check")
    facts = {q: facts_of(payload, q) for q in qids} if payload is not None else {}
    # a stated CIK or website that contradicts what we know rules a namesake out
    fitting = [c for c in chosen if not contradicts(facts.get(c["wikidata"], {}), ids)]
    agreeing = [c for c in fitting if agrees(facts.get(c["wikidata"], {}), ids)]
    pick = chosen if "wikidata" in given else agreeing if len(agreeing) == 1 else fitting
    if len(pick) != 1:
        run.result.notes.append(f"Wikidata: {len(chosen)} companies named '{name}'; ask the user")
        run.result.candidates += [{"source": "wikidata", **c} for c in chosen]
        return
    ids.setdefault("wikidata", pick[0]["wikidata"])
    for key, value in facts.get(pick[0]["wikidata"], {}).items():
        ids.setdefault(key, value)
