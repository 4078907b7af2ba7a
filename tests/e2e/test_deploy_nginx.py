"""``deploy/nginx.conf`` in front of two API replicas, run by Debian's real nginx.

The compose file cannot run here (no container engine), but its load balancer can: the
site file is used as shipped, with only its ``upstream`` servers and ``listen`` pointed at
this machine's replicas. Through it: a stream arrives live (not buffered until the end),
resumes exactly once on the surviving replica after one is killed, and the WebSocket chat
is answered (the upgrade passes through).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import websockets

from tests.e2e.conftest import ServerProcess, free_port
from tests.e2e.test_crash_and_resume import check_exactly_once
from tests.e2e.test_scale_out import _resume, api_replica, follow, worker_process

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
# `make test` installs Debian's nginx-light when it is missing (as it does chromium).
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def local_site(listen: int, replicas: list[int]) -> str:
    """deploy/nginx.conf with its upstream servers and listen port made local."""
    site = (DEPLOY / "nginx.conf").read_text()
    servers = "".join(f"    server 127.0.0.1:{port};\n" for port in replicas)
    site, upstreams = re.subn(
        r"upstream dossier_api \{[^}]*\}", "upstream dossier_api {\n" + servers + "}", site
    )
    site, listens = re.subn(r"listen \d+;", f"listen 127.0.0.1:{listen};", site)
    assert (upstreams, listens) == (1, 1), "deploy/nginx.conf changed shape: update this test"
    return site


@contextlib.contextmanager
def nginx(workdir: Path, replicas: list[int]) -> Iterator[str]:
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    temp = " ".join(
        f"{kind}_temp_path {workdir / kind};" for kind in ("client_body", "proxy", "fastcgi")
    )
    conf = workdir / "nginx.conf"
    conf.write_text(
        # as root, nginx's workers would run as nobody, who cannot enter pytest's tmp dirs
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"daemon off;\npid {workdir / 'nginx.pid'};\nerror_log {workdir / 'error.log'};\n"
        + "events {}\nhttp {\n"
        + f"access_log {workdir / 'access.log'};\n{temp}\n"
        + f"uwsgi_temp_path {workdir / 'uwsgi'}; scgi_temp_path {workdir / 'scgi'};\n"
        + local_site(port, replicas)
        + "}\n"
    )
    proc = subprocess.Popen(
        [NGINX, "-c", str(conf), "-p", str(workdir), "-e", str(workdir / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        while True:
            assert proc.poll() is None, (workdir / "error.log").read_text()
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            assert time.monotonic() < deadline, "nginx did not come up"
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


async def answer_of(url: str, question: str) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    async with websockets.connect(url) as ws, asyncio.timeout(30):
        await ws.send(json.dumps({"type": "question", "id": "q1", "content": question}))
        while not frames or frames[-1]["type"] != "answer.end":
            frames.append(json.loads(await ws.recv()))
    return frames


async def test_the_shipped_nginx_conf_streams_live_resumes_on_the_survivor_and_passes_chat(
    tmp_path: Path, server_factory: type[ServerProcess], pg_url: str, redis_url: str
) -> None:
    worker_process(server_factory, tmp_path / "w", pg_url, redis_url, "worker-1").start(
        DOSSIER_REPLAY_LATENCY_MS="700"
    )
    apis = [
        api_replica(server_factory, tmp_path / name, pg_url, redis_url, name).start()
        for name in ("api-1", "api-2")
    ]
    with nginx(tmp_path / "nginx", [api.port for api in apis]) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            opened = await client.post("/api/sessions", json={"account": {"name": "Stripe"}})
            session_id = opened.json()["session_id"]
            url = f"/api/sessions/{session_id}/events"
            seen = await follow(client, url, until_collecting=True)
            # Arrived while the research still ran: nothing held back until the end.
            assert (await client.get(f"/api/sessions/{session_id}")).json()["status"] == "running"
            apis[0].kill()  # nginx sends the reconnect to the replica that is left
            rest, _ = await _resume(client, url, seen[-1].seq)
        frames = await answer_of(
            base.replace("http://", "ws://") + f"/ws/sessions/{session_id}/chat",
            "Who are the decision makers?",
        )
    everything = seen + rest
    check_exactly_once(everything)
    assert everything[-1].event == "session.completed"
    assert everything[-1].json["data"]["status"] in ("completed", "partial")
    end = frames[-1]
    assert end["complete"] and not end.get("error"), frames
    assert "".join(f["text"] for f in frames if f["type"] == "answer.delta").strip()
    assert any(f["type"] == "answer.citation" for f in frames)
