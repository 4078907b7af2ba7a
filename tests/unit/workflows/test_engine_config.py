"""DBOS's configuration as dossier builds it: SQLite by default; on PostgreSQL, the pool
settings the step overhead was measured with (no pre-ping, LIFO, recycled), and
synchronous_commit off only where asked and never for an api replica's hand-offs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dossier.settings import Settings
from dossier.workflows.engine import dbos_config

PG = "postgresql://postgres@127.0.0.1:5432/dossier"


def engine_kwargs(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    settings = Settings(_env_file=None, data_dir=tmp_path, database_url=PG, **overrides)
    config = dbos_config(settings)
    kwargs = config.get("db_engine_kwargs")
    assert kwargs is not None
    return kwargs


def test_sqlite_gets_dossiers_own_engine_and_no_postgres_pool_settings(tmp_path: Path) -> None:
    config = dbos_config(Settings(_env_file=None, data_dir=tmp_path))
    assert str(config.get("system_database_url")).startswith("sqlite:///")
    assert config.get("system_database_engine") is not None
    assert "db_engine_kwargs" not in config


def test_postgres_checkouts_skip_the_ping_reuse_hot_connections_and_recycle(
    tmp_path: Path,
) -> None:
    kwargs = engine_kwargs(tmp_path, executor_id="worker-7")
    assert kwargs["pool_pre_ping"] is False
    assert kwargs["pool_use_lifo"] is True
    assert 0 < kwargs["pool_recycle"] <= 3600
    assert kwargs["pool_size"] >= 1 and kwargs["max_overflow"] == 0
    assert kwargs["connect_args"]["application_name"] == "dossier-dbos worker-7"
    assert "options" not in kwargs["connect_args"]  # synchronous commits by default


def test_step_checkpoints_commit_asynchronously_only_when_asked(tmp_path: Path) -> None:
    for role in ("all", "worker"):
        kwargs = engine_kwargs(tmp_path, step_synchronous_commit=False, role=role)
        assert kwargs["connect_args"]["options"] == "-c synchronous_commit=off"


def test_an_api_replica_always_waits_for_the_disk(tmp_path: Path) -> None:
    kwargs = engine_kwargs(tmp_path, step_synchronous_commit=False, role="api")
    assert "options" not in kwargs["connect_args"]


def test_options_in_the_url_are_kept(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path,
        database_url=f"{PG}?options=-c%20search_path%3Ddossier",
        step_synchronous_commit=False,
    )
    kwargs = dbos_config(settings).get("db_engine_kwargs")
    assert kwargs is not None
    assert kwargs["connect_args"]["options"] == "-c search_path=dossier -c synchronous_commit=off"
