"""Composition root: Settings -> http client -> cache -> registries -> SessionService -> app.

:func:`open_services` owns start and stop of everything, in dependency order; the web
app's lifespan and the headless worker (``dossier worker``) both use it. Nothing else in
the package builds long-lived objects; everything is passed down from here.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from importlib import resources

import httpx
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from dossier import __version__
from dossier.cache.layers import build_cache
from dossier.cache.store import ResearchCache
from dossier.collectors.base import CollectorDeps, build_registry
from dossier.collectors.http import SourceHttp, UrlGuard, build_client
from dossier.collectors.replay import ReplayTransport
from dossier.collectors.ssrf import check_url, make_guard
from dossier.core.chat import ChatService
from dossier.core.events import Event
from dossier.core.feed import FeedHub
from dossier.core.live import LiveStates
from dossier.core.ports import EventLog, WorkflowEngine
from dossier.core.retention import run_retention
from dossier.core.sessions import SessionService
from dossier.core.synthetic import SyntheticSessions
from dossier.core.tasks import cancel_all
from dossier.core.types import DataType, default_vendor
from dossier.eventlog.sqlite import SqliteEventLog
from dossier.eventlog.wal import WalKeeper
from dossier.mcp.http import McpEndpoint
from dossier.providers.base import ProviderDeps, answer_stream, load_provider
from dossier.settings import Settings
from dossier.transport import api, bench, chat_http, errors
from dossier.transport.auth import AuthMiddleware, BodyLimitMiddleware
from dossier.transport.counting import counted
from dossier.transport.deps import Services
from dossier.transport.limits import LocalRateLimiter, RateLimiter
from dossier.transport.peers import HostPolicy
from dossier.transport.sse import stream_fast_path
from dossier.transport.stream_limits import StreamLimits
from dossier.transport.vocabulary import vocabulary
from dossier.transport.ws import chat_endpoint, chat_fast_path
from dossier.workflows import engine as dbos_engine
from dossier.workflows import runtime
from dossier.workflows.outcome import DERIVED_LABEL
from dossier.workflows.steering import SteeringBoard
from dossier.workflows.takeover import Takeover

log = logging.getLogger(__name__)


class InsecureBind(RuntimeError):
    """Refusing to listen beyond loopback without an API token."""


def check_bind(settings: Settings) -> None:
    if not settings.loopback and not settings.api_tokens:
        raise InsecureBind(
            f"refusing to listen on {settings.host} without DOSSIER_API_TOKEN: anyone who can "
            "reach this port could read every dossier. Set a token, or bind 127.0.0.1."
        )


@dataclass
class Overrides:
    """Seams for tests: swap the source transport, the engine or the event log."""

    source_transport: httpx.AsyncBaseTransport | None = None
    engine: WorkflowEngine | None = None
    event_log: EventLog | None = None
    collector_table: dict[str, str] | None = None


def _event_log(settings: Settings) -> EventLog:
    if settings.database_url:
        from dossier.eventlog.postgres import PostgresEventLog

        return PostgresEventLog(settings.database_url)
    return SqliteEventLog(settings.state_db_path)


def _source_transport(settings: Settings) -> httpx.AsyncBaseTransport | None:
    if settings.sources == "replay":
        return ReplayTransport(
            latency_ms=settings.replay_latency_ms, folders=settings.replay_folders
        )
    return None


def _source_http(settings: Settings, client: httpx.AsyncClient) -> SourceHttp:
    """The one HTTP path every collector and the resolver use, as the settings say."""
    replaying = settings.sources == "replay"
    return SourceHttp(
        client,
        retries=settings.http_retries,
        max_response_bytes=settings.http_max_response_bytes,
        backoff_base_s=settings.http_backoff_s,
        attempt_timeout_s=settings.http_timeout_s * 3,
        # Pacing protects the real sources (SEC, GDELT); replay talks to none of them.
        host_intervals_s={} if replaying else None,
        guard=_url_guard(settings, replaying=replaying),
        concurrency=settings.source_concurrency,
    )


def _url_guard(settings: Settings, *, replaying: bool) -> UrlGuard:
    """The SSRF guard for user-derived and discovered URLs.

    Replaying opens no sockets, so there is no DNS answer to check: only the checks that
    need none (scheme, user info, literal and oddly spelled addresses) apply.
    """
    if not replaying:
        return make_guard(allow_private=settings.allow_private_fetch)

    async def static_guard(url: str) -> None:
        check_url(url, allow_private=settings.allow_private_fetch)

    return static_guard


@contextlib.asynccontextmanager
async def open_services(
    settings: Settings, overrides: Overrides | None = None
) -> AsyncIterator[Services]:
    """Everything a dossier process runs, started in order and stopped in reverse."""
    overrides = overrides or Overrides()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    async with contextlib.AsyncExitStack() as stack:
        event_log = overrides.event_log or _event_log(settings)
        await event_log.start()
        stack.push_async_callback(event_log.close)
        hub = FeedHub(
            event_log,
            window=settings.live_window_events,
            heartbeat_s=settings.sse_heartbeat_s,
            stall_timeout_s=settings.sse_stall_timeout_s,
        )
        bus = None
        if settings.redis_url:
            from dossier.eventlog.redis_bus import RedisBus

            bus = RedisBus(settings.redis_url, hub=hub, executor_id=settings.executor_id)
            stack.push_async_callback(bus.close)

        steering = SteeringBoard()

        def on_logged(events: list[Event]) -> None:
            hub.deliver(events)
            if bus is not None:
                bus.publish_nowait(events)

        # Steering is acknowledged on the log; every process running that session's
        # workflows hears it there (locally, or over the bus) and applies it.
        hub.observers.append(steering.observe)

        event_log.set_on_logged(on_logged)
        cache_layers = build_cache(settings.cache_dir, settings.redis_url)
        stack.push_async_callback(cache_layers.close)
        transport = overrides.source_transport or _source_transport(settings)
        client = build_client(
            user_agent=settings.user_agent, timeout_s=settings.http_timeout_s, transport=transport
        )
        stack.push_async_callback(client.aclose)
        source_http = _source_http(settings, client)
        collectors = build_registry(
            CollectorDeps(http=source_http, settings=settings), overrides.collector_table
        )
        provider = load_provider(settings.provider, ProviderDeps(settings=settings))
        runtime.bind(
            runtime.Runtime(
                settings=settings,
                log=event_log,
                cache=ResearchCache(cache_layers, mode=settings.sources),
                collectors=collectors,
                provider=provider,
                http=source_http,
                steering=steering,
            )
        )
        stack.callback(runtime.bind, None)
        engine = overrides.engine
        takeover = None
        if engine is None:
            await dbos_engine.launch(settings)
            stack.push_async_callback(_shutdown_dbos)
            if not settings.database_url:
                # DBOS's own SQLite file grows a WAL like the event log's: kept the same way.
                dbos_wal = WalKeeper([settings.dbos_db_path])
                dbos_wal.start()
                stack.callback(dbos_wal.stop)
            takeover = await _takeover(settings, event_log, stack)
            engine = dbos_engine.DbosEngine(settings, takeover)
        states = LiveStates(hub, event_log)
        stack.callback(states.close)
        sessions = SessionService(
            event_log,
            engine,
            states,
            default_vendor=default_vendor(settings),
            auth_enabled=bool(settings.api_tokens),
            steer_targets=frozenset({t.value for t in DataType} | set(collectors.names)),
            stop_grace_s=settings.stop_grace_s,
        )
        research_cache = runtime.current().cache
        chat = ChatService(
            sessions,
            event_log.append,
            lambda request: answer_stream(provider, request, settings),
            research_cache,
            provider_name=provider.name,
            deterministic=provider.deterministic,
            max_turns=settings.max_chat_turns,
        )
        stack.push_async_callback(chat.close)
        hub.observers.append(chat.observe)
        session_limiter, question_limiter = _rate_limiters(settings, stack)
        services = Services(
            settings=settings,
            hub=hub,
            sessions=sessions,
            session_limiter=session_limiter,
            question_limiter=question_limiter,
            chat=chat,
            streams=StreamLimits(
                per_principal=settings.sse_max_streams_per_principal,
                per_client=settings.sse_max_streams_per_client,
            ),
            source_labels={**collectors.labels, **DERIVED_LABEL},
            probes={"postgres" if settings.database_url else "sqlite": sessions.ping},
        )
        if bus is not None:
            services.probes["redis"] = bus.ping
        background = [asyncio.create_task(hub.run(), name="feed-hub")]
        if bus is not None:
            background.append(asyncio.create_task(bus.run(), name="redis-bus"))
        if takeover is not None:
            background.append(asyncio.create_task(takeover.run(), name="takeover"))
        if settings.retention_days is not None:
            background.append(
                asyncio.create_task(
                    run_retention(event_log, settings.retention_days, busy=lambda: set(hub.feeds)),
                    name="retention",
                )
            )
        services.ready = True
        if settings.gc_tuning:
            _tune_gc()
        log.info(
            "dossier ready (role=%s, sources=%s, provider=%s, executor=%s)",
            settings.role,
            settings.sources,
            settings.provider,
            settings.executor_id,
        )
        try:
            yield services
        finally:
            services.ready = False
            await cancel_all(background)


def _rate_limiters(
    settings: Settings, stack: contextlib.AsyncExitStack
) -> tuple[RateLimiter, RateLimiter]:
    """Session and question limits: in this process, or shared by replicas via Redis."""
    if not settings.redis_url:
        return (
            LocalRateLimiter(settings.session_rate_per_min),
            LocalRateLimiter(settings.question_rate_per_min),
        )
    from dossier.transport.redis_limits import RedisBuckets

    buckets = RedisBuckets(settings.redis_url, prefix=settings.rate_limit_prefix)
    stack.push_async_callback(buckets.close)
    return (
        buckets.limiter("session", settings.session_rate_per_min),
        buckets.limiter("question", settings.question_rate_per_min),
    )


async def _takeover(
    settings: Settings, event_log: EventLog, stack: contextlib.AsyncExitStack
) -> Takeover | None:
    """Executor liveness (scale-out only: an embedded process recovers its own work)."""
    if not settings.database_url:
        return None
    from dossier.eventlog.postgres import PostgresHeartbeats

    heartbeats = PostgresHeartbeats(settings.database_url)
    await heartbeats.start()
    stack.push_async_callback(heartbeats.close)
    takeover = Takeover(settings, heartbeats, event_log)
    stack.push_async_callback(takeover.close)
    return takeover


def _tune_gc() -> None:
    """Long-lived server objects (modules, DBOS, pools) move out of the collector's way and
    young collections run less often: each full collection walks every live object, which
    with 1,000 streams was a ~100 ms stall in delivery (bench: p99 100 ms -> 18 ms)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 50)


async def _shutdown_dbos() -> None:
    await dbos_engine.stop_running_workflows()
    await asyncio.to_thread(dbos_engine.shutdown)
    # DBOS made its own pool the loop's default executor and shut it down with itself;
    # give the loop a fresh one for whatever still runs on it.
    asyncio.get_running_loop().set_default_executor(
        concurrent.futures.ThreadPoolExecutor(thread_name_prefix="asyncio")
    )


_PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class DossierApp(FastAPI):
    """FastAPI, with the live channels (SSE streams, chat WebSocket) served from the ASGI
    entry: they check their own token and map their own errors, and skipping the
    middleware's per-message wrappers is measurable under load (``stream_fast_path``).
    The Host check comes first, so it covers the live channels too (``transport/peers.py``)."""

    host_policy: HostPolicy | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        policy = self.host_policy
        if policy is not None and scope["type"] != "lifespan" and not policy.host_allowed(scope):
            await policy.refuse(scope, receive, send)
            return
        if scope["type"] == "websocket":
            scope["app"] = self
            if await chat_fast_path(scope, receive, send):
                return
        elif scope["type"] == "http" and scope.get("method") == "GET":
            scope["app"] = self
            if await stream_fast_path(scope, receive, send):
                return
        if scope["type"] == "http":
            await counted(super().__call__, scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None, overrides: Overrides | None = None) -> FastAPI:
    settings = settings or Settings()
    check_bind(settings)

    mcp = McpEndpoint(settings)  # /mcp: the MCP server on the same services and rules

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_services(settings, overrides) as services, mcp.running(services):
            app.state.services = services
            if not settings.bench:
                yield
                return
            # bench only: synthetic sessions write the log as a workflow would
            app.state.synthetic = SyntheticSessions(services.sessions.log, services.hub)
            try:
                yield
            finally:
                await app.state.synthetic.close()

    app = DossierApp(
        title="dossier",
        version=__version__,
        summary="Live account research you can talk to while it runs.",
        lifespan=lifespan,
    )
    app.host_policy = HostPolicy.of(settings)
    errors.install(app)
    app.include_router(api.router)
    app.include_router(chat_http.router)
    app.add_api_websocket_route("/ws/sessions/{session_id}/chat", chat_endpoint)
    if settings.bench:
        app.include_router(bench.router)
    app.router.routes.extend(api.stream_routes())
    app.router.routes.extend(mcp.routes)
    web = resources.files("dossier") / "web"

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> HTMLResponse:
        # The page builds everything with textContent; the policy is a second fence should
        # source text ever reach markup: no inline script, no foreign origins, no framing.
        return HTMLResponse((web / "index.html").read_text(encoding="utf-8"), headers=_PAGE_HEADERS)

    app.add_route("/static/vocabulary.js", vocabulary, include_in_schema=False)
    app.mount("/static", StaticFiles(packages=[("dossier", "web")]), name="static")
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(AuthMiddleware, tokens=settings.api_tokens)
    return app


async def run_worker(settings: Settings) -> None:
    """A process that runs workflows (scale-out ``worker`` role) until cancelled; with a
    ``worker_port``, it answers ``/healthz``, ``/readyz`` and ``/metrics`` there."""
    if settings.worker_port:
        check_bind(settings)
    async with open_services(settings) as services:
        if not settings.worker_port:
            await asyncio.Event().wait()
            return
        import uvicorn

        from dossier.transport.ops import ops_app

        config = uvicorn.Config(
            ops_app(services),
            host=settings.host,
            port=settings.worker_port,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
        await uvicorn.Server(config).serve()
