"""Two tokens, one research: joining shares the collection, never the conversation.

Alice researches "NVIDIA"; Bob opens "Nvidia Corp" while it runs and joins her session.
Bob sees the research and his own chat only (snapshot, export, event stream, socket,
HTTP chat), may not steer, and his cancel only detaches him. Question ids are one turn
each (a reused one is refused) and a principal's questions per session are capped.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets
from pydantic import SecretStr
from websockets.asyncio.client import ClientConnection

from dossier.app import Overrides
from dossier.client import Client
from dossier.settings import Settings
from tests.fakes import FakeEngine

SECRET = "Is our renewal with them at risk? (alice-only)"
ALICE = {"Authorization": "Bearer alice-token"}
BOB = {"Authorization": "Bearer bob-token"}


@pytest.fixture
def overrides() -> Overrides:
    # Workflows that never start: the research stays running while the test works.
    return Overrides(engine=FakeEngine())


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"api_token": SecretStr("alice-token,bob-token")})


async def frames_until(ws: ClientConnection, stop: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    async with asyncio.timeout(30):
        while True:
            frame = json.loads(await ws.recv())
            out.append(frame)
            if stop(frame):
                return out


def chat_url(server: str, session_id: str, token: str) -> str:
    base = server.replace("http://", "ws://")
    return f"{base}/ws/sessions/{session_id}/chat?access_token={token}"


async def raw_stream(
    http: httpx.AsyncClient, session_id: str, until_id: int, *, after: int = 0
) -> str:
    """The event stream's text until the line ``id: until_id`` (the session still runs)."""
    headers = {"Last-Event-ID": str(after)} if after else {}
    text = ""
    async with asyncio.timeout(30):
        async with http.stream(
            "GET", f"/api/sessions/{session_id}/events", headers=headers
        ) as response:
            assert response.status_code == 200
            async for chunk in response.aiter_text():
                text += chunk
                if f"id: {until_id}\n" in text and text.endswith("\n\n"):
                    return text
    raise AssertionError("the stream ended early")


@pytest.fixture
async def two(server: str) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    async with (
        httpx.AsyncClient(base_url=server, headers=ALICE, timeout=30) as alice,
        httpx.AsyncClient(base_url=server, headers=BOB, timeout=30) as bob,
    ):
        yield alice, bob


async def test_bob_joins_alices_research_and_sees_only_his_own_chat(
    server: str, two: tuple[httpx.AsyncClient, httpx.AsyncClient]
) -> None:
    alice, bob = two
    mine = (await alice.post("/api/sessions", json={"account": {"name": "NVIDIA"}})).json()
    theirs = (await bob.post("/api/sessions", json={"account": {"name": "Nvidia Corp"}})).json()
    assert theirs["joined"] is True and theirs["session_id"] == mine["session_id"]
    session_id = mine["session_id"]

    async with websockets.connect(chat_url(server, session_id, "alice-token")) as ws:
        await ws.send(json.dumps({"type": "question", "id": "qa", "content": SECRET}))
        await frames_until(ws, lambda f: f["type"] == "answer.end")
    async with websockets.connect(chat_url(server, session_id, "bob-token")) as ws:
        await ws.send(json.dumps({"type": "question", "id": "qb", "content": "Who is the CEO?"}))
        bob_frames = await frames_until(ws, lambda f: f["type"] == "answer.end")
        # Alice's id is taken: refused, her turn untouched
        await ws.send(json.dumps({"type": "question", "id": "qa", "content": "overwrite?"}))
        bob_frames += await frames_until(ws, lambda f: f["type"] == "error")
        assert bob_frames[-1] == {
            "type": "error",
            "code": "duplicate_id",
            "message": bob_frames[-1]["message"],
            "id": "qa",
        }
        # and he may not steer her research
        await ws.send(json.dumps({"type": "steer", "id": "c1", "action": "skip", "target": "jobs"}))
        bob_frames += await frames_until(ws, lambda f: f["type"] == "error")
        assert bob_frames[-1]["code"] == "forbidden"
    assert SECRET not in json.dumps(bob_frames)

    # the HTTP chat refuses a used id with a 409 in the API's error shape, for anyone
    for http in (alice, bob):
        again = await http.post(
            f"/api/sessions/{session_id}/questions", json={"id": "qa", "content": "again?"}
        )
        assert again.status_code == 409 and again.json()["error"]["code"] == "duplicate_id"
    asked = await bob.post(
        f"/api/sessions/{session_id}/questions",
        json={"id": "qh", "content": "What is new with them?", "wait_for_revision": False},
    )
    assert asked.status_code == 200 and SECRET not in asked.text

    # snapshot and export: the research is shared, the chat is each one's own
    bob_view = (await bob.get(f"/api/sessions/{session_id}")).json()
    alice_view = (await alice.get(f"/api/sessions/{session_id}")).json()
    assert [t["id"] for t in bob_view["chat"]] == ["qb", "qh"]
    assert [t["id"] for t in alice_view["chat"]] == ["qa"]
    assert alice_view["chat"][0]["question"] == SECRET
    assert alice_view["chat"][0]["answer"]["text"]  # her answer, not overwritten
    assert bob_view["last_seq"] == alice_view["last_seq"]
    for fmt in ("md", "json"):
        exported = await bob.get(f"/api/sessions/{session_id}/export", params={"format": fmt})
        assert exported.status_code == 200
        assert SECRET not in exported.text and "Who is the CEO?" in exported.text
    mine_md = await alice.get(f"/api/sessions/{session_id}/export", params={"format": "md"})
    assert SECRET in mine_md.text and "Who is the CEO?" not in mine_md.text

    # the event stream: Bob's turns, and a bare id for each of Alice's chat events
    last = bob_view["last_seq"]
    text = await raw_stream(bob, session_id, last)
    assert SECRET not in text and "Who is the CEO?" in text
    ids = [int(line[4:]) for line in text.splitlines() if line.startswith("id: ")]
    assert ids == list(range(1, last + 1))  # every seq accounted for, in order
    hidden = [i for i in ids if f"id: {i}\n\n" in text]
    assert hidden  # Alice's question and answer
    # resuming just before one of hers: the same view from the log, no more, no less
    resumed = await raw_stream(bob, session_id, last, after=hidden[0] - 1)
    tail = text[text.index(f"id: {hidden[0]}\n\n") :]
    assert resumed.removeprefix(": connected\n\n") == tail
    # the Python client reads it as one gap-free stream
    async with Client(server, token="bob-token") as client:
        seen = []
        async with asyncio.timeout(30):
            async for event in client.events(session_id):
                seen.append(event)
                if event.seq >= max(i for i in ids if i not in hidden):
                    break
    assert SECRET not in json.dumps([e.to_dict() for e in seen])
    assert {e.seq for e in seen}.isdisjoint(hidden)
    alice_text = await raw_stream(alice, session_id, last)
    assert SECRET in alice_text and "Who is the CEO?" not in alice_text

    # listing: each their own sessions (Bob's includes the one he joined)
    other = (await alice.post("/api/sessions", json={"account": {"name": "Stripe"}})).json()
    bob_list = (await bob.get("/api/sessions")).json()["sessions"]
    alice_list = (await alice.get("/api/sessions")).json()["sessions"]
    assert [s["session_id"] for s in bob_list] == [session_id]
    assert {s["session_id"] for s in alice_list} == {session_id, other["session_id"]}

    # control: Bob may not steer; his cancel detaches him; the research runs on for Alice
    steer = await bob.post(
        f"/api/sessions/{session_id}/steer", json={"action": "skip", "target": "jobs"}
    )
    assert steer.status_code == 403 and steer.json()["error"]["code"] == "forbidden"
    left = await bob.post(f"/api/sessions/{session_id}/cancel")
    assert left.status_code == 202
    assert left.json() == {"session_id": session_id, "status": "running", "detached": True}
    assert (await alice.get(f"/api/sessions/{session_id}")).json()["status"] == "running"
    assert (await bob.get(f"/api/sessions/{session_id}")).status_code == 404
    assert (await bob.get("/api/sessions")).json()["sessions"] == []
    ended = await alice.post(f"/api/sessions/{session_id}/cancel")
    assert ended.json() == {"session_id": session_id, "status": "cancelled", "detached": False}


class TestCaps:
    """One principal (no token): the caps and the duplicate refusal hold there too."""

    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"max_chat_turns": 2, "api_token": None})

    async def test_questions_per_session_are_capped_and_oversized_ones_refused(
        self, server: str, live: httpx.AsyncClient
    ) -> None:
        session_id = (
            await live.post("/api/sessions", json={"account": {"name": "NVIDIA"}})
        ).json()["session_id"]
        url = f"/api/sessions/{session_id}/questions"
        body = {"content": "Who is the CEO?", "wait_for_revision": False}
        assert (await live.post(url, json={**body, "id": "h1"})).status_code == 200
        same = await live.post(url, json={**body, "id": "h1"})
        assert same.status_code == 409 and same.json()["error"]["code"] == "duplicate_id"
        too_long = await live.post(url, json={**body, "content": "x" * 2001})
        assert too_long.status_code == 422
        ws_url = server.replace("http://", "ws://") + f"/ws/sessions/{session_id}/chat"
        async with websockets.connect(ws_url) as ws:
            await ws.send(json.dumps({"type": "question", "id": "w0", "content": "y" * 2001}))
            refused = await frames_until(ws, lambda f: f["type"] == "error")
            assert refused[-1]["code"] == "invalid_input" and refused[-1]["id"] == "w0"
            await ws.send(json.dumps({"type": "question", "id": "w1", "content": "Who?"}))
            await frames_until(ws, lambda f: f["type"] == "answer.end")
            await ws.send(json.dumps({"type": "question", "id": "w2", "content": "Who?"}))
            capped = await frames_until(ws, lambda f: f["type"] == "error")
            assert capped[-1]["code"] == "too_many_turns" and capped[-1]["id"] == "w2"
        over = await live.post(url, json={**body, "id": "h3"})
        assert over.status_code == 409 and over.json()["error"]["code"] == "too_many_turns"
        chat = (await live.get(f"/api/sessions/{session_id}")).json()["chat"]
        assert [t["id"] for t in chat] == ["h1", "w1"]


async def test_a_member_who_leaves_is_let_go_from_the_stream_and_chat_he_had_open(
    server: str, two: tuple[httpx.AsyncClient, httpx.AsyncClient]
) -> None:
    alice, bob = two
    session_id = (await alice.post("/api/sessions", json={"account": {"name": "NVIDIA"}})).json()[
        "session_id"
    ]
    joined = (await bob.post("/api/sessions", json={"account": {"name": "Nvidia Corp"}})).json()
    assert joined["joined"] is True

    async def bob_stream() -> str:
        text = ""
        with pytest.raises(httpx.HTTPError):  # reset by the server: he is no longer a member
            async with bob.stream(
                "GET", f"/api/sessions/{session_id}/events?follow=true"
            ) as response:
                assert response.status_code == 200
                async for chunk in response.aiter_text():
                    text += chunk
        return text

    async def alice_stream() -> str:
        text = ""
        async with alice.stream(
            "GET", f"/api/sessions/{session_id}/events?follow=true"
        ) as response:
            async for chunk in response.aiter_text():
                text += chunk
                if "session.completed" in text:
                    return text
        return text

    async with websockets.connect(chat_url(server, session_id, "bob-token")) as ws:
        await frames_until(ws, lambda f: f["type"] == "suggestions")
        streaming = asyncio.create_task(bob_stream())
        watching = asyncio.create_task(alice_stream())
        await asyncio.sleep(0.3)  # both streams are open
        left = await bob.post(f"/api/sessions/{session_id}/cancel")
        assert left.json()["detached"] is True
        told = await frames_until(ws, lambda f: f["type"] == "error")
        assert told[-1]["code"] == "forbidden" and "you left this session" in told[-1]["message"]
        async with asyncio.timeout(10):
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        async with asyncio.timeout(10):
            await streaming
    # Alice's stream is untouched: it goes on to her own cancel's end.
    assert not watching.done()
    await alice.post(f"/api/sessions/{session_id}/cancel")
    async with asyncio.timeout(10):
        assert "session.completed" in await watching
    # and Bob cannot come back in
    again = await bob.get(f"/api/sessions/{session_id}/events")
    assert again.status_code == 404
