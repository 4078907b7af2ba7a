"""A real ``dossier serve`` subprocess on a free loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    data_dir: Path
    port: int
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    command: str = "serve"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, **extra_env: str) -> ServerProcess:
        env = {
            **os.environ,
            "DOSSIER_DATA_DIR": str(self.data_dir),
            "DOSSIER_SOURCES": "replay",
            **self.env,
            **extra_env,
        }
        env.pop("DOSSIER_API_TOKEN", None)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        name = f"{self.command}-{self.port}-{time.monotonic_ns()}.log"
        self.log_path = self.data_dir.parent / name
        log = self.log_path.open("wb")
        args = ["serve", "--port", str(self.port)] if self.command == "serve" else [self.command]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dossier", *args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        if self.command != "serve":
            return self.wait_for_log("dossier ready")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not become ready: {self.log_path.read_text()}")

    def wait_for_log(self, text: str, timeout_s: float = 30) -> ServerProcess:
        assert self.proc is not None and self.log_path is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if text in self.log_path.read_text(errors="replace"):
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"process exited: {self.log_path.read_text()}")
            time.sleep(0.1)
        raise RuntimeError(f"no {text!r} in the log: {self.log_path.read_text()}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[type[ServerProcess]]:
    started: list[ServerProcess] = []

    class Factory(ServerProcess):
        def start(self, **extra_env: str) -> ServerProcess:
            started.append(self)
            return super().start(**extra_env)

    yield Factory
    for server in started:
        server.stop()


@pytest.fixture
def redis_url() -> Iterator[str]:
    """Redis database 15 on the local server, flushed before and after."""
    import redis

    url = "redis://127.0.0.1:6379/15"
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()
