"""Sources failing, hanging or slow: retries, partial results, liveness, cancel, join."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from dossier.app import Overrides
from dossier.collectors.replay import ReplayTransport
from dossier.settings import Settings
from tests.sse import read_stream


class ChaosTransport(httpx.AsyncBaseTransport):
    """Replay, except for one host that fails or hangs."""

    def __init__(
        self, host: str, *, status: int | None = None, hang: bool = False, latency_s: float = 0.0
    ) -> None:
        self.replay = ReplayTransport()
        self.host, self.status, self.hang, self.latency_s = host, status, hang, latency_s
        self.hits = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        if request.url.host == self.host:
            self.hits += 1
            if self.hang:
                await asyncio.sleep(3600)
            if self.status is not None:
                return httpx.Response(self.status, text="upstream trouble", request=request)
        return await self.replay.handle_async_request(request)


async def research(client: httpx.AsyncClient, name: str = "Stripe") -> tuple[str, list]:  # type: ignore[type-arg]
    opened = (await client.post("/api/sessions", json={"account": {"name": name}})).json()
    events, _ = await read_stream(client, f"/api/sessions/{opened['session_id']}/events")
    return opened["session_id"], events


class TestFailingSource:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"http_retries": 2, "http_backoff_s": 0.01})

    @pytest.fixture
    def overrides(self) -> Overrides:
        return Overrides(source_transport=ChaosTransport("boards-api.greenhouse.io", status=503))

    async def test_a_failing_source_retries_then_fails_and_the_session_still_completes(
        self, client: httpx.AsyncClient
    ) -> None:
        _, events = await research(client)
        greenhouse = [e for e in events if e.json["step"] == "collect.greenhouse"]
        retrying = [e.json["data"] for e in greenhouse if e.event == "step.retrying"]
        assert [r["attempt"] for r in retrying] == [1, 2]
        assert retrying[0]["error"] == "HTTP 503" and retrying[0]["next_in_s"] >= 0
        assert greenhouse[-1].event == "step.failed"
        assert "503" in greenhouse[-1].json["data"]["error"]
        done = events[-1].json["data"]
        assert events[-1].event == "session.completed"
        assert done["status"] == "partial"
        jobs = done["coverage"]["jobs"]
        assert jobs["state"] == "failed"
        # the other boards were never recorded for Stripe: said as such, not as "no board"
        assert jobs["reason"] == (
            "Greenhouse answered with an error; "
            "Lever, Ashby, SmartRecruiters and Workable not in this demo's recordings"
        )
        assert jobs["sources"]["greenhouse"]["cause"] == "http"
        assert done["coverage"]["news"]["found"] == 7
        news = [
            e for e in events if e.event == "finding" and e.json["data"]["kind"] == "news_article"
        ]
        assert len(news) == 7  # the other sources still delivered


class TestHangingSource:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"collector_timeout_s": 0.5, "progress_beat_s": 0.2})

    @pytest.fixture
    def overrides(self) -> Overrides:
        return Overrides(source_transport=ChaosTransport("hn.algolia.com", hang=True))

    async def test_a_source_that_never_answers_ends_in_step_failed(
        self, client: httpx.AsyncClient
    ) -> None:
        _, events = await research(client)
        hn = [e for e in events if e.json["step"] == "collect.hn"]
        assert hn[-1].event == "step.failed"
        assert "timed out" in hn[-1].json["data"]["error"]
        beats = [e for e in hn if e.event == "step.progress" and e.json["data"].get("beat")]
        assert beats, "a running step sends liveness beats"
        assert events[-1].event == "session.completed"


class TestSlowSources:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"replay_latency_ms": 800, "progress_beat_s": 0.2})

    async def test_liveness_beats_keep_coming_while_a_step_waits(
        self, client: httpx.AsyncClient
    ) -> None:
        _, events = await research(client)
        hn = [e for e in events if e.json["step"] == "collect.hn" and e.event == "step.progress"]
        beats = [e for e in hn if e.json["data"].get("beat")]
        assert len(beats) >= 2
        # a first run has no history of this source: no promise of an ETA (0 once its
        # one request is done)
        assert all(b.json["data"]["eta_s"] in (None, 0.0) for b in beats)

    async def test_opening_a_running_account_joins_it(self, client: httpx.AsyncClient) -> None:
        first = (await client.post("/api/sessions", json={"account": {"name": "Stripe"}})).json()
        second = (
            await client.post("/api/sessions", json={"account": {"name": "stripe inc"}})
        ).json()
        assert second["joined"] is True and second["session_id"] == first["session_id"]
        events, _ = await read_stream(client, f"/api/sessions/{first['session_id']}/events")
        assert [e.event for e in events].count("session.joined") == 1
        assert [e.event for e in events].count("workflow.started") == 2  # no duplicate work

    async def test_cancel_ends_the_session_with_every_open_step_closed(
        self, client: httpx.AsyncClient
    ) -> None:
        opened = (await client.post("/api/sessions", json={"account": {"name": "Stripe"}})).json()
        session_id = opened["session_id"]
        await asyncio.sleep(0.3)
        cancelled = await client.post(f"/api/sessions/{session_id}/cancel")
        assert cancelled.status_code == 202 and cancelled.json()["status"] == "cancelled"
        events, _ = await read_stream(client, f"/api/sessions/{session_id}/events")
        assert events[-1].event == "session.completed"
        assert events[-1].json["data"]["status"] == "cancelled"
        assert [e.event for e in events].count("session.completed") == 1
        again = await client.post(f"/api/sessions/{session_id}/cancel")
        assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
        await asyncio.sleep(1.5)  # whatever was in flight must not add events after the end
        snapshot = (await client.get(f"/api/sessions/{session_id}")).json()
        assert snapshot["status"] == "cancelled"
        assert snapshot["last_seq"] == events[-1].seq
