"""Smart collection plan: identifiers + cache freshness -> which collectors to run.

Pure functions over what the cache said; the DBOS step that calls them lives in
``steps.py``. A fresh cache entry makes its collector a cached, completed step; a stale one
is served at once *and* re-collected (stale-while-revalidate); a miss is collected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import JsonValue

from dossier.cache.store import Freshness, Hit
from dossier.core.coverage import CoverageState, FailureCause, Gap, failed_words
from dossier.core.ports import Collector
from dossier.core.records import WorkflowKind
from dossier.core.types import Account, DataType
from dossier.core.words import join_words

VENDOR_DATA_TYPES = frozenset({DataType.PROFILE, DataType.TECH, DataType.NEWS})
CUSTOMER_DATA_TYPES = frozenset(DataType)


def wanted_types(workflow: str) -> frozenset[DataType]:
    """Vendor Context looks at who we are; Customer Intelligence at everything."""
    return VENDOR_DATA_TYPES if workflow == WorkflowKind.VENDOR_CONTEXT else CUSTOMER_DATA_TYPES


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
    expected_s: float | None = None  # how long it took last time (its ETA before progress)

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
    uncovered: dict[str, Gap] = field(default_factory=dict)
    lookups: dict[str, JsonValue] = field(default_factory=dict)

    @property
    def to_run(self) -> list[str]:
        return [s.name for s in self.sources if s.action in ("run", "revalidate")]

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "identifiers": dict(self.identifiers),
            "sources": [s.to_json() for s in self.sources],
            "uncovered": {
                t: {"state": g["state"], "reason": g["reason"]} for t, g in self.uncovered.items()
            },
            "lookups": dict(self.lookups),
        }


def make_plan(
    identifiers: dict[str, str],
    collectors: Iterable[Collector],
    hits: dict[str, Hit | None],
    *,
    wanted: frozenset[DataType],
    refresh: bool,
    expected_s: dict[str, float] | None = None,
    resolution: Mapping[str, Any] | None = None,
    account: str = "the account",
    lookup: bool = True,
    labels: Mapping[str, str] | None = None,
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
                expected_s=(expected_s or {}).get(collector.name),
            )
        )
    for data_type in sorted(t.value for t in wanted - covered):
        plan.uncovered[data_type] = gap_for(
            data_type, resolution or {}, account=account, lookup=lookup, labels=labels
        )
    plan.lookups = lookup_summary(resolution or {})
    return plan


def _failed_lookup_words(failed: list[dict[str, Any]]) -> str:
    by_cause: dict[str, list[str]] = {}
    for x in failed:
        by_cause.setdefault(str(x.get("cause") or "internal"), []).append(str(x.get("label")))
    return "; ".join(failed_words(cause, labels) for cause, labels in by_cause.items())


def lookup_summary(resolution: Mapping[str, Any]) -> dict[str, JsonValue]:
    """How resolution's lookups went, for the workflow's verdict: any answer means we
    reached something; a failed *identity* lookup leaves the research incomplete (a failed
    board probe shows up in its board's own collector, when it matters)."""
    lookups = [x for x in resolution.get("lookups") or [] if isinstance(x, dict)]
    failed = [x for x in lookups if not x.get("answered") and x.get("identity")]
    return {
        "answered": sum(1 for x in lookups if x.get("answered")),
        "failed": len(failed),
        "causes": list[JsonValue](sorted({str(x.get("cause") or "internal") for x in failed})),
    }


# Why a data type has no source to ask, once the company is identified.
_NOT_APPLICABLE: dict[str, str] = {
    DataType.FUNDING: "no SEC filer known for this company (no CIK)",
    DataType.PEOPLE: "no Wikidata item or SEC filer known for this company",
    DataType.PROFILE: "no Wikidata item or SEC filer known for this company",
    DataType.TECH: "no website known: add its domain",
    DataType.JOBS: "no job board to ask",
    DataType.NEWS: "no news source applies",
}
NO_VENDOR = "no vendor configured"


def gap_for(
    data_type: str,
    resolution: Mapping[str, Any],
    *,
    account: str,
    lookup: bool = True,
    labels: Mapping[str, str] | None = None,
) -> Gap:
    """Why no source applies to ``data_type``, from what resolution said.

    A lookup that failed leaves the company unknown for a reason the user can act on
    (network, not in the demo), which is not the same as "we asked and nobody knows it".
    """
    if not lookup:
        return Gap(state=CoverageState.NOT_APPLICABLE.value, reason=NO_VENDOR)
    lookups = [x for x in resolution.get("lookups") or [] if isinstance(x, dict)]
    negatives = [n for n in resolution.get("negatives") or [] if isinstance(n, str)]
    if data_type == DataType.JOBS and negatives:
        probed = sorted({n.split(":", 1)[0] for n in negatives})
        names = join_words([(labels or {}).get(p, p) for p in probed])
        return Gap(
            state=CoverageState.NONE_FOUND.value,
            reason=f"no public job board found on {names}",
        )
    identity = [x for x in lookups if x.get("identity")]
    failed = [x for x in identity if not x.get("answered")]
    words = _failed_lookup_words(failed)
    if not resolution.get("identified") and len(failed) < len(identity):
        # Some lookups answered and none knew the company: that is an answer, with the
        # failures (if any) said beside it.
        also = f"; {words}" if words else ""
        return Gap(
            state=CoverageState.UNRESOLVED.value,
            reason=f"couldn't identify {account}: add its domain{also}",
        )
    if failed:
        recorded = {str(x.get("cause")) for x in failed} != {FailureCause.NOT_RECORDED.value}
        return Gap(
            state=(CoverageState.FAILED if recorded else CoverageState.NOT_RECORDED).value,
            reason=f"couldn't look {account} up: {words}",
        )
    if not resolution.get("identified"):
        return Gap(
            state=CoverageState.UNRESOLVED.value,
            reason=f"couldn't identify {account}: add its domain",
        )
    return Gap(
        state=CoverageState.NOT_APPLICABLE.value,
        reason=_NOT_APPLICABLE.get(data_type, "no source applies"),
    )
