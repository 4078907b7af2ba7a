"""Helpers shared by the browser tests: drive the company box, wait, snapshot, screenshot."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from playwright.async_api import Page, ViewportSize, expect

LAPTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 375, "height": 812}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
# The page marks the session's status on #session; anything but "running" is an end.
DONE_SELECTOR = "#session:not([data-status='running'])[data-status]"
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


@dataclass
class PageWatch:
    """What the pages of a context did that a test must never see."""

    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)  # console errors a test expects

    def attach(self, page: Page) -> None:
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("console", self._console)
        page.on("request", self._request)
        page.on("dialog", self._dialog)

    def _console(self, message: Any) -> None:
        if message.type == "error" and not any(a in message.text for a in self.allowed):
            self.errors.append(f"console: {message.text}")

    def _request(self, request: Any) -> None:
        url = str(request.url)
        self.requests.append(url)
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in _LOOPBACK_HOSTS:
            self.foreign_requests.append(url)

    async def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(str(dialog.message))
        await dialog.dismiss()  # or the page would wait for a click forever


async def research(page: Page, name: str = "Stripe") -> str:
    """Open the page, research ``name`` through the company box; returns the session id."""
    if not page.url.startswith("http"):
        await page.goto("/")
    await page.fill("#company", name)
    async with page.expect_response(
        lambda r: r.url.endswith("/api/sessions") and r.request.method == "POST"
    ) as opened:
        await page.press("#company", "Enter")
    session_id = str((await (await opened.value).json())["session_id"])
    await page.wait_for_url(re.compile(rf"[?&]session={session_id}"))
    await expect(page.locator("#session")).to_have_attribute("data-state", "ready")
    return session_id


def session_of(page: Page) -> str:
    match = re.search(r"[?&]session=(s_[0-9a-f]+)", page.url)
    assert match, f"the URL holds no session id: {page.url}"
    return match.group(1)


async def wait_finished(page: Page) -> str:
    """Wait for the session to end on the page; returns its status."""
    await page.wait_for_selector(DONE_SELECTOR, timeout=30_000)
    status = await page.get_attribute("#session", "data-status")
    assert status is not None
    return status


async def snapshot(api: httpx.AsyncClient, session_id: str) -> dict[str, Any]:
    response = await api.get(f"/api/sessions/{session_id}")
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


_SCROLL_SETTLED = """() => new Promise(resolve => {
  let last = -1, still = 0;
  const tick = () => {
    still = window.scrollY === last ? still + 1 : 0;
    last = window.scrollY;
    if (still >= 3) resolve(last); else requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})"""


async def scroll_settled(page: Page) -> None:
    """Wait until a smooth scroll (e.g. to a cited finding) has come to rest."""
    await page.evaluate(_SCROLL_SETTLED)


async def shoot(page: Page, name: str, *, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=full_page)
    return path
