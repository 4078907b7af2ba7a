"""What the transports get from the composition root (``app.state.services``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from starlette.requests import HTTPConnection

from dossier.core.chat import ChatService
from dossier.core.feed import FeedHub
from dossier.core.sessions import LOCAL_PRINCIPAL, SessionService
from dossier.settings import Settings
from dossier.transport.limits import RateLimiter
from dossier.transport.stream_limits import StreamLimits
from dossier.transport.trim import MemoryTrim


@dataclass
class Services:
    settings: Settings
    hub: FeedHub
    sessions: SessionService
    session_limiter: RateLimiter
    question_limiter: RateLimiter
    chat: ChatService
    streams: StreamLimits
    memory: MemoryTrim = field(default_factory=MemoryTrim)
    # source name -> the name people know it by (the page's words for sources)
    source_labels: dict[str, str] = field(default_factory=dict)
    ready: bool = False
    # Readiness, dependency by dependency ("postgres" or "sqlite", "redis"): each raises
    # when its dependency cannot be reached. The first is the event log.
    probes: dict[str, Callable[[], Awaitable[None]]] = field(default_factory=dict)


def services_of(conn: HTTPConnection) -> Services:
    services: Services = conn.app.state.services
    return services


def principal_of_conn(conn: HTTPConnection) -> str:
    state = conn.scope.get("state") or {}
    principal = state.get("principal")
    return str(principal) if principal else LOCAL_PRINCIPAL


def client_key(conn: HTTPConnection) -> str:
    principal = principal_of_conn(conn)
    if principal != LOCAL_PRINCIPAL:
        return principal
    return conn.client.host if conn.client else "unknown"
