"""Bad input, access control, limits and ops endpoints of the HTTP API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from dossier.app import InsecureBind, create_app
from dossier.settings import Settings


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"account": {"name": ""}}, 422, "invalid_input"),
        ({"account": {"name": "x" * 500}}, 422, "invalid_input"),
        ({"account": {"name": "Acme"}, "unexpected": True}, 422, "invalid_input"),
        ({"account": {"name": "Acme", "domain": "no spaces allowed.com x"}}, 422, "invalid_input"),
        ({}, 422, "invalid_input"),
    ],
)
async def test_bad_session_requests_get_a_clear_4xx_and_change_nothing(
    client: httpx.AsyncClient, body: dict[str, object], status: int, code: str
) -> None:
    response = await client.post("/api/sessions", json=body)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    assert (await client.get("/api/sessions")).json()["sessions"] == []


async def test_malformed_json_is_a_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/sessions",
        content=b'{"account": {"name": "Acme"',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"


async def test_an_oversized_body_is_a_413(client: httpx.AsyncClient) -> None:
    body = b'{"account": {"name": "' + b"a" * 200_000 + b'"}}'
    response = await client.post(
        "/api/sessions", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


async def test_an_oversized_streamed_body_is_a_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b"x" * 4096

    response = await client.post(
        "/api/sessions", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    "path",
    [
        "/api/sessions/s_nope",
        "/api/sessions/s_nope/events",
        "/api/workflows/s_nope.vendor_context",
        "/api/nothing",
    ],
)
async def test_unknown_things_are_404_json(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_cancel_of_an_unknown_session_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/sessions/s_nope/cancel")).status_code == 404


async def test_ops_endpoints_answer(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"ok": True}
    assert (await client.get("/readyz")).json() == {"ok": True, "sqlite": "ok"}
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert "dossier_sse_connections" in metrics.text
    assert "text/plain" in metrics.headers["content-type"]
    docs = await client.get("/openapi.json")
    assert "/api/sessions" in docs.json()["paths"]


def test_the_server_refuses_to_listen_off_loopback_without_a_token(tmp_path: Path) -> None:
    with pytest.raises(InsecureBind):
        create_app(Settings(_env_file=None, host="0.0.0.0", data_dir=tmp_path))
    create_app(Settings(_env_file=None, host="0.0.0.0", api_token="t0k3n", data_dir=tmp_path))


class TestWithTokens:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"api_token": SecretStr("alice-token,bob-token")})

    async def test_every_api_call_needs_a_valid_bearer_token(
        self, client: httpx.AsyncClient
    ) -> None:
        assert (await client.get("/api/sessions")).status_code == 401
        wrong = await client.get("/api/sessions", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "unauthorized"
        assert (await client.get("/metrics")).status_code == 401
        assert (await client.get("/healthz")).status_code == 200
        ok = await client.get("/api/sessions", headers={"Authorization": "Bearer alice-token"})
        assert ok.status_code == 200

    async def test_sessions_are_visible_only_to_their_owners(
        self, client: httpx.AsyncClient
    ) -> None:
        alice = {"Authorization": "Bearer alice-token"}
        bob = {"Authorization": "Bearer bob-token"}
        created = await client.post(
            "/api/sessions", json={"account": {"name": "Stripe"}}, headers=alice
        )
        session_id = created.json()["session_id"]
        assert (await client.get(f"/api/sessions/{session_id}", headers=alice)).status_code == 200
        assert (await client.get(f"/api/sessions/{session_id}", headers=bob)).status_code == 404
        assert (
            await client.get(f"/api/sessions/{session_id}/events", headers=bob)
        ).status_code == 404
        assert (await client.get("/api/sessions", headers=bob)).json()["sessions"] == []
        stream = await client.get(f"/api/sessions/{session_id}/events?access_token=alice-token")
        assert stream.status_code == 200 and "session.created" in stream.text


class TestRateLimit:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"session_rate_per_min": 3})

    async def test_session_creation_is_rate_limited_per_client(
        self, client: httpx.AsyncClient
    ) -> None:
        statuses = []
        for i in range(5):
            response = await client.post(
                "/api/sessions", json={"account": {"name": f"Company {i}"}}
            )
            statuses.append(response.status_code)
        assert statuses[:3] == [202, 202, 202]
        assert statuses[3] == 429
        limited = await client.post("/api/sessions", json={"account": {"name": "Late"}})
        assert limited.json()["error"]["code"] == "rate_limited"
        assert int(limited.headers["Retry-After"]) >= 1


async def test_requests_are_counted_by_route_template(client: httpx.AsyncClient) -> None:
    await client.get("/api/sessions/s_counted")
    await client.get("/healthz")
    text = (await client.get("/metrics")).text
    assert (
        'dossier_http_requests_total{method="GET",route="/api/sessions/{session_id}",status="404"}'
        in text
    )
    assert 'route="/healthz",status="200"' in text
    assert "s_counted" not in text
