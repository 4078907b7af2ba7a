"""Issue 12, items 5 and 6: hostile input gets a 4xx (or the socket's ``error``), the
connection stays usable, and nothing half-done reaches the log."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import websockets
from pydantic import SecretStr
from websockets.asyncio.client import ClientConnection

from dossier.settings import Settings

NESTED = "[" * 2000 + "]" * 2000  # 4 KB, under the frame limit; deeper than json's stack


@pytest.fixture
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.WARNING)
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not errors, [r.getMessage() for r in errors]


def assert_invalid(response: httpx.Response, status: int = 422) -> None:
    assert response.status_code == status, (response.status_code, response.text)
    error = response.json()["error"]
    assert error["code"] == "invalid_input" and error["message"]


HOSTILE_ACCOUNTS = [
    "%00",
    "%20",
    "!!!",
    "%E2%80%8F",  # right-to-left mark
    "%E2%80%8B",  # zero-width space
    "%ff%fe",  # not UTF-8
    "%F0%9F%98%80%F0%9F%94%A5",  # emoji only
    "Acme%00Corp",
]


async def test_a_hostile_account_filter_is_a_422_and_the_connection_stays_usable(
    live: httpx.AsyncClient, no_errors_logged: None
) -> None:
    for account in HOSTILE_ACCOUNTS:
        # one keep-alive connection: the good request after a bad one must not be reset
        assert_invalid(await live.get(f"/api/sessions?account={account}"))
        listed = await live.get("/api/sessions?account=Stripe")
        assert listed.status_code == 200 and listed.json() == {"sessions": []}


async def test_a_plain_account_filter_still_filters(live: httpx.AsyncClient) -> None:
    created = await live.post("/api/sessions", json={"account": {"name": "Stripe, Inc."}})
    assert created.status_code == 202
    for query in ("stripe", "STRIPE%20inc", ""):
        listed = (await live.get(f"/api/sessions?account={query}")).json()["sessions"]
        assert [s["session_id"] for s in listed] == [created.json()["session_id"]], query
    assert (await live.get("/api/sessions?account=shopify")).json()["sessions"] == []


HOSTILE_VENDORS: list[dict[str, Any]] = [
    {"domain": "127.0.0.1:8899"},
    {"domain": "http://[::1]/"},
    {"domain": "localhost"},
    {"name": "!!!"},
    {"name": "Ev\u0000il"},
    {"name": "   "},
    {"name": "Acme\u200b"},
    {"description": "fraud\u0000analytics"},
    {"sells_to": ["risk", "fr\u0007aud"]},
]


async def test_a_hostile_vendor_is_a_422_and_starts_nothing(
    live: httpx.AsyncClient, no_errors_logged: None
) -> None:
    for vendor in HOSTILE_VENDORS:
        body = {"account": {"name": "Stripe"}, "vendor": vendor}
        response = await live.post("/api/sessions", json=body)
        assert_invalid(response)
        assert response.json()["error"]["message"].startswith("vendor."), vendor
    assert (await live.get("/api/sessions")).json()["sessions"] == []


async def test_a_vendor_is_normalised_like_an_account(live: httpx.AsyncClient) -> None:
    vendor = {"name": "  Acme Analytics ", "domain": "https://www.Acme.example/about"}
    created = await live.post(
        "/api/sessions", json={"account": {"name": "Stripe"}, "vendor": vendor}
    )
    assert created.status_code == 202, created.text
    snapshot = (await live.get(f"/api/sessions/{created.json()['session_id']}")).json()
    assert snapshot["vendor"]["name"] == "Acme Analytics"
    assert snapshot["vendor"]["domain"] == "acme.example"


async def test_a_blank_question_over_http_is_a_422(live: httpx.AsyncClient) -> None:
    created = await live.post("/api/sessions", json={"account": {"name": "Stripe"}})
    questions = f"/api/sessions/{created.json()['session_id']}/questions"
    for content in ("   ", "\n\t ", "\u00a0"):
        assert_invalid(await live.post(questions, json={"content": content}))


async def test_ids_must_be_printable_they_are_echoed_and_part_of_the_log_key(
    server: str, live: httpx.AsyncClient, no_errors_logged: None
) -> None:
    """A NUL in a question id reached the log's dedup key: a PostgreSQL text column
    cannot hold it, and its group commit would fail every append in that transaction."""
    session_id, url = await open_chat(server, live)
    for bad in ("q\u0000", "q\u200b", "q\n1"):
        asked = {"content": "Overview?", "id": bad}
        assert_invalid(await live.post(f"/api/sessions/{session_id}/questions", json=asked))
        steer = {"action": "skip", "target": "news", "id": bad}
        assert_invalid(await live.post(f"/api/sessions/{session_id}/steer", json=steer))
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"type": "question", "id": "q\u0000", "content": "Overview?"}))
        await ws.send(json.dumps({"type": "ping"}))
        frames = await frames_until(ws, lambda f: f["type"] == "pong")
    assert [f["code"] for f in frames if f["type"] == "error"] == ["invalid_input"]
    assert "q\\u0000" not in json.dumps((await live.get(f"/api/sessions/{session_id}")).json())


async def open_chat(server: str, live: httpx.AsyncClient) -> tuple[str, str]:
    created = await live.post("/api/sessions", json={"account": {"name": "Stripe"}})
    session_id = str(created.json()["session_id"])
    return session_id, server.replace("http://", "ws://") + f"/ws/sessions/{session_id}/chat"


async def frames_until(ws: ClientConnection, stop: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    async with asyncio.timeout(30):
        while True:
            out.append(json.loads(await ws.recv()))
            if stop(out[-1]):
                return out


async def test_a_deeply_nested_frame_is_malformed_input_and_the_socket_reads_on(
    server: str, live: httpx.AsyncClient, no_errors_logged: None
) -> None:
    _, url = await open_chat(server, live)
    async with websockets.connect(url) as ws:
        await ws.send(NESTED)
        await ws.send(json.dumps({"type": "ping"}))
        frames = await frames_until(ws, lambda f: f["type"] == "pong")
    errors = [f for f in frames if f["type"] == "error"]
    assert [e["code"] for e in errors] == ["malformed_json"]


async def test_a_lone_surrogate_is_refused_as_http_refuses_it_and_nothing_is_logged(
    server: str, live: httpx.AsyncClient, no_errors_logged: None
) -> None:
    session_id, url = await open_chat(server, live)
    raw = '{"type":"question","id":"q_bad","content":"Who decides \\ud800 there?"}'
    http = await live.post(
        f"/api/sessions/{session_id}/questions",
        content=raw.encode(),
        headers={"content-type": "application/json"},
    )
    assert_invalid(http)
    async with websockets.connect(url) as ws:
        await ws.send(raw)
        await ws.send(json.dumps({"type": "question", "id": "q_ok", "content": "Overview?"}))
        frames = await frames_until(ws, lambda f: f["type"] == "answer.end")
    errors = [f for f in frames if f["type"] == "error"]
    assert errors == [
        {
            "type": "error",
            "id": "q_bad",
            "code": "invalid_input",
            "message": "content: not valid Unicode text (a lone surrogate)",
        }
    ]
    assert not [f for f in frames if f.get("id") == "q_bad" and f["type"] != "error"]
    assert frames[-1]["id"] == "q_ok"
    # the log holds the good question only (and its answer), never half of the bad one
    snapshot = (await live.get(f"/api/sessions/{session_id}")).json()
    assert "q_bad" not in json.dumps(snapshot)
    assert "q_ok" in json.dumps(snapshot)


async def test_a_blank_question_on_the_socket_is_an_error(
    server: str, live: httpx.AsyncClient
) -> None:
    _, url = await open_chat(server, live)
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"type": "question", "id": "q1", "content": "  \n "}))
        frames = await frames_until(ws, lambda f: f["type"] == "error")
    assert frames[-1]["code"] == "invalid_input" and frames[-1]["id"] == "q1"


class TestBeforeAuthentication:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"api_token": SecretStr("sekrit")})

    @pytest.mark.parametrize(
        ("first", "code"),
        [
            (NESTED, "malformed_json"),
            ('{"type":"auth","token":"\\udfff"}', "invalid_input"),
            ('{"type":"ping"}', "unauthorized"),
        ],
    )
    async def test_a_bad_first_frame_gets_an_error_and_a_clean_close(
        self, server: str, no_errors_logged: None, first: str, code: str
    ) -> None:
        headers = {"Authorization": "Bearer sekrit"}
        async with httpx.AsyncClient(base_url=server, headers=headers) as http:
            _, url = await open_chat(server, http)
        async with websockets.connect(url) as ws:
            await ws.send(first)
            frame = json.loads(await ws.recv())
            assert frame["type"] == "error" and frame["code"] == code
            with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
