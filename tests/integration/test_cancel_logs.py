"""Issue 12, item 8: a cancel is said once, at INFO, without a traceback. DBOS reported
each cancelled workflow as a failure (a WARNING, then an ERROR with the traceback of
``DBOSAwaitedWorkflowCancelledError``; the parent "no longer owned"): six lines, three
tracebacks, for one click on Cancel."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import httpx
import pytest

from dossier.settings import Settings
from dossier.workflows.dbos_internals import running_workflow_tasks


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"replay_latency_ms": 1500})  # still running at cancel


@pytest.fixture
def dbos_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """DBOS logs through its own handler, not to the root logger: listen there too."""
    dbos = logging.getLogger("dbos")
    dbos.addHandler(caplog.handler)
    caplog.set_level(logging.INFO)
    try:
        yield caplog
    finally:
        dbos.removeHandler(caplog.handler)


async def test_a_cancel_logs_one_line_without_a_traceback(
    client: httpx.AsyncClient, dbos_logs: pytest.LogCaptureFixture
) -> None:
    created = await client.post("/api/sessions", json={"account": {"name": "Stripe"}})
    session_id = created.json()["session_id"]
    async with asyncio.timeout(30):
        while len(running_workflow_tasks()) < 3:  # noqa: ASYNC110 - the session and both workflows
            await asyncio.sleep(0.05)
    dbos_logs.clear()
    cancelled = await client.post(f"/api/sessions/{session_id}/cancel")
    assert cancelled.status_code == 202
    # every workflow stops (and says so)
    _, running = await asyncio.wait(running_workflow_tasks(), timeout=30)
    assert not running
    said = [
        (r.name, r.levelname, r.getMessage())
        for r in dbos_logs.records
        if r.name.startswith(("dbos", "dossier")) and r.levelno >= logging.INFO
    ]
    assert not [r for r in dbos_logs.records if r.exc_info], said
    assert said == [
        (
            "dossier.workflows.engine",
            "INFO",
            f"session {session_id} cancelled: its workflows stop at their next step",
        )
    ]
