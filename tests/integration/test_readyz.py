"""``/readyz`` reports each dependency on its own: Redis down degrades the replica (it
stays ready: streams fill from the log) and says so; the event log down makes it unready."""

from __future__ import annotations

from pathlib import Path

import httpx

from dossier.app import create_app
from dossier.settings import Settings
from tests.e2e.conftest import free_port


async def test_readyz_names_redis_when_it_is_down(settings: Settings, tmp_path: Path) -> None:
    nobody = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    app = create_app(settings.model_copy(update={"redis_url": nobody}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
            answer = await http.get("/readyz")
    assert answer.status_code == 200
    body = answer.json()
    assert body["ok"] is True and body["degraded"] is True and body["sqlite"] == "ok"
    assert body["redis"].startswith("unreachable: ")


async def test_readyz_with_redis_up_reports_both(settings: Settings, tmp_path: Path) -> None:
    # (a database of its own, and nothing is written to it: only a ping)
    app = create_app(settings.model_copy(update={"redis_url": "redis://127.0.0.1:6379/14"}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
            answer = await http.get("/readyz")
    assert answer.json() == {"ok": True, "sqlite": "ok", "redis": "ok"}
