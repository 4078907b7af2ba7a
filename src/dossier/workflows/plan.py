"""Smart collection plan: identifiers + cache freshness -> which collectors to run.

Pure functions over what the cache said; the DBOS step that calls them lives in
``steps.py``. A fresh cache entry makes its collector a cached, completed step; a stale one
is served at once *and* re-collected (stale-while-revalidate); a miss is collected.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pydantic import JsonValue

from dossier.cache.store import Freshness, Hit
from dossier.core.ports import Collector
from dossier.core.types import Account, DataType

VENDOR_DATA_TYPES = frozenset({DataType.PROFILE, DataType.TECH, DataType.NEWS})
CUSTOMER_DATA_TYPES = frozenset(DataType)
# Typical duration of one collector when nothing better is known (ETA before first data).
DEFAULT_EXPECTED_S = 3.0


def wanted_types(workflow: str) -> frozenset[DataType]:
    """Vendor Context looks at who we are; Customer Intelligence at everything."""
    return VENDOR_DATA_TYPES if workflow == "vendor_context" else CUSTOMER_DATA_TYPES


def identifiers_for(account: Account) -> dict[str, str]:
    """What the request itself says about the account (resolution adds the rest)."""
    ids: dict[str, str] = {"name": account.name, "account_key": account.key}
    if account.domain:
        ids["domain"] = account.domain
    if account.cik:
        ids["cik"] = account.cik.zfill(10)
    if account.ticker:
        ids["ticker"] = account.ticker.upper()
    for provider, token in account.boards.items():
        ids[provider] = token
    return ids


@dataclass
class SourcePlan:
    """One collector's fate in this run."""

    name: str
    data_types: list[str]
    action: str  # "run" | "cached" | "revalidate"
    hit_age_s: float | None = None
    negative: bool = False
    expected_s: float = DEFAULT_EXPECTED_S

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "name": self.name,
            "data_types": list(self.data_types),
            "action": self.action,
            "hit_age_s": self.hit_age_s,
            "negative": self.negative,
            "expected_s": self.expected_s,
        }


@dataclass
class Plan:
    identifiers: dict[str, str]
    sources: list[SourcePlan] = field(default_factory=list)
    # data types no applicable collector can cover, with why (e.g. no SEC CIK -> no funding
    # source; every job board answered "no such board" -> none exists, which is an answer)
    uncovered: dict[str, str] = field(default_factory=dict)

    @property
    def to_run(self) -> list[str]:
        return [s.name for s in self.sources if s.action in ("run", "revalidate")]

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "identifiers": dict(self.identifiers),
            "sources": [s.to_json() for s in self.sources],
            "uncovered": dict(self.uncovered),
        }


def make_plan(
    identifiers: dict[str, str],
    collectors: Iterable[Collector],
    hits: dict[str, Hit | None],
    *,
    wanted: frozenset[DataType],
    refresh: bool,
    expected_s: dict[str, float] | None = None,
    negatives: Iterable[str] = (),
) -> Plan:
    plan = Plan(identifiers=dict(identifiers))
    covered: set[DataType] = set()
    for collector in collectors:
        types = collector.data_types & wanted
        if not types or not collector.applicable(identifiers):
            continue
        covered |= types
        hit = None if refresh else hits.get(collector.name)
        if hit is None:
            action = "run"
        elif hit.freshness == Freshness.FRESH:
            action = "cached"
        else:
            action = "revalidate"
        plan.sources.append(
            SourcePlan(
                name=collector.name,
                data_types=sorted(t.value for t in types),
                action=action,
                hit_age_s=round(hit.age_s, 1) if hit is not None else None,
                negative=bool(hit and hit.negative),
                expected_s=(expected_s or {}).get(collector.name, DEFAULT_EXPECTED_S),
            )
        )
    boards_probed = {n.split(":", 1)[0] for n in negatives}
    for data_type in sorted(t.value for t in wanted - covered):
        if data_type == DataType.JOBS and boards_probed:
            plan.uncovered[data_type] = NO_BOARD
        else:
            plan.uncovered[data_type] = NO_SOURCE
    return plan


NO_SOURCE = "no source applies"
NO_BOARD = "no public job board found"


def coverage_of(
    wanted: Iterable[DataType],
    outcomes: Sequence[dict[str, JsonValue]],
    uncovered: dict[str, str] | Iterable[str],
) -> dict[str, JsonValue]:
    """Per data type: found, sources, and complete / partial / missing.

    ``outcomes`` are collect results: ``{"name", "data_types", "status", "found"}``.
    """
    out: dict[str, JsonValue] = {}
    reasons = (
        dict(uncovered) if isinstance(uncovered, dict) else dict.fromkeys(uncovered, NO_SOURCE)
    )
    for data_type in sorted(t.value for t in wanted):
        mine = [o for o in outcomes if data_type in _str_list(o.get("data_types"))]
        found = sum(_count(o.get("found_by_type"), data_type) for o in mine)
        ok = [o for o in mine if o.get("status") in ("completed", "cached")]
        bad = [o for o in mine if o.get("status") not in ("completed", "cached")]
        if not mine:
            reason: str | None = reasons.get(data_type, "not collected")
            # Having looked everywhere and found that nothing exists is an answer.
            status = "complete" if reason == NO_BOARD else "missing"
        elif bad and ok:
            status, reason = "partial", ", ".join(f"{o['name']} {o.get('status')}" for o in bad)
        elif bad:
            status, reason = "missing", ", ".join(f"{o['name']} {o.get('status')}" for o in bad)
        else:
            status, reason = "complete", None
        entry: dict[str, JsonValue] = {
            "status": status,
            "found": found,
            "sources": [str(o["name"]) for o in mine],
        }
        if reason:
            entry["reason"] = reason
        out[data_type] = entry
    return out


def _str_list(value: JsonValue) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _count(value: JsonValue, key: str) -> int:
    if isinstance(value, dict):
        n = value.get(key)
        return n if isinstance(n, int) else 0
    return 0
