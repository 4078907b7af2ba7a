"""``dossier`` CLI entry point."""

from __future__ import annotations

import typer

from dossier.cli.serve import serve, worker

app = typer.Typer(
    name="dossier",
    help="Live account research you can talk to while it runs.",
    no_args_is_help=True,
    add_completion=False,
)
app.command()(serve)
app.command()(worker)


@app.callback()
def _root() -> None:
    """dossier: research an account; chat with it while it runs."""


def main() -> None:
    app()
