"""Who is on the other end: the Host allow-list, the WebSocket Origin check, proxy trust.

Without a token the server listens on loopback only, but a browser is on loopback too: a
page on any site can point its own name at 127.0.0.1 (DNS rebinding) and then talk to us
as "same origin", sending its own name as ``Host`` and ``Origin``. So, without a token,
only requests naming us by an allowed name are served (the loopback names, the configured
``host`` and ``DOSSIER_ALLOWED_HOSTS``, any port), and a browser's chat socket must come
from a page on such a name, at the port the request came to. With tokens the token is the
fence (a rebinding page does not have it): any Host is served, and a page's Origin may be
the server's own (as its Host says) or an allowed one.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from dossier.errors import InvalidInput
from dossier.settings import Settings
from dossier.transport.errors import error_response

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
_DEFAULT_PORT = {"http": 80, "ws": 80, "https": 443, "wss": 443}
_CLOSE_POLICY = 1008


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def split_host(value: str) -> tuple[str, int | None] | None:
    """``"[::1]:8000"`` -> ``("::1", 8000)``, ``"LocalHost."`` -> ``("localhost", None)``;
    None when it is no host name at all (``"a:b:c"`` with brackets missing is IPv6)."""
    value = value.strip().lower()
    port_text = ""
    if value.startswith("["):
        name, bracket, rest = value[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return None
        port_text = rest[1:]
    elif value.count(":") == 1:
        name, _, port_text = value.partition(":")
    else:
        name = value  # a bare name, or an unbracketed IPv6 address
    if port_text and not (port_text.isdigit() and len(port_text) <= 5):
        return None
    name = name.removesuffix(".")
    if not name:
        return None
    return name, int(port_text) if port_text else None


@dataclass(frozen=True)
class HostPolicy:
    names: frozenset[str]  # Host names served (and Origin names allowed)
    enforce: bool  # no token: refuse other Hosts
    origins: frozenset[str]  # extra Origins, exactly as configured

    @classmethod
    def of(cls, settings: Settings) -> HostPolicy:
        own = split_host(settings.host)
        names = set(LOOPBACK_NAMES) | set(settings.allowed_hosts)
        if own is not None:
            names.add(own[0])
        return cls(
            names=frozenset(names),
            enforce=not settings.api_tokens,
            origins=frozenset(o.lower() for o in settings.allowed_origins),
        )

    def host_allowed(self, scope: Scope) -> bool:
        if not self.enforce:
            return True
        host = _header(scope, b"host")
        if host is None:
            # No browser leaves Host out (HTTP/1.1 requires it), and rebinding needs a
            # browser: a local program could reach us on 127.0.0.1 anyway.
            return True
        parsed = split_host(host)
        return parsed is not None and parsed[0] in self.names

    def origin_allowed(self, scope: Scope) -> bool:
        """No Origin (not a browser), an allowed Origin, or a page on a name we serve at
        the port this request came to (with tokens: also the server's own, per Host)."""
        origin = _header(scope, b"origin")
        if not origin:
            return True
        origin = origin.strip().rstrip("/").lower()
        if origin in self.origins:
            return True
        page = _origin_host(origin)
        host = split_host(_header(scope, b"host") or "")
        if page is None or host is None:
            return False
        request_port = host[1] or _DEFAULT_PORT.get(scope.get("scheme", "http"), 80)
        if page[1] != request_port:
            return False
        if page[0] in self.names:
            return True
        # With tokens any Host is served, so a page on the name this request used is ours.
        return not self.enforce and page[0] == host[0]

    async def refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        """400 for HTTP; the WebSocket handshake is refused (403)."""
        message = "this server does not answer to that Host name (see DOSSIER_ALLOWED_HOSTS)"
        if scope["type"] == "websocket":
            await WebSocket(scope, receive, send).close(_CLOSE_POLICY, reason=message)
            return
        await error_response(InvalidInput(message, code="invalid_host"))(scope, receive, send)


@functools.lru_cache(maxsize=8)
def host_policy(settings: Settings) -> HostPolicy:
    """The policy of these (frozen) settings, built once."""
    return HostPolicy.of(settings)


def _origin_host(origin: str) -> tuple[str, int] | None:
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.hostname.removesuffix("."), port or _DEFAULT_PORT[parts.scheme]


def uvicorn_proxy_options(settings: Settings) -> dict[str, Any]:
    """What uvicorn is told about proxies: believe ``X-Forwarded-*`` only from
    ``DOSSIER_TRUSTED_PROXIES`` (uvicorn's own default trusts 127.0.0.1, so anything on
    this machine could pose as any client and rotate past per-client rate limits)."""
    if not settings.trusted_proxies:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": list(settings.trusted_proxies)}
