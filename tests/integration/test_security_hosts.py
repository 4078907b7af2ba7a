"""Issue 12, items 3 and 7: DNS rebinding (Host allow-list, Origin against it) and proxy
headers believed only from configured proxies. Over a real uvicorn, as served."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit

import httpx
import pytest
import websockets
from pydantic import SecretStr

from dossier.settings import Settings

EVIL = "evil.example"


async def open_session(live: httpx.AsyncClient, name: str = "Stripe") -> str:
    response = await live.post("/api/sessions", json={"account": {"name": name}})
    assert response.status_code == 202, response.text
    return str(response.json()["session_id"])


async def handshake(server: str, path: str, headers: dict[str, str]) -> int:
    """The status of a WebSocket handshake sent with exactly these headers (a browser's
    Host and Origin, which client libraries would not let us forge)."""
    url = urlsplit(server)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    try:
        lines = [
            f"GET {path} HTTP/1.1",
            "Upgrade: websocket",
            "Connection: Upgrade",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version: 13",
            *(f"{name}: {value}" for name, value in headers.items()),
            "",
            "",
        ]
        writer.write("\r\n".join(lines).encode("latin-1"))
        await writer.drain()
        async with asyncio.timeout(10):
            status_line = await reader.readline()
        return int(status_line.split()[1])
    finally:
        writer.close()


def port_of(server: str) -> int:
    port = urlsplit(server).port
    assert port is not None
    return port


async def test_a_rebinding_page_is_refused_on_every_channel(
    server: str, live: httpx.AsyncClient
) -> None:
    """The page at evil.example:<port>, its name now pointing at 127.0.0.1, sends its own
    name as Host and Origin: no route, stream or socket answers it."""
    session_id = await open_session(live)
    rebound = f"{EVIL}:{port_of(server)}"
    as_page = {"Host": rebound, "Origin": f"http://{rebound}"}
    for path in (
        "/",
        "/healthz",
        "/api/sessions",
        f"/api/sessions/{session_id}",
        f"/api/sessions/{session_id}/events",  # the SSE fast path
        f"/api/sessions/{session_id}/export",
    ):
        response = await live.get(path, headers=as_page)
        assert response.status_code == 400, (path, response.status_code)
        assert response.json()["error"]["code"] == "invalid_host"
    refused = await live.post(
        "/api/sessions", json={"account": {"name": "Shopify"}}, headers=as_page
    )
    assert refused.status_code == 400
    assert await handshake(server, f"/ws/sessions/{session_id}/chat", as_page) == 403
    # nothing was started by the refused request; the real page still works
    listed = (await live.get("/api/sessions")).json()["sessions"]
    assert [s["session_id"] for s in listed] == [session_id]


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", "[::1]"])
async def test_the_page_and_its_socket_work_on_loopback_names(
    server: str, live: httpx.AsyncClient, name: str
) -> None:
    session_id = await open_session(live)
    host = f"{name}:{port_of(server)}"
    page = await live.get("/", headers={"Host": host})
    assert page.status_code == 200 and "<html" in page.text.lower()
    own = {"Host": host, "Origin": f"http://{host}"}
    assert await handshake(server, f"/ws/sessions/{session_id}/chat", own) == 101


async def test_the_socket_origin_is_checked_against_the_allow_list_not_the_host(
    server: str, live: httpx.AsyncClient
) -> None:
    session_id = await open_session(live)
    path = f"/ws/sessions/{session_id}/chat"
    port = port_of(server)
    local = f"localhost:{port}"
    assert await handshake(server, path, {"Host": local, "Origin": f"http://{EVIL}:{port}"}) == 403
    # another site on this machine (another port) is another origin
    assert await handshake(server, path, {"Host": local, "Origin": "http://localhost:1"}) == 403
    assert (
        await handshake(server, path, {"Host": local, "Origin": f"http://127.0.0.1:{port}"}) == 101
    )
    url = server.replace("http://", "ws://") + path
    async with websockets.connect(url, origin=server) as ws:  # type: ignore[arg-type]
        await ws.send(json.dumps({"type": "ping"}))
        assert json.loads(await ws.recv())["type"] in ("suggestions", "pong")


class TestConfiguredNames:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"allowed_hosts": ("dossier.lan",)})

    async def test_an_allowed_name_is_served_others_are_not(
        self, server: str, live: httpx.AsyncClient
    ) -> None:
        port = port_of(server)
        assert (await live.get("/healthz", headers={"Host": f"dossier.lan:{port}"})).is_success
        assert (await live.get("/healthz", headers={"Host": f"{EVIL}:{port}"})).status_code == 400
        session_id = await open_session(live)
        lan = {"Host": f"dossier.lan:{port}", "Origin": f"http://dossier.lan:{port}"}
        assert await handshake(server, f"/ws/sessions/{session_id}/chat", lan) == 101


class TestWithToken:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"api_token": SecretStr("sekrit")})

    async def test_the_token_is_the_fence_any_host_is_served(
        self, server: str, live: httpx.AsyncClient
    ) -> None:
        bearer = {"Authorization": "Bearer sekrit", "Host": "dossier.example.com"}
        assert (await live.get("/api/sessions", headers=bearer)).status_code == 200
        assert (
            await live.get("/api/sessions", headers={"Host": "dossier.example.com"})
        ).status_code == 401


class TestRateLimitsKeyOnThePeer:
    """uvicorn believes X-Forwarded-For from 127.0.0.1 by default: a client on this
    machine rotating it was a new client each time, never limited."""

    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"session_rate_per_min": 3})  # a burst of 3

    async def test_rotating_x_forwarded_for_does_not_escape_the_limit(
        self, live: httpx.AsyncClient
    ) -> None:
        statuses = []
        for n in range(5):
            response = await live.post(
                "/api/sessions",
                json={"account": {"name": "Stripe"}},  # joins the first: no new work
                headers={"X-Forwarded-For": f"203.0.113.{n}"},
            )
            statuses.append(response.status_code)
        assert statuses[:3] == [202, 202, 202]
        assert statuses[3:] == [429, 429]


class TestTrustedProxy:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(
            update={"session_rate_per_min": 3, "trusted_proxies": ("127.0.0.1",)}
        )

    async def test_a_configured_proxy_names_the_client(self, live: httpx.AsyncClient) -> None:
        async def post(client_ip: str) -> int:
            response = await live.post(
                "/api/sessions",
                json={"account": {"name": "Stripe"}},
                headers={"X-Forwarded-For": client_ip},
            )
            return response.status_code

        # each client behind the proxy has its own bucket; one of them is limited
        assert [await post(f"203.0.113.{n}") for n in range(5)] == [202] * 5
        assert [await post("198.51.100.7") for _ in range(4)] == [202, 202, 202, 429]
