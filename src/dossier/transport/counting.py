"""Count finished HTTP requests by route template and status (``dossier_http_requests_total``).

A plain ASGI wrapper rather than Starlette middleware: it only peeks at the response start
and adds nothing per body chunk. Routes are labelled by template (``/api/sessions/{id}``),
never by raw path, so the metric's cardinality stays bounded whatever clients send.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dossier.metrics import HTTP_REQUESTS


async def counted(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    status = 500

    async def watch(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
        await send(message)

    try:
        await app(scope, receive, watch)
    finally:
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        HTTP_REQUESTS.inc(route=template, method=str(scope.get("method", "")), status=str(status))
