"""Replay mode: an httpx transport that answers from packaged recordings.

Every collector's request goes through the same :class:`~dossier.collectors.http.SourceHttp`
code as live; only the transport differs. Routes come from ``routes.json`` files under
the packaged ``fixtures/`` folder (one per source directory). A route is an exact
``url`` (query order does not matter) that was recorded; there are no catch-alls, so a
request nobody recorded is a clear error (:class:`~dossier.errors.ReplayMiss`: the
coverage says "not in this demo's recordings"), never another company's answer. A route
marked ``"sample": true`` serves a *constructed* recording; its answers carry
:data:`~dossier.collectors.http.SAMPLE_HEADER`, so the findings built from them say so.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx

from dossier.collectors.http import SAMPLE_HEADER, TRIMMED_HEADER
from dossier.errors import ReplayMiss
from dossier.settings import Settings

FIXTURES_PACKAGE = "dossier.fixtures"


@dataclass(frozen=True)
class Route:
    file: Traversable
    status: int
    headers: dict[str, str]
    url: str | None = None
    pattern: re.Pattern[str] | None = None
    method: str = "GET"
    sample: bool = False


def route_key(url: str) -> str:
    """Scheme/host lower-cased, query parameters sorted: the exact-route key (nothing is
    dropped, unlike ``normalize.url_key``: a replayed request matches its recording exactly)."""
    parts = urlsplit(url)
    query = "&".join(f"{k}={v}" for k, v in sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, query, ""))


def _sidecar_headers(folder: Traversable, name: str) -> dict[str, str]:
    sidecar = folder.joinpath(name + ".headers.json")
    if not sidecar.is_file():
        return {}
    recorded = json.loads(sidecar.read_text(encoding="utf-8"))
    headers: dict[str, str] = {}
    for name, values in (recorded.get("headers") or {}).items():
        if name.lower() in ("content-length", "content-encoding", "transfer-encoding"):
            continue  # we serve the body as stored, not as it was on the wire
        headers[name.lower()] = values[0] if isinstance(values, list) else str(values)
    return headers


def load_routes(
    root: Traversable | Path | None = None,
) -> tuple[dict[tuple[str, str], Route], list[Route]]:
    """Read every ``<source>/routes.json`` under the fixtures root."""
    base = root if root is not None else resources.files(FIXTURES_PACKAGE)
    exact: dict[tuple[str, str], Route] = {}
    patterns: list[Route] = []
    for folder in sorted(base.iterdir(), key=lambda t: t.name):
        spec = folder.joinpath("routes.json")
        if not folder.is_dir() or not spec.is_file():
            continue
        for entry in json.loads(spec.read_text(encoding="utf-8")):
            file = folder.joinpath(entry["file"])
            if not file.is_file():
                raise FileNotFoundError(
                    f"replay route points at missing {folder.name}/{entry['file']}"
                )
            headers = _sidecar_headers(folder, entry["file"])
            if "content_type" in entry:
                headers["content-type"] = entry["content_type"]
            headers.update({k.lower(): v for k, v in entry.get("headers", {}).items()})
            method = entry.get("method", "GET").upper()
            status = int(entry.get("status", 200))
            sample = bool(entry.get("sample"))
            if sample:
                headers[SAMPLE_HEADER] = "constructed"
            if entry.get("trimmed"):
                headers[TRIMMED_HEADER] = "trimmed"
            if "url" in entry:
                route = Route(file, status, headers, url=entry["url"], method=method, sample=sample)
                exact[(method, route_key(entry["url"]))] = route
            else:
                route = Route(
                    file,
                    status,
                    headers,
                    pattern=re.compile(entry["pattern"]),
                    method=method,
                    sample=sample,
                )
                patterns.append(route)
    return exact, patterns


@dataclass(frozen=True)
class DemoInfo:
    """What the packaged recordings cover: shown as the demo banner and in hints."""

    accounts: tuple[str, ...]
    recorded_from: str | None
    recorded_to: str | None


def demo_info(root: Traversable | None = None) -> DemoInfo:
    base = root if root is not None else resources.files(FIXTURES_PACKAGE)
    manifest = base.joinpath("accounts.json")
    if not manifest.is_file():
        return DemoInfo((), None, None)
    data = json.loads(manifest.read_text(encoding="utf-8"))
    recorded = data.get("recorded") or {}
    return DemoInfo(
        tuple(str(a) for a in data.get("accounts") or []),
        recorded.get("from"),
        recorded.get("to"),
    )


def demo_accounts(settings: Settings) -> list[str]:
    """Accounts the demo has recordings for (none when sources are live)."""
    return list(demo_info().accounts) if settings.sources == "replay" else []


class ReplayTransport(httpx.AsyncBaseTransport):
    """Serves recorded responses; ``latency_ms`` simulates a slow source."""

    def __init__(
        self,
        *,
        latency_ms: float = 0.0,
        root: Traversable | None = None,
        extra: dict[str, tuple[int, dict[str, str], bytes]] | None = None,
        folders: Sequence[Path] = (),
    ) -> None:
        self._exact, self._patterns = load_routes(root)
        # DOSSIER_REPLAY_DIR: the user's own recordings (same layout), read before ours
        for folder in reversed(folders):
            exact, patterns = load_routes(folder)
            self._exact.update(exact)
            self._patterns = [*patterns, *self._patterns]
        self._latency_s = latency_ms / 1000.0
        self._extra = {route_key(u): v for u, v in (extra or {}).items()}
        self.requests: list[str] = []

    def match(self, method: str, url: str) -> Route | None:
        route = self._exact.get((method, route_key(url)))
        if route is not None:
            return route
        for candidate in self._patterns:
            if candidate.method == method and candidate.pattern and candidate.pattern.search(url):
                return candidate
        return None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        self.requests.append(url)
        if self._latency_s:
            await asyncio.sleep(self._latency_s)
        extra = self._extra.get(route_key(url))
        if extra is not None:
            status, headers, body = extra
            return httpx.Response(status, headers=headers, content=body, request=request)
        route = self.match(request.method, url)
        if route is None:
            raise ReplayMiss(f"replay has no recording for {request.method} {url}")
        return httpx.Response(
            route.status,
            headers=route.headers,
            content=route.file.read_bytes(),
            request=request,
        )
