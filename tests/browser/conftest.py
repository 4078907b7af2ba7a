"""Browser tests: the real app on a loopback uvicorn, driven by Debian's chromium.

Everything runs in the test's event loop: the server (``tests/sse.running_server``), the
Playwright driver, and direct access to the app's services (to inject events). Chromium is
told to resolve no host but 127.0.0.1, and every request the page makes is checked to be
loopback, so no test can reach the network.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    Page,
    ViewportSize,
    async_playwright,
    expect,
)
from starlette.types import ASGIApp

from dossier.app import create_app
from dossier.settings import Settings
from tests.browser.helpers import LAPTOP, PageWatch
from tests.sse import running_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    # Belt and braces: no name but loopback resolves, whatever a page links to.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]

expect.set_options(timeout=20_000)

if not Path(CHROMIUM).exists():  # pragma: no cover - depends on the machine
    pytest.skip("Debian chromium is not installed", allow_module_level=True)


@pytest.fixture
def latency_ms() -> int:
    """Simulated latency per replayed source request (parametrize to change)."""
    return 600


@pytest.fixture
def stream_delay_ms() -> float:
    """Pause between the builtin analyst's tokens, so streaming is visible."""
    return 4.0


@pytest.fixture
def app_settings(settings: Settings, latency_ms: int, stream_delay_ms: float) -> Settings:
    return settings.model_copy(
        update={"replay_latency_ms": latency_ms, "stream_delay_ms": stream_delay_ms}
    )


@pytest.fixture
async def app(app_settings: Settings) -> ASGIApp:
    return create_app(app_settings)


@pytest.fixture
async def server(app: ASGIApp) -> AsyncIterator[str]:
    async with running_server(app) as base_url:
        yield base_url


@pytest.fixture
async def api(server: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        yield client


@pytest.fixture
async def browser(server: str) -> AsyncIterator[Browser]:
    # Depends on the server so it closes first: an open event stream (follow=true) would
    # otherwise keep uvicorn's graceful shutdown waiting.
    del server
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
def watch() -> Iterator[PageWatch]:
    seen = PageWatch()
    yield seen
    assert not seen.foreign_requests, f"the page reached beyond loopback: {seen.foreign_requests}"
    assert not seen.dialogs, f"the page opened dialogs: {seen.dialogs}"
    assert not seen.errors, f"the page logged errors: {seen.errors}"


@pytest.fixture
def new_page(browser: Browser, server: str, watch: PageWatch) -> Iterator[Callable[..., Any]]:
    """``await new_page(viewport=…)``: a page in a fresh context (or ``context=`` to share)."""

    async def make(
        viewport: ViewportSize | None = None, context: BrowserContext | None = None
    ) -> Page:
        if context is None:
            context = await browser.new_context(viewport=viewport or LAPTOP, base_url=server)
        page = await context.new_page()
        watch.attach(page)
        return page

    yield make


@pytest.fixture
async def page(new_page: Callable[..., Any]) -> Page:
    made: Page = await new_page()
    return made
