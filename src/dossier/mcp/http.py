"""``/mcp`` on ``dossier serve``: the MCP server over streamable HTTP, on the services of
the app, under the API's own rules.

The route sits behind the app's middleware like every ``/api`` route: ``AuthMiddleware``
checks the bearer token (``/mcp`` is one of its protected prefixes) and leaves the caller's
principal in the request scope, where each tool call finds it; the body limit applies too.
Stateless HTTP (no MCP session kept between requests): dossier's sessions are the durable
state, so any replica can answer any call. On loopback the SDK's Host/Origin check is on
(the host names a DNS-rebinding page would not send).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from mcp.server.subscriptions import InMemorySubscriptionBus
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from dossier.errors import Unauthorized, Unavailable
from dossier.mcp.backend import Backend
from dossier.mcp.embedded import ServicesBackend, SessionChanges
from dossier.mcp.resources import updates
from dossier.mcp.server import build_server
from dossier.mcp.tools import Ctx
from dossier.settings import Settings
from dossier.transport.deps import Services, client_key, principal_of_conn
from dossier.transport.peers import host_policy

PATH = "/mcp"


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """The SDK's own Host/Origin check, on the same names as the app's allow-list
    (``transport/peers.py``: loopback names, ``DOSSIER_HOST``, ``DOSSIER_ALLOWED_HOSTS``)."""
    if not settings.loopback:  # reachable by name: the bearer token is the guard
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    names = sorted(f"[{n}]" if ":" in n else n for n in host_policy(settings).names)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[h for n in names for h in (n, f"{n}:*")],
        allowed_origins=[
            *(f"{scheme}://{n}:*" for n in names for scheme in ("http", "https")),
            *settings.allowed_origins,
        ],
    )


class _Labelled:
    """The SDK's ``/mcp`` app, labelled ``/mcp`` in ``dossier_http_requests_total`` (a bare
    ASGI route leaves no ``route`` in the scope for ``transport/counting.py``: it would be
    counted as ``unmatched``). A class, not a function: Starlette serves an object as ASGI."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.route: BaseRoute | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = self.route
        await self.app(scope, receive, send)


def _counted_as_mcp(route: BaseRoute) -> BaseRoute:
    if not isinstance(route, Route) or route.path != PATH:
        return route
    labelled = _Labelled(route.app)
    labelled.route = Route(PATH, endpoint=labelled)
    return labelled.route


class McpEndpoint:
    def __init__(self, settings: Settings) -> None:
        self._services: Services | None = None
        self._changes = SessionChanges()
        self._bus = InMemorySubscriptionBus()
        self.server = build_server(self._backend_of, self._bus)
        app = self.server.streamable_http_app(
            streamable_http_path=PATH,
            stateless_http=True,
            transport_security=transport_security(settings),
            max_request_body_size=settings.max_body_bytes,
        )
        self.routes: list[BaseRoute] = [_counted_as_mcp(route) for route in app.routes]

    def _backend_of(self, ctx: Ctx) -> Backend:
        if self._services is None:
            raise Unavailable("starting up")
        request = ctx.request_context.request
        if not isinstance(request, Request):  # never on this route; refuse rather than guess
            raise Unauthorized("no HTTP request behind this call")
        return ServicesBackend(
            self._services, self._changes, principal_of_conn(request), client_key(request)
        )

    @contextlib.asynccontextmanager
    async def running(self, services: Services) -> AsyncIterator[None]:
        """For the app's lifespan, inside ``open_services``."""
        self._services = services
        services.hub.observers.append(self._changes.observe)
        try:
            async with updates(self._bus) as publisher, self._session_manager():
                self._changes.listeners.append(publisher.on_events)
                yield
        finally:
            self._changes.listeners.clear()
            services.hub.observers.remove(self._changes.observe)
            self._services = None

    @contextlib.asynccontextmanager
    async def _session_manager(self) -> AsyncIterator[None]:
        """The SDK's session manager, run in a task of its own: its task group must be
        left in the task that entered it, and a lifespan may end in another task than it
        began (test fixtures, embedding hosts)."""
        started, stop = asyncio.Event(), asyncio.Event()

        async def run() -> None:
            async with self.server.session_manager.run():
                started.set()
                await stop.wait()

        task = asyncio.create_task(run(), name="mcp-session-manager")
        starting = asyncio.create_task(started.wait())
        await asyncio.wait({task, starting}, return_when=asyncio.FIRST_COMPLETED)
        starting.cancel()
        if task.done():
            task.result()  # it failed to start: say why
        try:
            yield
        finally:
            stop.set()
            await task
