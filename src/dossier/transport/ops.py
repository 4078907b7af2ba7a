"""A worker's own small HTTP face: ``/healthz``, ``/readyz`` and ``/metrics`` (``dossier
worker --port``), so an orchestrator can probe it and Prometheus scrape it like a replica.

The same routes and rules as the API replica's: ``/metrics`` needs the token when tokens
are configured, and a worker refuses to listen beyond loopback without one.
"""

from __future__ import annotations

from fastapi import FastAPI

from dossier.transport import api, errors
from dossier.transport.auth import AuthMiddleware
from dossier.transport.deps import Services


def ops_app(services: Services) -> FastAPI:
    app = FastAPI(title="dossier worker", openapi_url=None, docs_url=None, redoc_url=None)
    app.state.services = services
    errors.install(app)
    app.add_api_route("/healthz", api.healthz, methods=["GET"], tags=["ops"])
    app.add_api_route("/readyz", api.readyz, methods=["GET"], tags=["ops"])
    app.add_api_route("/metrics", api.prometheus, methods=["GET"], tags=["ops"])
    app.add_middleware(AuthMiddleware, tokens=services.settings.api_tokens)
    return app
