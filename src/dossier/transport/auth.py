"""Bearer-token access and body size limits (pure ASGI middleware + helpers).

Per-client rate limits live in ``limits.py``.

With no token configured (loopback only) every caller is the ``local`` principal. With
tokens, every ``/api``, ``/ws`` and ``/mcp`` call and ``/metrics`` needs one: ``Authorization:
Bearer …``, or ``?access_token=`` for clients that cannot set headers (browser
EventSource, WebSocket). A WebSocket may instead send it in its first frame, so the chat
route checks for itself. The principal (a hash of the token) lands in ``scope["state"]``.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from urllib.parse import parse_qs

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dossier.core.sessions import LOCAL_PRINCIPAL, principal_of
from dossier.errors import PayloadTooLarge, Unauthorized
from dossier.transport.errors import error_response

_PROTECTED = ("/api/", "/ws/", "/metrics", "/mcp")


def token_from_scope(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = bytes(value).decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return str(token.strip())
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    values = query.get("access_token")
    return values[0] if values else None


def check_token(token: str | None, tokens: Iterable[str]) -> str:
    """The principal of a valid token; Unauthorized otherwise (constant-time compare)."""
    valid = list(tokens)
    if not valid:
        return LOCAL_PRINCIPAL
    if token:
        for candidate in valid:
            if hmac.compare_digest(token.encode(), candidate.encode()):
                return principal_of(token)
    raise Unauthorized("missing or invalid bearer token")


class AuthMiddleware:
    def __init__(self, app: ASGIApp, tokens: tuple[str, ...]) -> None:
        self.app = app
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        path: str = scope.get("path", "")
        if not self.tokens:
            state["principal"] = LOCAL_PRINCIPAL
        elif scope["type"] == "websocket":
            # The chat accepts a token in the first frame too: it checks for itself.
            state["token"] = token_from_scope(scope)
        elif path.startswith(_PROTECTED):
            try:
                state["principal"] = check_token(token_from_scope(scope), self.tokens)
            except Unauthorized as exc:
                await error_response(exc)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class BodyLimitMiddleware:
    """413 for request bodies over the limit (declared or streamed)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                exc = PayloadTooLarge(f"request body over {self.max_bytes} bytes")
                await error_response(exc)(scope, receive, send)
                return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # Raised inside FastAPI's body parsing, which lets only HTTPException
                    # through unchanged (anything else would become a generic 400).
                    raise HTTPException(413, f"request body over {self.max_bytes} bytes")
            return message

        await self.app(scope, limited, send)
