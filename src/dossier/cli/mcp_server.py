"""``dossier mcp``: dossier as an MCP server on stdin/stdout, for assistants (desktop chat
apps, IDE agents) to start research and ask while it runs.

Without ``--server`` it runs the research in this process (like ``dossier research``,
on DOSSIER_DATA_DIR); with it, every call goes to that server's HTTP API with the token.
Stdout carries the protocol only: logs go to stderr (the SDK also points fd 1 at stderr
while it serves, so a stray print cannot corrupt the stream).
"""

from __future__ import annotations

import typer

from dossier.cli.common import TokenOption, api_token, load_settings, run, server_url

SERVER_HELP = (
    "Use this running dossier server (its HTTP API) instead of researching in this process."
)


def mcp(
    server: str | None = typer.Option(None, "--server", metavar="URL", help=SERVER_HELP),
    token: str | None = TokenOption,
) -> None:
    """Serve dossier to an MCP host over stdio (tools: research_start, research_status,
    ask, steer, cancel, export, list_sessions).

    Host config: {"command": "dossier", "args": ["mcp"]}.
    """
    from dossier.logs import configure_logging
    from dossier.mcp.server import serve_stdio

    settings = load_settings()
    configure_logging("WARNING", settings.log_format)
    url = server_url(server) if server else None
    bearer = api_token(token, settings) if server else None

    async def main() -> int:
        await serve_stdio(settings, url, bearer)
        return 0

    run(main())
