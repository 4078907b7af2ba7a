"""Record live source responses as replay fixtures. Opt-in, needs network, never in CI.

    make record-fixtures                      # the default companies, into build/recordings/
    python scripts/record_fixtures.py --company Stripe --company NVIDIA --out DIR
    python scripts/record_fixtures.py --dry-run   # print the requests; no network at all

For each company it runs the real code paths (``resolve()`` and every applicable
collector) over a transport that saves each response, so the recordings hold exactly the
URLs dossier requests. Per source folder it writes the body, a ``*.headers.json`` sidecar
(uri, status, headers), an exact route in ``routes.json`` and a ``real`` provenance row with
the date. The default output is a fresh folder under ``build/recordings/`` to review and
copy into ``src/dossier/fixtures/``; ``--out src/dossier/fixtures`` writes in place.

Live runs need ``DOSSIER_CONTACT_EMAIL`` (SEC refuses requests without a contact). The dry run
answers from the packaged recordings where they exist (so requests that depend on an earlier
answer show up too) and with a 404 elsewhere, and marks which is which.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from dossier.collectors.base import COLLECTORS, CollectorDeps, load_collector
from dossier.collectors.http import SourceHttp, build_client
from dossier.collectors.replay import ReplayTransport
from dossier.collectors.resolve import resolve
from dossier.collectors.ssrf import make_guard
from dossier.core.ports import CollectContext, Collector, ProgressReport, RetryNotice
from dossier.core.types import Finding
from dossier.errors import DossierError
from dossier.settings import Settings

# The demo companies: one private (Form D filer), one US listed, one foreign filer.
DEFAULT_COMPANIES = ("Stripe", "NVIDIA", "Shopify")
# Collectors of this change, run even before the registry lists them.
EXTRA_COLLECTORS = {
    "sec_edgar": "dossier.collectors.sec_edgar:SecEdgarCollector",
    "wikidata": "dossier.collectors.wikidata:WikidataCollector",
    "wikipedia": "dossier.collectors.wikipedia:WikipediaCollector",
}
FOLDER_BY_HOST = {
    "data.sec.gov": "sec",
    "www.sec.gov": "sec",
    "www.wikidata.org": "wikidata",
    "en.wikipedia.org": "wikipedia",
    "api.gleif.org": "gleif",
    "boards-api.greenhouse.io": "greenhouse",
    "api.lever.co": "lever",
    "api.ashbyhq.com": "ashby",
    "api.smartrecruiters.com": "smartrecruiters",
    "apply.workable.com": "workable",
    "hn.algolia.com": "hn",
    "api.gdeltproject.org": "gdelt",
}
_DROPPED_HEADERS = ("content-encoding", "content-length", "transfer-encoding")


@dataclass(frozen=True)
class Recorded:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes


class RecordingTransport(httpx.AsyncBaseTransport):
    """Passes requests to the network and keeps every (decoded) response."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.recorded: list[Recorded] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = await httpx.Response(
            response.status_code, headers=response.headers, stream=response.stream
        ).aread()  # decoded: the stored file is what the code reads
        headers = {k.lower(): v for k, v in response.headers.items()}
        headers = {k: v for k, v in headers.items() if k not in _DROPPED_HEADERS}
        self.recorded.append(Recorded(str(request.url), response.status_code, headers, body))
        return httpx.Response(response.status_code, headers=headers, content=body, request=request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class DryRunTransport(httpx.AsyncBaseTransport):
    """Prints each request; answers from the packaged recordings, else 404. No network."""

    def __init__(self) -> None:
        self.replay = ReplayTransport()
        self.lines: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        known = self.replay.match(request.method, url) is not None
        line = f"GET {url}" + ("" if known else "   [not recorded yet]")
        self.lines.append(line)
        print(line)
        if known:
            return await self.replay.handle_async_request(request)
        return httpx.Response(404, content=b"", request=request)


async def _noop_finding(finding: Finding) -> None:
    return None


async def _noop_progress(report: ProgressReport) -> None:
    return None


async def _noop_retry(notice: RetryNotice) -> None:
    return None


def collectors_for(deps: CollectorDeps) -> list[Collector]:
    table = {**EXTRA_COLLECTORS, **COLLECTORS}
    return [load_collector(path, deps) for path in table.values()]


async def run_company(name: str, http: SourceHttp, settings: Settings) -> None:
    """Everything dossier fetches for one company: resolution, then each applicable source."""
    print(f"# {name}")
    resolution = await resolve({"name": name}, http, settings=settings)
    ids = resolution.identifiers
    print(f"#   identifiers: {json.dumps(ids, sort_keys=True)}")
    for note in resolution.notes:
        print(f"#   note: {note}")
    deps = CollectorDeps(http=http, settings=settings)
    for collector in collectors_for(deps):
        if not collector.applicable(ids):
            continue
        ctx = CollectContext(
            account_name=name,
            identifiers=dict(ids),
            emit=_noop_finding,
            progress=_noop_progress,
            on_retry=_noop_retry,
        )
        try:
            result = await collector.collect(ctx)
        except DossierError as exc:
            print(f"#   {collector.name}: {exc.message}")
            continue
        print(f"#   {collector.name}: {len(result.findings)} findings")


def file_name(record: Recorded) -> str:
    """A readable, unique file name for a recorded URL."""
    parts = urlsplit(record.url)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{parts.path.strip('/')}_{parts.query}").strip("_")
    digest = hashlib.sha256(record.url.encode()).hexdigest()[:8]
    kind = record.headers.get("content-type", "")
    extensions = (("json", ".json"), ("xml", ".xml"), ("html", ".html"))
    extension = next((ext for key, ext in extensions if key in kind), ".txt")
    return f"live_{stem[:80]}_{digest}{extension}"


def write_recordings(records: Sequence[Recorded], out: Path, *, when: datetime) -> list[Path]:
    """Bodies, sidecars, exact routes and provenance rows under ``out/<source folder>/``."""
    written: list[Path] = []
    for record in records:
        folder = out / FOLDER_BY_HOST.get(urlsplit(record.url).hostname or "", "homepages")
        folder.mkdir(parents=True, exist_ok=True)
        name = file_name(record)
        (folder / name).write_bytes(record.body)
        sidecar = {
            "uri": record.url,
            "status": record.status,
            "headers": {k: [v] for k, v in record.headers.items()},
        }
        (folder / f"{name}.headers.json").write_text(json.dumps(sidecar, indent=1) + "\n")
        routes_path = folder / "routes.json"
        routes = json.loads(routes_path.read_text()) if routes_path.exists() else []
        routes = [r for r in routes if r.get("url") != record.url]
        entry = {"url": record.url, "file": name, "status": record.status}
        if "content-type" in record.headers:
            entry["content_type"] = record.headers["content-type"]
        routes.insert(0, entry)  # exact routes before any pattern, like the packaged files
        routes_path.write_text(
            "[\n" + ",\n".join("  " + json.dumps(r, ensure_ascii=False) for r in routes) + "\n]\n"
        )
        provenance = folder / "PROVENANCE.md"
        if not provenance.exists():
            provenance.write_text("| File | Origin | Status |\n|---|---|---|\n")
        with provenance.open("a", encoding="utf-8") as rows:
            rows.write(
                f"| {name} | recorded live: GET {record.url} on {when:%Y-%m-%d} "
                f"(HTTP {record.status}) by scripts/record_fixtures.py | real |\n"
            )
        written.append(folder / name)
    return written


async def dry_run(companies: Sequence[str]) -> list[str]:
    settings = Settings(_env_file=None, sources="replay")
    transport = DryRunTransport()
    async with httpx.AsyncClient(transport=transport) as client:
        http = SourceHttp(client, host_intervals_s={}, retries=0)
        for name in companies:
            await run_company(name, http, settings)
    return transport.lines


async def record(companies: Sequence[str], out: Path) -> list[Path]:
    settings = Settings()
    if not settings.contact_email:
        raise SystemExit("set DOSSIER_CONTACT_EMAIL: SEC refuses requests without a contact")
    transport = RecordingTransport(httpx.AsyncHTTPTransport())
    client = build_client(
        user_agent=settings.user_agent, timeout_s=settings.http_timeout_s, transport=transport
    )
    async with client:
        http = SourceHttp(client, guard=make_guard(allow_private=False))
        for name in companies:
            await run_company(name, http, settings)
    return write_recordings(transport.recorded, out, when=datetime.now(UTC))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--company", action="append", help="company name (repeatable)")
    parser.add_argument("--out", type=Path, help="output folder (default build/recordings/DATE)")
    parser.add_argument("--dry-run", action="store_true", help="print the requests, no network")
    args = parser.parse_args(argv)
    companies = args.company or list(DEFAULT_COMPANIES)
    if args.dry_run:
        asyncio.run(dry_run(companies))
        return 0
    out = args.out or Path("build/recordings") / datetime.now(UTC).strftime("%Y-%m-%d")
    written = asyncio.run(record(companies, out))
    print(f"wrote {len(written)} recordings under {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
