"""Test helpers for the security fuzz: the app on a real uvicorn in a thread (so plain,
synchronous hypothesis tests can drive it), what it logged, and a health check."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from hypothesis import HealthCheck, Phase, settings
from websockets.sync.client import ClientConnection, connect

from dossier.app import create_app
from dossier.settings import Settings
from dossier.transport.peers import uvicorn_proxy_options

# Deterministic and bounded: the same examples on every run (CI stays stable), no example
# database, no shrinking time limits; a failure prints the example that broke it.
FUZZ = settings(
    max_examples=60,
    derandomize=True,
    database=None,
    deadline=None,
    phases=(Phase.explicit, Phase.generate, Phase.shrink),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class ErrorLog(logging.Handler):
    """Every ERROR (or traceback) the server logs, from any logger (DBOS's included)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info:
            self.records.append(record)

    def take(self) -> list[str]:
        said = [f"{r.name}: {r.getMessage()}" for r in self.records]
        self.records.clear()
        return said


@dataclass
class FuzzServer:
    base: str
    errors: ErrorLog
    session_id: str = ""  # a finished research to aim at
    workflow_ids: list[str] = field(default_factory=list)

    @property
    def ws_base(self) -> str:
        return self.base.replace("http://", "ws://")

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=20)

    def chat(self, session_id: str | None = None) -> ClientConnection:
        url = f"{self.ws_base}/ws/sessions/{session_id or self.session_id}/chat"
        return connect(url, open_timeout=10, close_timeout=2, max_size=None)

    def assert_healthy(self) -> None:
        """Nothing logged as an error; a normal request, stream and chat still work."""
        assert not self.errors.take(), "the server logged errors"
        with self.client() as http:
            assert http.get("/healthz").json() == {"ok": True}
            assert http.get("/readyz").status_code == 200
            listed = http.get("/api/sessions").json()["sessions"]
            assert self.session_id in [s["session_id"] for s in listed]
            snapshot = http.get(f"/api/sessions/{self.session_id}").json()
            assert snapshot["status"] in ("completed", "partial", "failed", "cancelled")
        asked = f"health-{uuid.uuid4().hex[:8]}"  # a question id names one turn: a new one
        with self.chat() as ws:
            ws.send(json.dumps({"type": "question", "id": asked, "content": "Overview?"}))
            frames = read_until(ws, lambda f: f["type"] == "answer.end" and f["id"] == asked)
        assert not [f for f in frames if f["type"] == "error"], frames
        assert not self.errors.take(), "the server logged errors"


def read_until(ws: ClientConnection, stop: Any, timeout_s: float = 20) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    while True:
        frame = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        frames.append(frame)
        if stop(frame):
            return frames


@contextmanager
def fuzz_server(app_settings: Settings) -> Iterator[FuzzServer]:
    """The app as ``dossier serve`` runs it, in a thread; one finished research in it."""
    errors = ErrorLog()
    watched = [logging.getLogger(), logging.getLogger("dbos")]
    for logger in watched:
        logger.addHandler(errors)
    config = uvicorn.Config(
        create_app(app_settings),
        host="127.0.0.1",
        port=0,
        lifespan="on",
        ws="websockets-sansio",
        log_config=None,  # uvicorn's errors reach the root logger (and ``errors``)
        log_level="warning",
        timeout_graceful_shutdown=2,
        **uvicorn_proxy_options(app_settings),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="fuzz-server", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        fuzz = FuzzServer(base=f"http://127.0.0.1:{port}", errors=errors)
        _finished_research(fuzz)
        yield fuzz
    finally:
        server.should_exit = True
        thread.join(30)
        for logger in watched:
            logger.removeHandler(errors)


def _finished_research(fuzz: FuzzServer) -> None:
    with fuzz.client() as http:
        opened = http.post("/api/sessions", json={"account": {"name": "Stripe"}})
        assert opened.status_code == 202, opened.text
        fuzz.session_id = opened.json()["session_id"]
        links = opened.json()["links"]["workflows"]
        fuzz.workflow_ids = [links[k].rsplit("/", 1)[1] for k in sorted(links)]
        # the whole stream, to its end: the research is over before the fuzz starts
        with http.stream("GET", f"/api/sessions/{fuzz.session_id}/events") as stream:
            for _ in stream.iter_bytes():
                pass
