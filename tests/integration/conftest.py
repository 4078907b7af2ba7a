from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from dossier.app import Overrides, create_app
from dossier.settings import Settings
from tests.sse import running_server


@pytest.fixture
def overrides() -> Overrides:
    return Overrides()


@pytest.fixture
async def app(settings: Settings, overrides: Overrides) -> AsyncIterator[FastAPI]:
    application = create_app(settings, overrides)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
        yield http


@pytest.fixture
async def server(settings: Settings, overrides: Overrides) -> AsyncIterator[str]:
    """A real uvicorn server in this loop (for live streams)."""
    async with running_server(create_app(settings, overrides), settings) as base_url:
        yield base_url


@pytest.fixture
async def live(server: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server, timeout=30) as http:
        yield http
