"""What an answer is built from: a session's state, read for one question.

Pure functions over the snapshot fold: which data is still pending (and when it is due),
the data version (an answer is cached per version), and the :class:`Context` of one
answer (its request to the analyst, basis and pending types).
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import Any

from dossier.core.coverage import notes_of
from dossier.core.intents import Intent
from dossier.core.ports import QuestionRequest
from dossier.core.questions import Question
from dossier.core.records import WorkflowKind
from dossier.core.snapshot import SnapshotBuilder, WorkflowState
from dossier.core.states import TERMINAL_STEP, TERMINAL_WORKFLOW, SessionStatus
from dossier.core.types import Basis, DataType, FindingKind, Vendor, normalize_name


@dataclass
class Context:
    """What one answer is built from."""

    intent: Intent
    request: QuestionRequest
    basis: Basis
    pending: list[str]
    data_version: str
    account_key: str = ""
    vendor_hash: str = ""
    meaning: str = ""  # the question's intent and slots (Question.key)


@functools.lru_cache(maxsize=1024)
def _keys_cached(
    name: str, vendor_name: str, vendor_domain: str, description: str, sells_to: tuple[str, ...]
) -> tuple[str, str]:
    vendor = Vendor(
        name=vendor_name or None,
        domain=vendor_domain or None,
        description=description or None,
        sells_to=sells_to,
    )
    return normalize_name(name), vendor.hash


def _keys(account: dict[str, Any], vendor: dict[str, Any]) -> tuple[str, str]:
    """(account key, vendor hash) of a session, without re-validating its models."""
    return _keys_cached(
        str(account.get("name") or ""),
        str(vendor.get("name") or ""),
        str(vendor.get("domain") or ""),
        str(vendor.get("description") or ""),
        tuple(_roles(vendor.get("sells_to"))),
    )


def data_version(builder: SnapshotBuilder) -> str:
    """Changes whenever a finding, an analysis or a workflow's state changes."""
    parts = sorted(builder.findings)
    parts += [f"{k}:{w.status.value}" for k, w in sorted(builder.workflows.items())]
    parts += [f"a:{k}:{a.status}" for k, a in sorted(builder.analysis.items())]
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:16]


def pending_types(
    builder: SnapshotBuilder, wanted: tuple[DataType, ...]
) -> dict[str, float | None]:
    """Data types still being collected for the customer, with an ETA when one is known."""
    workflow = builder.workflows.get(WorkflowKind.CUSTOMER_INTELLIGENCE)
    if builder.status != SessionStatus.RUNNING:
        return {}
    targets = {t.value for t in (wanted or tuple(DataType))}
    if workflow is None or workflow.status in TERMINAL_WORKFLOW:
        return {} if workflow is not None else dict.fromkeys(sorted(targets))
    collecting = [s for s in workflow.steps.values() if s.name.startswith("collect.")]
    if not collecting:  # not planned yet (resolving the account): all of it is pending
        resolve = workflow.steps.get("resolve")
        eta = resolve.data.get("eta_s") if resolve else None
        return {t: float(eta) if isinstance(eta, (int, float)) else None for t in sorted(targets)}
    out: dict[str, float | None] = {}
    for step in collecting:
        if step.status in TERMINAL_STEP:
            continue
        types = step.data.get("data_types")
        eta = step.data.get("eta_s")
        for t in types if isinstance(types, list) else []:
            if str(t) in targets:
                best = out.get(str(t))
                value = float(eta) if isinstance(eta, (int, float)) else None
                out[str(t)] = value if best is None else max(best, value or 0.0)
    return _read_later(builder, workflow, targets, out)


# Signals read from text land at the analyze step (collectors/text_signals.py, tech_terms):
# rounds and executive changes from news, technologies from job posts. Until that step
# ends, what they feed is still pending, so an early "no funding round" gets revised.
_READ_FROM = {DataType.FUNDING: (FindingKind.NEWS_ARTICLE, DataType.NEWS),
              DataType.PEOPLE: (FindingKind.NEWS_ARTICLE, DataType.NEWS),
              DataType.TECH: (FindingKind.JOB_POSTING, DataType.JOBS)}  # fmt: skip


def _read_later(
    builder: SnapshotBuilder,
    workflow: WorkflowState,
    targets: set[str],
    pending: dict[str, float | None],
) -> dict[str, float | None]:
    analyze = workflow.steps.get("analyze")
    if analyze is not None and analyze.status in TERMINAL_STEP:
        return pending
    kinds = {f.kind for f in builder.findings.values() if _customer(builder, f.id)}
    out = dict(pending)
    for derived, (kind, source) in _READ_FROM.items():
        if derived.value not in targets or derived.value in out:
            continue
        if source.value in pending:
            out[derived.value] = pending[source.value]
        elif kind in kinds:
            out[derived.value] = None
    return out


def build_context(builder: SnapshotBuilder, question: str, asked: Question) -> Context:
    """What one answer is built from: the customer findings, coverage and pending data of
    the session's state now, with the keys its answer is cached under."""
    intent = asked.intent
    pending = pending_types(builder, intent.data_types)
    created = builder.created
    account = _obj(created.get("account"))
    vendor = _obj(created.get("vendor"))
    findings = [f for f in builder.findings.values() if _customer(builder, f.id)]
    analysis = builder.analysis.get(WorkflowKind.CUSTOMER_INTELLIGENCE)
    request = QuestionRequest(
        question=question,
        intent=intent.name,
        account_name=str(account.get("name") or "the account"),
        vendor_name=_str(vendor.get("name")),
        vendor_description=_str(vendor.get("description")),
        vendor_sells_to=_roles(vendor.get("sells_to")),
        findings=findings,
        pending=sorted(pending),
        pending_eta_s={k: v for k, v in pending.items() if v is not None},
        coverage=notes_of(builder.coverage()),
        analysis=analysis.text if analysis and analysis.text else None,
        slots=asked.slots,
    )
    if builder.status != SessionStatus.RUNNING:
        basis = Basis.CACHE if created.get("cached") else Basis.COMPLETE
    else:
        basis = Basis.PARTIAL
    account_key, vendor_hash = _keys(account, vendor)
    version = data_version(builder)
    return Context(
        intent, request, basis, sorted(pending), version, account_key, vendor_hash, asked.key
    )


def _obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _roles(value: object) -> list[str]:
    return [str(r) for r in value] if isinstance(value, (list, tuple)) else []


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _customer(builder: SnapshotBuilder, finding_id: str) -> bool:
    """Findings about the account (not the vendor's own research)."""
    return finding_id in builder.customer_finding_ids
