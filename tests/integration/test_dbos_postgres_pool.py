"""DBOS's PostgreSQL pool as engine.py configures it, on the local server: without
pre-ping, connections the server drops between steps (a restart, a failover, an idle
kill) cost a retry, not a step run twice or a workflow lost; and the session options
reach PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from dbos import DBOS, SetWorkflowID, WorkflowHandleAsync

from dossier.settings import Settings
from dossier.workflows.engine import _postgres_engine_kwargs, dbos_config

ran: list[int] = []
dropped: list[int] = []
pg_url_for_steps: list[str] = []


def drop_dbos_connections(pg_url: str) -> int:
    """Terminate every DBOS connection of this database, as a server restart would."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name LIKE 'dossier-dbos %'"
        ).fetchall()
    return len(rows)


@DBOS.step(name="pin.pool.count")
async def count(i: int) -> int:
    ran.append(i)
    return i


@DBOS.step(name="pin.pool.drop")
async def drop() -> int:
    # A step, so the workflow stays deterministic; its own checkpoint then meets a dead
    # connection too.
    n = drop_dbos_connections(pg_url_for_steps[0])
    dropped.append(n)
    return n


@DBOS.workflow(name="pin.pool.workflow")
async def steps_across_a_reset(n: int) -> int:
    total = 0
    for i in range(n):
        total += await count(i)
        if i == 1:
            await drop()
    return total


@pytest.mark.slow
async def test_steps_go_on_when_the_server_drops_every_connection(
    tmp_path: Path, pg_url: str
) -> None:
    ran.clear()
    dropped.clear()
    pg_url_for_steps[:] = [pg_url]
    settings = Settings(
        _env_file=None, data_dir=tmp_path, database_url=pg_url, executor_id="pool-test"
    )
    DBOS(config=dbos_config(settings))
    DBOS.launch()
    try:
        with SetWorkflowID("wf-pool"):
            handle: WorkflowHandleAsync[int] = await DBOS.start_workflow_async(
                steps_across_a_reset, 4
            )
        assert await handle.get_result() == 0 + 1 + 2 + 3
        assert (await handle.get_status()).status == "SUCCESS"
    finally:
        DBOS.destroy(workflow_completion_timeout_sec=0)
    assert dropped and dropped[0] >= 1  # there were pooled connections to drop
    assert ran == [0, 1, 2, 3]  # every step once: none lost, none run again


def test_asynchronous_step_commits_reach_the_server(tmp_path: Path, pg_url: str) -> None:
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path,
        database_url=pg_url,
        role="worker",
        step_synchronous_commit=False,
    )
    url = sa.make_url(pg_url).set(drivername="postgresql+psycopg")
    engine = sa.create_engine(url, **_postgres_engine_kwargs(settings))
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SHOW synchronous_commit")).scalar() == "off"
    finally:
        engine.dispose()
