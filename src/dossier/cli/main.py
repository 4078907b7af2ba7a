"""``dossier`` CLI entry point: one module per command group, registered here."""

from __future__ import annotations

import typer

from dossier.cli.ask import ask
from dossier.cli.export import export
from dossier.cli.mcp_server import mcp
from dossier.cli.research import research
from dossier.cli.serve import serve, worker
from dossier.cli.usage import command_settings

app = typer.Typer(
    name="dossier",
    help="Live account research you can talk to while it runs.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=(
        "\b\nExamples:\n"
        "  dossier research Stripe                      research, live, chat while it runs\n"
        "  dossier research Stripe --json > stripe.json the final snapshot only\n"
        "  dossier serve                                the server and web page, :8000\n"
        '  dossier ask s_… "Who should I talk to?"      one answer, from a server\n'
        "  dossier export s_… --format md -o stripe.md  the dossier as Markdown\n"
        "  dossier mcp                                  serve MCP on stdio (assistants)\n"
        "\b\nDemo data without network: DOSSIER_SOURCES=replay (try Stripe)."
    ),
)
app.command(rich_help_panel="Research", **command_settings())(research)
app.command(rich_help_panel="Research", **command_settings())(ask)
app.command(rich_help_panel="Research", **command_settings())(export)
app.command(rich_help_panel="Server", **command_settings())(serve)
app.command(rich_help_panel="Server", **command_settings())(worker)
app.command(rich_help_panel="Server", **command_settings())(mcp)


@app.callback()
def _root() -> None:
    """dossier: research an account; chat with it while it runs.

    Try: dossier research Stripe (with DOSSIER_SOURCES=replay for the recorded demo data).
    """


def main() -> None:
    app()
