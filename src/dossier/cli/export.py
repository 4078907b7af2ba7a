"""``dossier export SESSION``: the dossier as Markdown or JSON, to stdout or a file."""

from __future__ import annotations

import asyncio
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from dossier.cli.common import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_USAGE,
    ServerOption,
    TokenOption,
    api_token,
    fail,
    run,
    server_url,
    stderr_console,
)
from dossier.client import Client


class Format(StrEnum):
    md = "md"
    json = "json"


def export(
    session_id: str = typer.Argument(..., metavar="SESSION", help="The session id (s_…)."),
    format: Annotated[
        Format, typer.Option("--format", "-f", help="Markdown document or JSON snapshot.")
    ] = Format.md,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write to FILE instead of stdout."),
    ] = None,
    server: str | None = ServerOption,
    token: str | None = TokenOption,
) -> None:
    """Export a session as a Markdown dossier or a JSON snapshot.

    The JSON is the session's snapshot: findings, workflows, analysis, chat, coverage.
    """
    if output is not None and output.is_dir():
        fail(f"--output {output} is a directory", EXIT_USAGE)
    run(_export(server_url(server), api_token(token), session_id, format, output))


async def _export(
    url: str, token: str | None, session_id: str, format: Format, output: Path | None
) -> int:
    async with Client(url, token=token) as client:
        document = await client.export(session_id, format.value)
    if output is None:
        typer.echo(document, nl=not document.endswith("\n"))
        return EXIT_OK
    try:
        await asyncio.to_thread(output.write_text, document, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}", EXIT_ERROR)
    stderr_console().print(f"wrote {output} ({len(document.encode())} bytes)")
    return EXIT_OK
