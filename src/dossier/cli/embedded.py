"""The embedded mode of ``dossier research``: the real app on a free loopback port, served
from the CLI's own event loop, so the CLI talks to it exactly as to a remote server.

One code path for both modes: the same HTTP/SSE/WebSocket routes, the same client. The
price is a socket on 127.0.0.1 for the life of the command, which nothing else can reach.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator

import uvicorn
from rich.console import Console
from rich.logging import RichHandler

from dossier.app import InsecureBind, create_app
from dossier.client import ClientError
from dossier.settings import Settings
from dossier.transport.peers import uvicorn_proxy_options

_QUIET = ("dbos", "httpx", "httpcore", "uvicorn", "sqlalchemy", "asyncio")


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # Ctrl-C belongs to the CLI (it ends the command, which then stops this server);
        # uvicorn's handler would only stop the server and re-raise the signal later.
        yield


class _ErrorsOnly(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR


@contextlib.contextmanager
def quiet_logging(console: Console) -> Iterator[None]:
    """Warnings and errors only, printed through ``console`` (above any live display).

    DBOS logs through its own logger with its own stderr handler, which it adds once per
    process and binds to the stderr of that moment; it gets ours instead, for the run.
    Everything is restored on exit (the process may go on: tests, embedding).
    """
    handler = RichHandler(console=console, show_path=False, show_time=False, markup=False)
    root, dbos = logging.getLogger(), logging.getLogger("dbos")
    saved = [
        (logger, logger.handlers[:], logger.level, logger.propagate) for logger in (root, dbos)
    ]
    saved_levels = {name: logging.getLogger(name).level for name in _QUIET}
    root.handlers[:], dbos.handlers[:], dbos.propagate = [handler], [handler], False
    # DBOS sets its own level at launch (WARNING), and warns about every step it cancels
    # when the command stops mid-run: expected here, so only its errors get through.
    errors_only = _ErrorsOnly()
    dbos.addFilter(errors_only)
    root.setLevel(logging.WARNING)
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        yield
    finally:
        dbos.removeFilter(errors_only)
        for logger, handlers, level, propagate in saved:
            logger.handlers[:] = handlers
            logger.setLevel(level)
            logger.propagate = propagate
        for name, old in saved_levels.items():
            logging.getLogger(name).setLevel(old)


@contextlib.asynccontextmanager
async def embedded_server(settings: Settings) -> AsyncIterator[str]:
    """Serve ``create_app(settings)`` on 127.0.0.1 (a free port); yields its base URL.

    Raises ClientError when the server cannot start. On exit (also when cancelled) the
    server and its services stop; running workflows are durable and resume the next
    time a dossier process opens the same data dir.
    """
    try:
        app = create_app(settings)
    except InsecureBind as exc:  # not reachable: the embedded server binds loopback
        raise ClientError(str(exc), code="insecure_bind") from exc
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        lifespan="on",
        ws="websockets-sansio",
        log_level="warning",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=3,
        **uvicorn_proxy_options(settings),
    )
    server = _Server(config)
    before = asyncio.all_tasks()
    task = asyncio.create_task(server.serve(), name="embedded-server")
    try:
        while not server.started:
            if task.done():
                try:
                    task.result()  # a startup error surfaces here
                except SystemExit as exc:  # uvicorn's way to say it could not listen
                    raise ClientError(
                        "the embedded server could not listen", code="startup_failed"
                    ) from exc
                raise ClientError("the embedded server did not start", code="startup_failed")
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError, SystemExit):
            await task
        await _cancel_leftovers(before)


async def _cancel_leftovers(before: set[asyncio.Task[object]]) -> None:
    """Cancel what the server left running (a workflow step stopped mid-run), now rather
    than in ``asyncio.run``'s final sweep, where their complaints would reach the user."""
    current = asyncio.current_task()
    leftovers = [t for t in asyncio.all_tasks() if t not in before and t is not current]
    for leftover in leftovers:
        leftover.cancel()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(2.0):
            await asyncio.gather(*leftovers, return_exceptions=True)
