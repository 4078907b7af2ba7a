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
from dossier.settings import Settings

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

    settings = load_settings()
    configure_logging("WARNING", settings.log_format)
    url = server_url(server) if server else None
    bearer = api_token(token, settings) if server else None

    async def main() -> int:
        await serve_stdio(settings, url, bearer)
        return 0

    run(main())


async def serve_stdio(settings: Settings, server: str | None, token: str | None) -> None:
    """Serve MCP on stdin/stdout until the host closes stdin."""
    from mcp.server.subscriptions import InMemorySubscriptionBus

    from dossier.mcp.resources import updates
    from dossier.mcp.server import build_server

    bus = InMemorySubscriptionBus()
    if server is not None:
        from dossier.client import Client
        from dossier.mcp.remote import RemoteBackend

        async with Client(server, token) as client, updates(bus) as publisher:
            remote = RemoteBackend(client)
            await build_server(lambda _: remote, bus, publisher.follow).run_stdio_async()
        return
    from dossier.app import open_services
    from dossier.core.sessions import LOCAL_PRINCIPAL
    from dossier.mcp.embedded import ServicesBackend, SessionChanges

    async with open_services(settings) as services, updates(bus) as publisher:
        changes = SessionChanges()
        services.hub.observers.append(changes.observe)
        changes.listeners.append(publisher.on_events)
        # one local user, as on a loopback server without a token
        embedded = ServicesBackend(services, changes, LOCAL_PRINCIPAL, "mcp-stdio")
        await build_server(lambda _: embedded, bus).run_stdio_async()
