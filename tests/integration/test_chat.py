"""The chat over a real socket while a replay research runs (with simulated latency)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from dossier.settings import Settings
from tests.sse import read_stream


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"replay_latency_ms": 700})


async def open_session(live: httpx.AsyncClient, name: str = "Stripe") -> str:
    response = await live.post("/api/sessions", json={"account": {"name": name}})
    assert response.status_code == 202
    return str(response.json()["session_id"])


@pytest.fixture
async def chat(server: str, live: httpx.AsyncClient) -> AsyncIterator[tuple[str, ClientConnection]]:
    session_id = await open_session(live)
    url = server.replace("http://", "ws://") + f"/ws/sessions/{session_id}/chat"
    async with websockets.connect(url) as ws:
        yield session_id, ws


async def frames_until(
    ws: ClientConnection, stop: Any, timeout_s: float = 30
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout_s):
        while True:
            frame = json.loads(await ws.recv())
            out.append(frame)
            if stop(frame):
                return out


def answer_text(frames: list[dict[str, Any]], qid: str) -> str:
    return "".join(f["text"] for f in frames if f["type"] == "answer.delta" and f["id"] == qid)


async def test_a_question_mid_research_is_answered_at_once_then_revised(
    chat: tuple[str, ClientConnection], live: httpx.AsyncClient
) -> None:
    session_id, ws = chat
    await ws.send(
        json.dumps({"type": "question", "id": "q1", "content": "Which teams are they hiring for?"})
    )
    first = await frames_until(ws, lambda f: f["type"] == "answer.end" and f["id"] == "q1")
    start = next(f for f in first if f["type"] == "answer.start")
    assert start["basis"] == "partial"
    assert "jobs" in start["pending"]
    end = first[-1]
    assert (
        end["complete"] is False and end["partial"] is False and end["pending"] == start["pending"]
    )
    assert "Still collecting: job postings" in answer_text(first, "q1")
    snapshot = (await live.get(f"/api/sessions/{session_id}")).json()
    assert snapshot["status"] == "running"  # answered before the research ended

    revised = await frames_until(ws, lambda f: f["type"] == "answer.revised" and f["id"] == "q1")
    update = revised[-1]
    assert "Fraud Operations" in update["text"] and "jobs arrived" in update["reason"]
    snapshot = (await live.get(f"/api/sessions/{session_id}")).json()
    known = {f["id"] for f in snapshot["findings"]}
    assert update["citations"] and {c["finding"] for c in update["citations"]} <= known
    turn = next(t for t in snapshot["chat"] if t["id"] == "q1")
    assert turn["question"] == "Which teams are they hiring for?"
    assert turn["answer"]["basis"] == "partial"
    assert turn["revisions"][0]["text"] == update["text"]


async def test_several_questions_in_flight_and_bad_frames_keep_the_socket_usable(
    chat: tuple[str, ClientConnection], settings: Settings
) -> None:
    _, ws = chat
    await ws.send("this is not json")
    await ws.send(json.dumps({"type": "dance"}))
    await ws.send(json.dumps(["a", "list"]))
    await ws.send(
        json.dumps(
            {"type": "question", "id": "big", "content": "x" * (settings.ws_max_frame_bytes + 10)}
        )
    )
    await ws.send(json.dumps({"type": "question", "content": "no id"}))
    await ws.send(json.dumps({"type": "question", "id": "a", "content": "What tech do they use?"}))
    await ws.send(json.dumps({"type": "question", "id": "b", "content": "Who decides there?"}))
    await ws.send(json.dumps({"type": "ping"}))
    frames = await frames_until(ws, lambda f: f["type"] == "pong")
    errors = [f["code"] for f in frames if f["type"] == "error"]
    assert errors == [
        "malformed_json",
        "unknown_type",
        "malformed_json",
        "frame_too_large",
        "invalid_input",
    ]
    ended = {f["id"] for f in frames if f["type"] == "answer.end"}
    while ended != {"a", "b"}:
        frame = (await frames_until(ws, lambda f: f["type"] == "answer.end"))[-1]
        ended.add(frame["id"])
    assert ended == {"a", "b"}


async def test_steering_skip_is_acknowledged_and_applied(
    chat: tuple[str, ClientConnection], live: httpx.AsyncClient
) -> None:
    session_id, ws = chat
    await ws.send(json.dumps({"type": "steer", "id": "s1", "action": "skip", "target": "news"}))
    await ws.send(json.dumps({"type": "steer", "id": "s2", "action": "skip", "target": "nonsense"}))
    frames = await frames_until(ws, lambda f: f.get("id") == "s2")
    ack = next(f for f in frames if f["type"] == "steer.ack")
    assert ack["id"] == "s1" and ack["applies_at"] == "now"
    assert ack["message"].startswith("Skipping news")
    assert frames[-1]["type"] == "error" and frames[-1]["code"] == "invalid_input"
    events, _ = await read_stream(live, f"/api/sessions/{session_id}/events", timeout_s=60)
    news_steps = {
        e.json["step"]: e.event
        for e in events
        if e.json["workflow"] == "customer_intelligence"
        and e.json["step"] in ("collect.hn", "collect.gdelt", "collect.rss")
        and e.event in ("step.completed", "step.skipped", "step.failed")
    }
    assert set(news_steps.values()) == {"step.skipped"}, news_steps
    assert any(e.event == "steer.ack" for e in events)
    done = events[-1].json["data"]
    assert done["status"] == "partial"
    assert done["coverage"]["news"]["state"] == "skipped"
    assert done["coverage"]["news"]["reason"].endswith("skipped at your request")


async def test_cancel_stops_an_answer(chat: tuple[str, ClientConnection]) -> None:
    _, ws = chat
    await ws.send(json.dumps({"type": "cancel", "id": "nothing"}))
    frames = await frames_until(ws, lambda f: f["type"] == "error")
    assert frames[-1]["code"] == "unknown_question"


async def test_other_tabs_see_the_chat_on_the_session_stream(
    chat: tuple[str, ClientConnection], live: httpx.AsyncClient
) -> None:
    session_id, ws = chat
    await ws.send(json.dumps({"type": "question", "id": "q9", "content": "Give me an overview"}))
    await frames_until(ws, lambda f: f["type"] == "answer.end")
    events, _ = await read_stream(live, f"/api/sessions/{session_id}/events", timeout_s=60)
    kinds = [e.event for e in events if e.event in ("chat.question", "answer.end")]
    assert kinds[:2] == ["chat.question", "answer.end"]
    logged = next(e.json["data"] for e in events if e.event == "answer.end")
    assert logged["id"] == "q9" and logged["text"]


async def test_the_http_chat_streams_the_same_answer_events(live: httpx.AsyncClient) -> None:
    session_id = await open_session(live)
    await read_stream(live, f"/api/sessions/{session_id}/events", timeout_s=60)  # let it finish
    async with live.stream(
        "POST",
        f"/api/sessions/{session_id}/questions",
        json={"content": "Who leads Stripe?", "id": "h1"},
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        body = (await response.aread()).decode()
    names = [
        line.removeprefix("event: ") for line in body.splitlines() if line.startswith("event: ")
    ]
    assert names[0] == "answer.start" and "answer.delta" in names and "answer.citation" in names
    assert names[-2:] == ["answer.end", "suggestions"]
    assert "Patrick Collison" in body
    again = await live.post(
        f"/api/sessions/{session_id}/questions", json={"content": "Who leads Stripe?"}
    )
    assert '"basis":"complete"' in again.text or '"basis": "complete"' in again.text
    bad = await live.post(f"/api/sessions/{session_id}/questions", json={"content": ""})
    assert bad.status_code == 422


async def test_a_foreign_origin_is_refused(server: str, live: httpx.AsyncClient) -> None:
    session_id = await open_session(live)
    url = server.replace("http://", "ws://") + f"/ws/sessions/{session_id}/chat"
    with pytest.raises(websockets.exceptions.InvalidStatus):
        async with websockets.connect(url, origin="https://evil.example"):  # type: ignore[arg-type]
            pass
    async with websockets.connect(url, origin=server) as ws:  # type: ignore[arg-type]
        await ws.send(json.dumps({"type": "ping"}))
        assert json.loads(await ws.recv())["type"] in ("suggestions", "pong")


async def test_an_unknown_session_gets_an_error_frame(server: str) -> None:
    async with websockets.connect(
        server.replace("http://", "ws://") + "/ws/sessions/s_nope/chat"
    ) as ws:
        frame = json.loads(await ws.recv())
        assert frame == {"type": "error", "code": "not_found", "message": "no session s_nope"}


class TestWithToken:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        from pydantic import SecretStr

        return settings.model_copy(update={"api_token": SecretStr("sekrit")})

    async def test_a_socket_authenticates_by_query_or_first_frame(self, server: str) -> None:
        headers = {"Authorization": "Bearer sekrit"}
        async with httpx.AsyncClient(base_url=server, headers=headers) as http:
            session_id = (
                await http.post("/api/sessions", json={"account": {"name": "Stripe"}})
            ).json()["session_id"]
        base = server.replace("http://", "ws://") + f"/ws/sessions/{session_id}/chat"
        async with websockets.connect(base + "?access_token=sekrit") as ws:
            assert json.loads(await ws.recv())["type"] == "suggestions"
        async with websockets.connect(base) as ws:
            await ws.send(json.dumps({"type": "auth", "token": "sekrit"}))
            assert json.loads(await ws.recv())["type"] == "suggestions"
        async with websockets.connect(base) as ws:
            await ws.send(json.dumps({"type": "auth", "token": "wrong"}))
            frame = json.loads(await ws.recv())
            assert frame["code"] == "unauthorized"


async def test_an_answer_from_partial_data_cites_what_is_known_and_names_what_is_pending(
    chat: tuple[str, ClientConnection], live: httpx.AsyncClient
) -> None:
    session_id, ws = chat
    async with asyncio.timeout(30):  # wait for the first findings, not for the whole research
        # (polling the snapshot is what a client does)
        while not (await live.get(f"/api/sessions/{session_id}")).json()["findings"]:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    await ws.send(json.dumps({"type": "question", "id": "ov", "content": "Give me an overview"}))
    frames = await frames_until(ws, lambda f: f["type"] == "answer.end" and f["id"] == "ov")
    start = next(f for f in frames if f["type"] == "answer.start")
    cites = {f["finding"] for f in frames if f["type"] == "answer.citation"}
    snapshot = (await live.get(f"/api/sessions/{session_id}")).json()
    assert snapshot["status"] == "running" and start["basis"] == "partial"
    assert start["pending"], "something is still being collected"
    assert cites and cites <= {f["id"] for f in snapshot["findings"]}
    revised = await frames_until(ws, lambda f: f["type"] == "answer.revised" and f["id"] == "ov")
    assert revised[-1]["pending"] == [] or revised[-1]["reason"] == "the research finished"
