"""What the bench steps share: free ports, server processes, the measuring tools."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("DOSSIER_SHARED_BENCH", ROOT.parent / "shared" / "bench"))
PY = sys.executable
STEP_TIMEOUT_S = 90


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    base: str
    pid: int


@contextlib.contextmanager
def running(cmd: list[str], env: dict[str, str], port: int) -> Iterator[Server]:
    # The log must outlive this function's frames: it is the server's stdout until the end.
    log = tempfile.NamedTemporaryFile(prefix="bench-server-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited; see {log.name}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not start; see {log.name}")
            time.sleep(0.1)
        yield Server(base, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def tool(
    name: str, *args: str, folder: Path = SHARED, timeout_s: float = STEP_TIMEOUT_S
) -> dict[str, Any]:
    cmd = [PY, str(folder / name), *args, "--json"]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": "timeout"}
    try:
        result: dict[str, Any] = json.loads(out.stdout)
    except ValueError:
        return {"ok": False, "error": (out.stderr or out.stdout)[-500:]}
    return result


def product_server(**env: str) -> contextlib.AbstractContextManager[Server]:
    port = free_port()
    data = tempfile.mkdtemp(prefix="bench-dossier-")
    base_env = {
        "DOSSIER_BENCH": "1",
        "DOSSIER_DATA_DIR": data,
        "DOSSIER_SOURCES": "replay",
        "DOSSIER_LOG_LEVEL": "WARNING",
        "DOSSIER_SESSION_RATE_PER_MIN": "100000",
        # One load generator on one address opens thousands of streams.
        "DOSSIER_SSE_MAX_STREAMS_PER_CLIENT": "100000",
        "DOSSIER_SSE_MAX_STREAMS_PER_PRINCIPAL": "100000",
    }
    return running([PY, "-m", "dossier", "serve", "--port", str(port)], {**base_env, **env}, port)


def bench_session(server: Server, n: int, rate: float, subscribers: int) -> str:
    body = {"n": n, "rate": rate, "subscribers": subscribers}
    response = httpx.post(f"{server.base}/api/bench/sessions", json=body, timeout=10)
    response.raise_for_status()
    return str(response.json()["session_id"])
