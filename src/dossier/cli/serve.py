"""``dossier serve``: the HTTP/SSE/WebSocket server (uvicorn, one process)."""

from __future__ import annotations

import resource

import typer

from dossier.settings import Settings


def _raise_nofile() -> None:
    """Each SSE client is a file descriptor: lift the soft limit to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def serve(
    host: str | None = typer.Option(None, "--host", help="Address to listen on (DOSSIER_HOST)."),
    port: int | None = typer.Option(None, "--port", help="Port (DOSSIER_PORT)."),
) -> None:
    """Run the server: HTTP API, event streams, chat and the web page.

    Embedded defaults: SQLite, disk cache, builtin analyst.
    """
    import uvicorn

    from dossier.app import InsecureBind, create_app
    from dossier.logs import configure_logging
    from dossier.transport.peers import uvicorn_proxy_options

    overrides: dict[str, object] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    settings = Settings(**overrides)  # type: ignore[arg-type]
    configure_logging(settings.log_level, settings.log_format)
    try:
        app = create_app(settings)
    except InsecureBind as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    _raise_nofile()
    typer.secho(
        f"dossier on http://{settings.host}:{settings.port}  (sources={settings.sources}, "
        f"data={settings.data_dir})",
        err=True,
    )
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        log_level="warning",
        access_log=False,
        backlog=4096,
        timeout_keep_alive=30,
        lifespan="on",
        **uvicorn_proxy_options(settings),
    )


def worker(
    port: int | None = typer.Option(
        None, "--port", help="Serve /healthz, /readyz, /metrics here (DOSSIER_WORKER_PORT)."
    ),
) -> None:
    """Run workflows only (scale-out); no API, only health and metrics with --port.

    Needs DOSSIER_DATABASE_URL (PostgreSQL), ideally DOSSIER_REDIS_URL.
    """
    import asyncio
    import contextlib

    from dossier.app import InsecureBind, check_bind, run_worker
    from dossier.logs import configure_logging

    overrides: dict[str, object] = {"role": "worker"}
    if port is not None:
        overrides["worker_port"] = port
    settings = Settings(**overrides)  # type: ignore[arg-type]
    configure_logging(settings.log_level, settings.log_format)
    if settings.worker_port:
        try:
            check_bind(settings)
        except InsecureBind as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(2) from exc
    typer.secho(f"dossier worker {settings.executor_id} (sources={settings.sources})", err=True)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is the way to stop a worker
        asyncio.run(run_worker(settings))
