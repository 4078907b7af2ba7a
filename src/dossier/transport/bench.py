"""``POST /api/bench/sessions`` (only with ``DOSSIER_BENCH=1``): start a synthetic
session (:mod:`dossier.core.synthetic`) and stream it like any other."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from dossier.core.synthetic import SyntheticSessions, SyntheticSpec
from dossier.transport.deps import principal_of_conn

router = APIRouter()


class BenchSession(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n: int = Field(ge=1, le=5_000_000)
    rate: float = Field(default=0.0, ge=0.0)
    subscribers: int = Field(default=1, ge=0, le=100_000)


@router.post("/api/bench/sessions", status_code=202, tags=["bench"])
async def create_bench_session(body: BenchSession, request: Request) -> JSONResponse:
    synthetic: SyntheticSessions = request.app.state.synthetic
    spec = SyntheticSpec(n=body.n, rate=body.rate, subscribers=body.subscribers)
    session_id = await synthetic.start(spec, principal_of_conn(request))
    return JSONResponse({"session_id": session_id, "status": "running"}, status_code=202)
