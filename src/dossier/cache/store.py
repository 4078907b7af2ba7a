"""What dossier caches, under which key, for how long.

Keys are ``(data type, normalized account, vendor hash, source)``. Collected data does not
depend on the seller, so its vendor part is ``-``; analyses and chat answers do. Each data
type has a TTL; an entry stays usable for another TTL as *stale* (served at once while the
workflow revalidates it: stale-while-revalidate). "No board here" answers are cached too
(negative caching), for a shorter time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from pydantic import JsonValue

from dossier.core.ports import Cache
from dossier.core.types import DataType, Finding

# v2: keys carry the source mode, and failed answers are no longer stored.
KEY_VERSION = "v2"
NO_VENDOR = "-"

TTL_S: dict[DataType, float] = {
    DataType.NEWS: 3600.0,
    DataType.JOBS: 6 * 3600.0,
    DataType.FUNDING: 7 * 86400.0,
    DataType.PEOPLE: 7 * 86400.0,
    DataType.TECH: 30 * 86400.0,
    DataType.PROFILE: 30 * 86400.0,
}
# "No such board": an authoritative answer, but a company may open one any day.
NEGATIVE_TTL_S = 3600.0
ANALYSIS_TTL_S = 6 * 3600.0
ANSWER_TTL_S = 3600.0
# Who a name is (CIK, Wikidata item, domain, which job boards exist) changes rarely, but a
# company may open a board any day: re-resolve daily.
RESOLUTION_TTL_S = 86400.0
# An expired entry is still served, marked stale, for this many TTLs more.
STALE_FACTOR = 1.0


class Freshness(StrEnum):
    FRESH = "fresh"
    STALE = "stale"


@dataclass(frozen=True)
class Hit:
    """A cache entry as read: the payload plus how old it is."""

    payload: JsonValue
    freshness: Freshness
    stored_at: float
    negative: bool

    @property
    def age_s(self) -> float:
        return max(0.0, time.time() - self.stored_at)


def cache_key(mode: str, data_type: str, account_key: str, vendor_hash: str, source: str) -> str:
    """The one key builder. ``mode`` is the source mode (``live``/``replay``): a demo's
    recorded answers must never be served to a live run, nor the other way round."""
    parts = (mode, data_type, account_key, vendor_hash, source)
    return ":".join(("dossier", KEY_VERSION, *(p.replace(":", "_") for p in parts)))


class ResearchCache:
    """Typed access to the layered cache for one source mode. ``clock`` is injectable."""

    def __init__(
        self, layers: Cache, *, mode: str = "live", clock: Callable[[], float] = time.time
    ) -> None:
        self._layers = layers
        self._mode = mode
        self._clock = clock

    def _key(self, data_type: str, account_key: str, vendor_hash: str, source: str) -> str:
        return cache_key(self._mode, data_type, account_key, vendor_hash, source)

    async def _get(self, key: str) -> Hit | None:
        raw = await self._layers.get(key)
        if not isinstance(raw, dict):
            return None
        stored_at, ttl_s = raw.get("stored_at"), raw.get("ttl_s")
        if not isinstance(stored_at, (int, float)) or not isinstance(ttl_s, (int, float)):
            return None
        age = self._clock() - stored_at
        if age > ttl_s * (1 + STALE_FACTOR):
            return None
        freshness = Freshness.FRESH if age <= ttl_s else Freshness.STALE
        return Hit(raw.get("payload"), freshness, float(stored_at), bool(raw.get("negative")))

    async def _put(self, key: str, payload: JsonValue, ttl_s: float, negative: bool) -> None:
        entry: dict[str, JsonValue] = {
            "stored_at": self._clock(),
            "ttl_s": ttl_s,
            "negative": negative,
            "payload": payload,
        }
        await self._layers.set(key, entry, ttl_s=ttl_s * (1 + STALE_FACTOR))

    # -- collected data, per source
    async def get_source(
        self, data_types: Iterable[DataType], account_key: str, source: str
    ) -> Hit | None:
        return await self._get(self._key(_types_part(data_types), account_key, NO_VENDOR, source))

    async def put_source(
        self,
        data_types: Iterable[DataType],
        account_key: str,
        source: str,
        findings: Sequence[Finding],
        *,
        negative: bool = False,
        meta: dict[str, JsonValue] | None = None,
    ) -> None:
        """Store one source's findings; TTL is the shortest of its data types'."""
        types = list(data_types)
        payload: dict[str, JsonValue] = {
            "findings": [f.model_dump(mode="json") for f in findings],
            **(meta or {}),
        }
        ttl = NEGATIVE_TTL_S if negative else min(TTL_S[t] for t in types)
        key = self._key(_types_part(types), account_key, NO_VENDOR, source)
        await self._put(key, payload, ttl, negative)

    # -- account resolution (identifiers, candidates, boards that do not exist)
    async def get_resolution(self, account_key: str, *, boards: bool = True) -> Hit | None:
        """``boards``: a resolution that probed the job boards (the customer's), not one
        that only identified the company (our own, where jobs are not wanted)."""
        return await self._get(self._key("resolve", account_key, NO_VENDOR, _scope(boards)))

    async def put_resolution(
        self, account_key: str, payload: JsonValue, *, boards: bool = True
    ) -> None:
        key = self._key("resolve", account_key, NO_VENDOR, _scope(boards))
        await self._put(key, payload, RESOLUTION_TTL_S, False)

    # -- analyses, per workflow and vendor
    async def get_analysis(self, workflow: str, account_key: str, vendor_hash: str) -> Hit | None:
        return await self._get(self._key("analysis", account_key, vendor_hash, workflow))

    async def put_analysis(
        self, workflow: str, account_key: str, vendor_hash: str, payload: JsonValue
    ) -> None:
        key = self._key("analysis", account_key, vendor_hash, workflow)
        await self._put(key, payload, ANALYSIS_TTL_S, False)

    # -- chat answers, per (intent, data version)
    async def get_answer(
        self, account_key: str, vendor_hash: str, intent: str, data_version: str
    ) -> Hit | None:
        return await self._get(
            self._key("answer", account_key, vendor_hash, f"{intent}@{data_version}")
        )

    async def put_answer(
        self, account_key: str, vendor_hash: str, intent: str, data_version: str, payload: JsonValue
    ) -> None:
        key = self._key("answer", account_key, vendor_hash, f"{intent}@{data_version}")
        await self._put(key, payload, ANSWER_TTL_S, False)

    async def forget(self, data_type: str, account_key: str, vendor_hash: str, source: str) -> None:
        await self._layers.delete(self._key(data_type, account_key, vendor_hash, source))


def _scope(boards: bool) -> str:
    return "resolve" if boards else "resolve-identity"


def _types_part(data_types: Iterable[DataType]) -> str:
    return "+".join(sorted(t.value for t in data_types))


def findings_of(hit: Hit) -> list[Finding]:
    """The findings stored in a source entry (entries that do not parse are ignored)."""
    payload = hit.payload
    if not isinstance(payload, dict):
        return []
    items = payload.get("findings")
    if not isinstance(items, list):
        return []
    out: list[Finding] = []
    for item in items:
        try:
            out.append(Finding.model_validate(item))
        except ValueError:
            continue
    return out
