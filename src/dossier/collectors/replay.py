"""Replay mode: an httpx transport that answers from packaged recordings.

Every collector's request goes through the same :class:`~dossier.collectors.http.SourceHttp`
code as live; only the transport differs. Routes come from ``routes.json`` files under
the packaged ``fixtures/`` folder (one per source directory). A route is either an exact
``url`` (query order does not matter) or a ``pattern`` (regular expression on the full
URL), tried in file order after all exact routes. A request no route matches is a clear
error (:class:`~dossier.errors.ReplayMiss`), never a silent empty answer.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx

from dossier.errors import ReplayMiss

FIXTURES_PACKAGE = "dossier.fixtures"


@dataclass(frozen=True)
class Route:
    file: Traversable
    status: int
    headers: dict[str, str]
    url: str | None = None
    pattern: re.Pattern[str] | None = None
    method: str = "GET"


def canonical_url(url: str) -> str:
    """Scheme/host lower-cased, query parameters sorted: the exact-route key."""
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
    root: Traversable | None = None,
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
            if "url" in entry:
                route = Route(file, status, headers, url=entry["url"], method=method)
                exact[(method, canonical_url(entry["url"]))] = route
            else:
                route = Route(
                    file, status, headers, pattern=re.compile(entry["pattern"]), method=method
                )
                patterns.append(route)
    return exact, patterns


class ReplayTransport(httpx.AsyncBaseTransport):
    """Serves recorded responses; ``latency_ms`` simulates a slow source."""

    def __init__(
        self,
        *,
        latency_ms: float = 0.0,
        root: Traversable | None = None,
        extra: dict[str, tuple[int, dict[str, str], bytes]] | None = None,
    ) -> None:
        self._exact, self._patterns = load_routes(root)
        self._latency_s = latency_ms / 1000.0
        self._extra = {canonical_url(u): v for u, v in (extra or {}).items()}
        self.requests: list[str] = []

    def match(self, method: str, url: str) -> Route | None:
        route = self._exact.get((method, canonical_url(url)))
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
        extra = self._extra.get(canonical_url(url))
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
