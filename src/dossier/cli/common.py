"""What every client command shares: the --server/--token options, their defaults from
the settings, and the one place that turns errors into a line and an exit code.

Exit codes (PRODUCT.md): 0 ok / research completed, 3 research partial, 1 research
failed or cancelled (or a server error), 2 bad usage (the server refused the input as
invalid, or the settings are invalid), 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Coroutine
from typing import Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from dossier.client import APIError, ClientError
from dossier.settings import Settings

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_PARTIAL = 3
EXIT_INTERRUPTED = 130
# A finished research's status -> the command's exit code.
EXIT_OF_STATUS = {"completed": EXIT_OK, "partial": EXIT_PARTIAL, "failed": EXIT_ERROR}
_USAGE_STATUSES = frozenset({400, 413, 422})

SERVER_HELP = "Server URL [default: http://DOSSIER_HOST:DOSSIER_PORT, i.e. http://127.0.0.1:8000]."
TOKEN_HELP = "API token, when the server requires one [default: DOSSIER_API_TOKEN]."

ServerOption = typer.Option(None, "--server", metavar="URL", help=SERVER_HELP)
TokenOption = typer.Option(None, "--token", metavar="TOKEN", help=TOKEN_HELP)


class OutputClosed(Exception):
    """Whoever read our output went away (``dossier … | head``): stop, quietly."""


def _silence_stdout() -> None:
    # Python would complain again when it flushes stdout at exit: point it at /dev/null.
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


class _Console(Console):
    def on_broken_pipe(self) -> None:
        # Rich raises SystemExit here, which would tear through the event loop (and the
        # embedded server in it); ours unwinds like any error.
        self.quiet = True
        _silence_stdout()
        raise OutputClosed


def stdout_console() -> Console:
    """The console for results; when piped, one line per line (URLs unbroken)."""
    console = _Console(highlight=False)
    if not console.is_terminal:
        console.soft_wrap = True
    return console


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False)


def exit_of(status: object) -> int:
    """The exit code of a finished research (cancelled and anything unknown: an error)."""
    return EXIT_OF_STATUS.get(str(status), EXIT_ERROR)


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    """Print ``error: message`` (one line, on stderr) and exit with ``code``."""
    stderr_console().print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code)


def load_settings(**overrides: Any) -> Settings:
    """The settings from the environment (and ``.env``); invalid ones are a usage error."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        fail(f"invalid settings ({where}): {first.get('msg', 'invalid')}", EXIT_USAGE)


def server_url(server: str | None) -> str:
    """``--server`` or where ``dossier serve`` listens by default (DOSSIER_HOST/PORT)."""
    if server:
        if not server.startswith(("http://", "https://")):
            fail(f"--server must be an http(s):// URL, not {server!r}", EXIT_USAGE)
        return server.rstrip("/")
    settings = load_settings()
    host = settings.host
    if host in ("0.0.0.0", "::", ""):  # listening everywhere: this machine reaches it here
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


def api_token(token: str | None, settings: Settings | None = None) -> str | None:
    """``--token``, or the first of DOSSIER_API_TOKEN's tokens."""
    if token:
        return token
    tokens = (settings or load_settings()).api_tokens
    return tokens[0] if tokens else None


def exit_code_of(exc: ClientError) -> int:
    if isinstance(exc, APIError) and exc.status in _USAGE_STATUSES:
        return EXIT_USAGE
    return EXIT_ERROR


def run(coro: Coroutine[Any, Any, int]) -> None:
    """Run a command's coroutine; exit with its code, or one error line and 1/2/130."""
    try:
        code = asyncio.run(coro)
    except ClientError as exc:
        fail(_describe(exc), exit_code_of(exc))
    except KeyboardInterrupt:
        stderr_console().print("[yellow]interrupted[/]")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except (OutputClosed, BrokenPipeError):
        _silence_stdout()
        raise typer.Exit(EXIT_ERROR) from None
    raise typer.Exit(code)


def _describe(exc: ClientError) -> str:
    if isinstance(exc, APIError) and exc.status is not None:
        return f"{exc.message} ({exc.status} {exc.code})"
    return exc.message
