"""SessionService with a fake engine: open, join, serve from cache, cancel, steer, access."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dossier.core.events import EventType, NewEvent
from dossier.core.feed import FeedHub
from dossier.core.live import LiveStates
from dossier.core.sessions import CreateSession, SessionService, SteerCommand
from dossier.core.states import SessionStatus
from dossier.core.types import Account, Vendor
from dossier.errors import Conflict, Forbidden, InvalidInput, NotFound
from dossier.eventlog.sqlite import SqliteEventLog
from tests.fakes import FakeEngine

Wired = tuple[SessionService, FakeEngine, SqliteEventLog]


@pytest.fixture
async def wired(tmp_path: Path) -> AsyncIterator[Wired]:
    log = SqliteEventLog(tmp_path / "log.sqlite")
    await log.start()
    hub = FeedHub(log, window=100, heartbeat_s=60)
    log.set_on_logged(hub.deliver)
    runner = asyncio.create_task(hub.run())
    engine = FakeEngine()
    service = SessionService(
        log,
        engine,
        LiveStates(hub, log),
        default_vendor=Vendor(name="Acme Analytics"),
        auth_enabled=True,
        steer_targets=frozenset({"jobs", "news", "greenhouse"}),
    )
    yield service, engine, log
    runner.cancel()
    await log.close()


def request(name: str = "Stripe", **extra: object) -> CreateSession:
    return CreateSession.model_validate({"account": {"name": name}, **extra})


async def test_a_new_account_starts_its_workflows(wired: Wired) -> None:
    service, engine, log = wired
    opened = await service.open(request(), "p_alice")
    assert not opened.joined and not opened.cached and opened.status is SessionStatus.RUNNING
    assert engine.started == [opened.session_id]
    events = await log.read_after(opened.session_id, 0)
    assert [e.type for e in events] == [EventType.SESSION_CREATED]
    assert events[0].data["vendor"]["name"] == "Acme Analytics"  # the default vendor


async def test_the_same_account_joins_the_running_session(wired: Wired) -> None:
    service, engine, log = wired
    first = await service.open(request("Stripe"), "p_alice")
    again = await service.open(request("stripe, inc."), "p_bob")
    refreshed = await service.open(request("STRIPE", refresh=True), "p_carol")
    assert again.joined and again.session_id == first.session_id
    assert refreshed.joined and refreshed.session_id == first.session_id  # live work already
    assert engine.started == [first.session_id]
    record = await service.record(first.session_id, "p_bob")
    assert record.owners == {"p_alice"} and record.members == {"p_bob", "p_carol"}
    joins = [
        e for e in await log.read_after(first.session_id, 0) if e.type == EventType.SESSION_JOINED
    ]
    assert len(joins) == 2


async def test_another_vendor_is_another_session(wired: Wired) -> None:
    service, _, _ = wired
    ours = await service.open(request(), "p_alice")
    theirs = await service.open(request(vendor={"name": "Other Co"}), "p_alice")
    assert theirs.session_id != ours.session_id and not theirs.joined


async def test_concurrent_opens_of_one_account_make_one_session(wired: Wired) -> None:
    service, engine, _ = wired
    results = await asyncio.gather(*(service.open(request(), f"p_{i}") for i in range(10)))
    assert len({r.session_id for r in results}) == 1
    assert sum(not r.joined for r in results) == 1
    assert len(engine.started) == 1


async def test_a_fresh_cached_result_is_served_at_once(wired: Wired) -> None:
    service, engine, log = wired
    engine.cached = [
        NewEvent(type=EventType.WORKFLOW_STARTED, workflow="customer_intelligence"),
        NewEvent(type=EventType.SESSION_COMPLETED, data={"status": "completed", "cached": True}),
    ]
    opened = await service.open(request(), "p_alice")
    assert opened.cached and opened.status is SessionStatus.COMPLETED
    assert engine.started == []
    types = [e.type for e in await log.read_after(opened.session_id, 0)]
    assert types == [
        EventType.SESSION_CREATED,
        EventType.WORKFLOW_STARTED,
        EventType.SESSION_COMPLETED,
    ]
    snapshot = await service.snapshot(opened.session_id, "p_alice")
    assert snapshot["cached"] is True and snapshot["status"] == "completed"


async def test_sessions_are_visible_only_to_their_owners(wired: Wired) -> None:
    service, _, _ = wired
    opened = await service.open(request(), "p_alice")
    with pytest.raises(NotFound):
        await service.snapshot(opened.session_id, "p_mallory")
    assert [r.session_id for r in await service.list("p_alice")] == [opened.session_id]
    assert await service.list("p_mallory") == []


async def test_cancel_closes_the_session_once(wired: Wired) -> None:
    service, engine, log = wired
    opened = await service.open(request(), "p_alice")
    done = await service.cancel(opened.session_id, "p_alice")
    assert done.status is SessionStatus.CANCELLED and not done.detached
    assert engine.cancelled == [opened.session_id]
    last = (await log.read_after(opened.session_id, 0))[-1]
    assert last.type == EventType.SESSION_COMPLETED and last.data["status"] == "cancelled"
    with pytest.raises(Conflict):
        await service.cancel(opened.session_id, "p_alice")
    with pytest.raises(Conflict):
        await service.steer(opened.session_id, "p_alice", SteerCommand(action="stop_and_summarize"))


async def test_steering_is_validated_acknowledged_and_handed_to_the_engine(wired: Wired) -> None:
    service, _engine, log = wired
    opened = await service.open(request(), "p_alice")
    with pytest.raises(InvalidInput):
        await service.steer(opened.session_id, "p_alice", SteerCommand(action="skip"))
    with pytest.raises(InvalidInput):
        await service.steer(
            opened.session_id, "p_alice", SteerCommand(action="focus", target="weather")
        )
    ack = await service.steer(
        opened.session_id, "p_alice", SteerCommand(action="skip", target="jobs", id="s1")
    )
    # nothing is collecting yet (the fake engine starts nothing): jobs will not start
    assert ack == {
        "id": "s1",
        "action": "skip",
        "target": "jobs",
        "applies_at": "now",
        "message": "Skipping jobs: it will not be collected.",
    }
    # the logged ack is the command (the steering board hears it from the log)
    last = (await log.read_after(opened.session_id, 0))[-1]
    assert last.type == EventType.STEER_ACK
    assert (last.data["action"], last.data["target"]) == ("skip", "jobs")


async def test_who_joined_shares_the_research_but_not_the_owners_chat_or_control(
    wired: Wired,
) -> None:
    service, engine, log = wired
    mine = await service.open(request("NVIDIA"), "p_alice")
    theirs = await service.open(request("Nvidia Corp"), "p_bob")
    assert theirs.joined and theirs.session_id == mine.session_id
    session_id = mine.session_id
    await log.append(
        session_id,
        [
            NewEvent(
                EventType.CHAT_QUESTION, {"id": "qa", "content": "secret", "asker": "p_alice"}
            ),
            NewEvent(EventType.CHAT_QUESTION, {"id": "qb", "content": "mine", "asker": "p_bob"}),
        ],
    )
    assert [t["id"] for t in (await service.snapshot(session_id, "p_alice"))["chat"]] == ["qa"]
    assert [t["id"] for t in (await service.snapshot(session_id, "p_bob"))["chat"]] == ["qb"]
    # listing: each sees their own, nobody else's
    other = await service.open(request("Stripe"), "p_alice")
    assert {r.session_id for r in await service.list("p_alice")} == {session_id, other.session_id}
    assert [r.session_id for r in await service.list("p_bob")] == [session_id]
    assert await service.list("p_carol") == []
    # a member may not steer; their cancel detaches them and the research runs on
    with pytest.raises(Forbidden):
        await service.steer(session_id, "p_bob", SteerCommand(action="skip", target="jobs"))
    left = await service.cancel(session_id, "p_bob")
    assert left.detached and left.status is SessionStatus.RUNNING
    assert engine.cancelled == []
    assert (await service.record(session_id, "p_alice")).status is SessionStatus.RUNNING
    with pytest.raises(NotFound):
        await service.snapshot(session_id, "p_bob")
    assert await service.list("p_bob") == []
    assert not any(
        e.type == EventType.SESSION_COMPLETED for e in await log.read_after(session_id, 0)
    )
    # the owner still steers and cancels it
    await service.steer(session_id, "p_alice", SteerCommand(action="skip", target="jobs"))
    assert (await service.cancel(session_id, "p_alice")).status is SessionStatus.CANCELLED


async def test_opening_your_own_running_session_again_keeps_you_its_owner(wired: Wired) -> None:
    service, _, _ = wired
    first = await service.open(request(), "p_alice")
    again = await service.open(request(), "p_alice")
    assert again.joined and again.session_id == first.session_id
    record = await service.record(first.session_id, "p_alice")
    assert record.owners == {"p_alice"} and record.members == set()


def test_the_account_in_a_request_is_validated() -> None:
    with pytest.raises(ValueError):
        CreateSession.model_validate({"account": {"name": "Stripe", "cik": "abc"}})
    assert Account(name="Stripe").key == "stripe"


# -- liveness: a join never attaches to a session nothing will finish


async def test_a_session_nothing_will_finish_is_ended_and_a_new_one_starts(wired: Wired) -> None:
    service, engine, log = wired
    stuck = await service.open(request("Stripe"), "local")
    engine.stuck.add(stuck.session_id)
    fresh = await service.open(request("Stripe, Inc.", refresh=True), "local")
    assert not fresh.joined and fresh.session_id != stuck.session_id
    assert engine.started == [stuck.session_id, fresh.session_id]
    ended = await service.record(stuck.session_id, "local")
    assert ended.status is SessionStatus.FAILED
    [end] = [e for e in await log.read_after(stuck.session_id, 0) if e.type == "session.completed"]
    assert end.data["status"] == "failed" and "nothing was left to run them" in end.data["error"]
    again = await service.open(request("stripe"), "local")  # the new one is live: joined
    assert again.joined and again.session_id == fresh.session_id


async def test_a_live_session_is_joined(wired: Wired) -> None:
    service, _, log = wired
    first = await service.open(request("Stripe"), "local")
    again = await service.open(request("Stripe"), "local")
    assert again.joined and again.session_id == first.session_id
    types = [e.type for e in await log.read_after(first.session_id, 0)]
    assert EventType.SESSION_COMPLETED not in types
