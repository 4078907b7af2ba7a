"""HTTP routes (JSON; OpenAPI at /docs). Errors are mapped in ``transport/errors.py``."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import AfterValidator
from starlette.routing import Route

from dossier import __version__, metrics
from dossier.collectors.replay import demo_info
from dossier.core.export import file_name, to_markdown
from dossier.core.records import SessionRecord, WorkflowKind, workflow_id
from dossier.core.sessions import CreateSession, SteerCommand
from dossier.core.types import MAX_NAME_CHARS, check_name, default_vendor
from dossier.errors import Unavailable
from dossier.transport.deps import client_key, principal_of_conn, services_of
from dossier.transport.sse import EventStream

router = APIRouter()


def session_links(session_id: str) -> dict[str, Any]:
    return {
        "self": f"/api/sessions/{session_id}",
        "events": f"/api/sessions/{session_id}/events",
        "chat": f"/ws/sessions/{session_id}/chat",
        "questions": f"/api/sessions/{session_id}/questions",
        "steer": f"/api/sessions/{session_id}/steer",
        "cancel": f"/api/sessions/{session_id}/cancel",
        "workflows": {
            kind: f"/api/workflows/{workflow_id(session_id, kind)}"
            for kind in (WorkflowKind.VENDOR_CONTEXT, WorkflowKind.CUSTOMER_INTELLIGENCE)
        },
    }


def _summary(record: SessionRecord) -> dict[str, Any]:
    return {
        "session_id": record.session_id,
        "status": record.status.value,
        "account": record.account.model_dump(mode="json"),
        "vendor": record.vendor.model_dump(mode="json"),
        "cached": record.cached,
        "created_at": record.created_at,
        "links": session_links(record.session_id),
    }


@router.post("/api/sessions", status_code=202, tags=["sessions"])
async def create_session(body: CreateSession, request: Request) -> JSONResponse:
    """Start (or join, or serve from cache) the research of an account."""
    services = services_of(request)
    await services.session_limiter.hit(client_key(request))
    opened = await services.sessions.open(body, principal_of_conn(request))
    how = "joined" if opened.joined else "cached" if opened.cached else "new"
    metrics.SESSIONS_OPENED.inc(how=how)
    return JSONResponse(
        {
            "session_id": opened.session_id,
            "status": opened.status.value,
            "joined": opened.joined,
            "cached": opened.cached,
            "links": session_links(opened.session_id),
        },
        status_code=202,
    )


def _account_filter(value: str) -> str:
    # "" is no filter (an empty form field); anything else is a name, checked as one
    return check_name(value.strip()) if value else value


@router.get("/api/sessions", tags=["sessions"])
async def list_sessions(
    request: Request,
    account: Annotated[str, AfterValidator(_account_filter)] | None = Query(
        default=None, max_length=MAX_NAME_CHARS
    ),
    limit: int = Query(default=50, ge=1, le=500),
) -> dict[str, Any]:
    services = services_of(request)
    records = await services.sessions.list(
        principal_of_conn(request), account=account or None, limit=limit
    )
    return {"sessions": [_summary(r) for r in records]}


@router.get("/api/sessions/{session_id}", tags=["sessions"])
async def get_session(session_id: str, request: Request) -> dict[str, Any]:
    """Snapshot: state folded from the log; stream from ``last_seq`` afterwards."""
    services = services_of(request)
    snapshot = await services.sessions.snapshot(session_id, principal_of_conn(request))
    snapshot["links"] = session_links(session_id)
    return snapshot


@router.get("/api/sessions/{session_id}/export", tags=["sessions"])
async def export_session(
    session_id: str, request: Request, format: str = Query(default="md", pattern="^(md|json)$")
) -> Response:
    """The dossier as a Markdown document or as JSON (the snapshot)."""
    services = services_of(request)
    snapshot = await services.sessions.snapshot(session_id, principal_of_conn(request))
    name = file_name(snapshot, format)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if format == "json":
        return JSONResponse(snapshot, headers=headers)
    return PlainTextResponse(to_markdown(snapshot), media_type="text/markdown", headers=headers)


@router.post("/api/sessions/{session_id}/cancel", status_code=202, tags=["sessions"])
async def cancel_session(session_id: str, request: Request) -> JSONResponse:
    services = services_of(request)
    done = await services.sessions.cancel(session_id, principal_of_conn(request))
    # detached: the caller had joined it; it runs on for its owner, off the caller's list
    return JSONResponse(
        {"session_id": session_id, "status": done.status.value, "detached": done.detached},
        status_code=202,
    )


@router.post("/api/sessions/{session_id}/steer", status_code=202, tags=["chat"])
async def steer_session(session_id: str, body: SteerCommand, request: Request) -> JSONResponse:
    """Focus, skip or stop-and-summarize the running workflows at their next step boundary."""
    services = services_of(request)
    ack = await services.sessions.steer(session_id, principal_of_conn(request), body)
    return JSONResponse(ack, status_code=202)


@router.get("/api/workflows/{wf_id}", tags=["workflows"])
async def get_workflow(wf_id: str, request: Request) -> dict[str, Any]:
    services = services_of(request)
    record, kind = await services.sessions.record_of_workflow(wf_id, principal_of_conn(request))
    state = await services.sessions.state(record.session_id)
    workflow = state.workflows.get(kind)
    if workflow is None:
        body: dict[str, Any] = {"id": wf_id, "kind": kind, "status": "pending", "steps": []}
    else:
        body = workflow.to_json()
        body["id"] = wf_id
    analysis = state.analysis.get(kind)
    body["session_id"] = record.session_id
    body["analysis"] = analysis.to_json() if analysis else None
    body["links"] = {
        "progress": f"/api/workflows/{wf_id}/progress",
        "session": f"/api/sessions/{record.session_id}",
    }
    return body


@router.get("/api/info", tags=["ops"])
async def info(request: Request) -> dict[str, Any]:
    """What this server answers from: live sources, or a demo's recordings (and which)."""
    settings = services_of(request).settings
    demo = demo_info() if settings.sources == "replay" else None
    return {
        "version": __version__,
        "sources": settings.sources,
        "provider": settings.provider,
        "vendor": default_vendor(settings).model_dump(mode="json"),
        "demo": None
        if demo is None
        else {
            "accounts": list(demo.accounts),
            "recorded_from": demo.recorded_from,
            "recorded_to": demo.recorded_to,
        },
    }


@router.get("/healthz", tags=["ops"])
async def healthz() -> dict[str, bool]:
    return {"ok": True}


_PROBE_TIMEOUT_S = 2.0


@router.get("/readyz", tags=["ops"])
async def readyz(request: Request) -> dict[str, Any]:
    """Ready while the event log answers (503 otherwise). Each dependency is reported on
    its own; Redis being down only degrades the replica (streams fill from the log)."""
    services = services_of(request)
    if not services.ready:
        raise Unavailable("starting up")
    probes = services.probes or {"event_log": services.sessions.ping}
    checks: dict[str, str] = {}
    for name, probe in probes.items():
        try:
            await asyncio.wait_for(probe(), _PROBE_TIMEOUT_S)
            checks[name] = "ok"
        except Exception as exc:
            checks[name] = f"unreachable: {exc or type(exc).__name__}"
    log_name = next(iter(probes))
    if checks[log_name] != "ok":
        raise Unavailable("; ".join(f"{name} {state}" for name, state in checks.items()))
    degraded = any(state != "ok" for state in checks.values())
    return {"ok": True, **({"degraded": True} if degraded else {}), **checks}


@router.get("/metrics", tags=["ops"], response_class=PlainTextResponse)
async def prometheus() -> PlainTextResponse:
    return PlainTextResponse(metrics.render(), media_type="text/plain; version=0.0.4")


def stream_routes() -> list[Route]:
    """The SSE endpoints, mounted as bare ASGI apps."""
    return [
        Route("/api/sessions/{session_id}/events", EventStream(by_workflow=False), methods=["GET"]),
        Route(
            "/api/workflows/{workflow_id}/progress", EventStream(by_workflow=True), methods=["GET"]
        ),
    ]
