"""How a finished research went: its verdict, what is missing, and the next step.

Read off the coverage (``core/coverage.py``): ``completed`` only when every applicable
source answered and every data type is settled, ``failed`` when nothing answered at
all, ``partial`` otherwise; ``missing`` says which and why; the hint names the plain
next step (offline, add a domain, try a recorded account).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any

from pydantic import JsonValue

from dossier.core.coverage import (
    ANSWERED,
    SETTLED,
    CoverageState,
    FailureCause,
    obj,
    state_value,
)
from dossier.core.words import join_words


class SessionVerdict(StrEnum):
    """How a finished research went (the session's and each workflow's ``status``)."""

    COMPLETED = "completed"
    PARTIAL = "partial"
    FAILED = "failed"


NETWORK_HINT = (
    "Cannot reach the internet from this machine: check the connection or proxy, "
    "or try `make demo` for recorded data."
)


def missing_of(coverage: Mapping[str, Any]) -> list[dict[str, JsonValue]]:
    """What keeps the research from complete: ``[{data_type, state, reason, sources}]``.

    A data type that is not settled is missing as a whole; a found one whose sources did
    not all answer lists those sources (with their state and reason).
    """
    out: list[dict[str, JsonValue]] = []
    for data_type, entry in coverage.items():
        if not isinstance(entry, dict):
            continue
        state = state_value(entry.get("state"))
        sources = obj(entry.get("sources"))
        if state is not None and state not in SETTLED:
            out.append(
                {
                    "data_type": data_type,
                    "state": state.value,
                    "reason": str(entry.get("reason") or ""),
                    "sources": [
                        n
                        for n, s in sorted(sources.items())
                        if state_value(obj(s).get("state")) is state
                    ],
                }
            )
            continue
        for name, source in sorted(sources.items()):
            src_state = state_value(obj(source).get("gap") or obj(source).get("state"))
            if src_state is not None and src_state not in SETTLED:
                out.append(
                    {
                        "data_type": data_type,
                        "state": src_state.value,
                        "reason": str(obj(source).get("reason") or ""),
                        "sources": [name],
                    }
                )
    return out


def verdict(
    coverage: Mapping[str, Any],
    *,
    answered: bool,
    complete_sources: bool,
) -> SessionVerdict:
    """``completed`` only when every applicable source answered (and every data type is
    settled); ``failed`` when nothing answered at all; else ``partial``."""
    if not answered:
        return SessionVerdict.FAILED
    states = [state_value(obj(e).get("state")) for e in coverage.values() if isinstance(e, dict)]
    settled = all(state in SETTLED for state in states)
    return SessionVerdict.COMPLETED if settled and complete_sources else SessionVerdict.PARTIAL


def hint_of(
    status: SessionVerdict | str,
    coverage: Mapping[str, Any],
    causes: Iterable[str],
    *,
    account: str,
    demo_accounts: Sequence[str] = (),
) -> str | None:
    """The next step for the user, when one is plain: offline, unidentified, not in the demo."""
    seen = set(causes)
    states = {state_value(obj(e).get("state")) for e in coverage.values()}
    if status == SessionVerdict.FAILED and seen and seen <= {FailureCause.NETWORK.value}:
        return NETWORK_HINT
    if CoverageState.UNRESOLVED in states:
        return f"Couldn't identify {account}: add its domain (e.g. example.com) and research again."
    if CoverageState.NOT_RECORDED in states and CoverageState.FOUND not in states:
        others = [a for a in demo_accounts if a.casefold() != account.casefold()]
        offer = f": try {join_words(others, 'or')}" if others else ""
        return f"This demo has no recordings for {account}{offer}."
    return None


def causes_of(outcomes: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every failure cause among outcomes (and their inner failures), sorted."""
    seen: set[str] = set()
    for outcome in outcomes:
        if outcome.get("status") not in ANSWERED and outcome.get("status") != "skipped":
            seen.add(str(outcome.get("cause") or FailureCause.INTERNAL))
        for failure in outcome.get("failures") or []:
            if isinstance(failure, dict):
                seen.add(str(failure.get("cause") or FailureCause.INTERNAL))
    return sorted(seen)
