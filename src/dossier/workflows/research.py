"""The workflows: one session runs ``vendor_context`` and ``customer_intelligence``.

Bodies are deterministic (no clock, no I/O, no randomness): everything else happens in
steps, so DBOS can replay a body after a crash and skip every completed step. Each
research workflow is ``cache_check -> [resolve -> plan] -> collect (one durable step per
collector, run in parallel) -> analyze -> cache_store`` (resolve and plan only when the
account's identifiers are not cached). Workflow names are durable; renaming is a migration.
"""

from __future__ import annotations

import asyncio
from typing import Any

from dbos import DBOS, SetWorkflowID

from dossier.core.records import WorkflowKind, workflow_id
from dossier.core.types import Account, Vendor
from dossier.workflows.collect import collect
from dossier.workflows.prepare import cache_check, plan_sources, resolve_account
from dossier.workflows.steps import analyze, cache_store, finish_session, vendor_summary

SESSION_WORKFLOW = "dossier.research_session"
VENDOR_CONTEXT = "dossier.vendor_context"
CUSTOMER_INTELLIGENCE = "dossier.customer_intelligence"


async def _research(
    kind: str,
    session_id: str,
    account_json: str,
    vendor_json: str,
    refresh: bool,
    lookup: bool = True,
) -> dict[str, Any]:
    wf_id = workflow_id(session_id, kind)
    checked = await cache_check(session_id, kind, wf_id, account_json, refresh, lookup)
    if checked["plan"] is None:
        resolution = await resolve_account(session_id, kind, account_json)
        checked = await plan_sources(
            session_id, kind, account_json, resolution["identifiers"], refresh, resolution
        )
    plan = checked["plan"]
    expected = {s["name"]: s["expected_s"] for s in plan["sources"]}
    to_run = [s["name"] for s in plan["sources"] if s["action"] in ("run", "revalidate")]
    collected = await asyncio.gather(
        *(collect(session_id, kind, name, plan["identifiers"], expected[name]) for name in to_run)
    )
    revalidated = {o["name"] for o in collected}
    outcomes = [o for o in checked["cached"] if o["name"] not in revalidated] + list(collected)
    vendor_text = None
    if kind == WorkflowKind.CUSTOMER_INTELLIGENCE:
        vendor_text = await vendor_summary(session_id)
    analysis = await analyze(
        session_id,
        kind,
        account_json,
        vendor_json,
        outcomes,
        vendor_text,
        plan["identifiers"],
        plan["uncovered"],
    )
    return await cache_store(
        session_id,
        kind,
        account_json,
        vendor_json,
        outcomes,
        analysis,
        plan["uncovered"],
        plan["lookups"],
    )


@DBOS.workflow(name=VENDOR_CONTEXT)
async def vendor_context(session_id: str, vendor_json: str, refresh: bool) -> dict[str, Any]:
    """Who *we* are: the seller researched with the same collectors (profile, tech, news)."""
    vendor = Vendor.model_validate_json(vendor_json)
    subject = Account(name=vendor.name or "Our company", domain=vendor.domain)
    # An unnamed vendor has nothing to look up; its analysis says what to configure.
    return await _research(
        WorkflowKind.VENDOR_CONTEXT,
        session_id,
        subject.model_dump_json(),
        vendor_json,
        refresh,
        lookup=bool(vendor.name or vendor.domain),
    )


@DBOS.workflow(name=CUSTOMER_INTELLIGENCE)
async def customer_intelligence(
    session_id: str, account_json: str, vendor_json: str, refresh: bool
) -> dict[str, Any]:
    """Who *they* are: news, jobs, funding, people, tech, profile."""
    return await _research(
        WorkflowKind.CUSTOMER_INTELLIGENCE, session_id, account_json, vendor_json, refresh
    )


@DBOS.workflow(name=SESSION_WORKFLOW)
async def research_session(
    session_id: str, account_json: str, vendor_json: str, refresh: bool
) -> dict[str, Any]:
    """Both workflows side by side, then ``session.completed``."""
    with SetWorkflowID(workflow_id(session_id, WorkflowKind.VENDOR_CONTEXT)):
        vendor_handle = await DBOS.start_workflow_async(
            vendor_context, session_id, vendor_json, refresh
        )
    with SetWorkflowID(workflow_id(session_id, WorkflowKind.CUSTOMER_INTELLIGENCE)):
        customer_handle = await DBOS.start_workflow_async(
            customer_intelligence, session_id, account_json, vendor_json, refresh
        )
    summaries: dict[str, dict[str, Any]] = {}
    failed: list[str] = []
    for kind, handle in (
        (WorkflowKind.VENDOR_CONTEXT, vendor_handle),
        (WorkflowKind.CUSTOMER_INTELLIGENCE, customer_handle),
    ):
        try:
            summaries[kind] = await handle.get_result()
        except Exception:  # the child recorded its own failure on the log
            failed.append(kind)
    return await finish_session(session_id, summaries, failed)
