from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dossier.core.events import Event, NewEvent
from dossier.core.ports import EventLog
from dossier.core.records import SessionRecord
from dossier.core.states import SessionStatus
from dossier.core.types import Account, Vendor
from dossier.errors import NotFound
from dossier.eventlog.sqlite import SqliteEventLog
from tests.fakes import FakeEventLog


def record(
    session_id: str = "s_1", name: str = "Acme", owners: set[str] | None = None
) -> SessionRecord:
    return SessionRecord(
        session_id=session_id,
        account=Account(name=name),
        vendor=Vendor(name="Us"),
        status=SessionStatus.RUNNING,
        created_at="2026-11-25T10:00:00.000Z",
        owners=owners or {"local"},
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration), "fake"])
async def log(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[EventLog]:
    """The same contract, on both implementations (PostgreSQL: the real local server),
    and on the tests' in-memory fake, which must not promise what the real ones do not."""
    if request.param == "fake":
        fake: EventLog = FakeEventLog()
        await fake.create_session(record())
        yield fake
        return
    if request.param == "sqlite":
        event_log: EventLog = SqliteEventLog(tmp_path / "log.sqlite")
        await event_log.start()
        await event_log.create_session(record())
        yield event_log
        await event_log.close()
        return
    import uuid

    import psycopg

    from dossier.eventlog.postgres import PostgresEventLog

    name = f"dossier_log_{uuid.uuid4().hex[:10]}"
    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    event_log = PostgresEventLog(f"postgresql://postgres@127.0.0.1:5432/{name}")
    await event_log.start()
    await event_log.create_session(record())
    yield event_log
    await event_log.close()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_seqs_are_gap_free_under_concurrent_appends(log: EventLog) -> None:
    async def writer(i: int) -> list[Event]:
        return await log.append(
            "s_1", [NewEvent(type="finding", data={"w": i, "k": k}) for k in range(5)]
        )

    results = await asyncio.gather(*(writer(i) for i in range(40)))
    seqs = sorted(e.seq for batch in results for e in batch)
    assert seqs == list(range(1, 201))
    for batch in results:  # each append is contiguous: one transaction
        assert [e.seq for e in batch] == list(range(batch[0].seq, batch[0].seq + 5))
    assert await log.last_seq("s_1") == 200


async def test_dedup_keys_make_appends_idempotent(log: EventLog) -> None:
    first = await log.append(
        "s_1", [NewEvent(type="step.started", dedup="w:s:started"), NewEvent(type="x")]
    )
    again = await log.append(
        "s_1", [NewEvent(type="step.started", dedup="w:s:started"), NewEvent(type="y", dedup="k")]
    )
    assert [e.seq for e in first] == [1, 2]
    assert [(e.seq, e.type) for e in again] == [(3, "y")]
    within = await log.append("s_1", [NewEvent(type="z", dedup="d"), NewEvent(type="z", dedup="d")])
    assert [e.seq for e in within] == [4]


async def test_read_after_replays_exactly_the_events_after_an_id(log: EventLog) -> None:
    await log.append(
        "s_1", [NewEvent(type="finding", data={"i": i}, workflow="w") for i in range(10)]
    )
    events = await log.read_after("s_1", 4, limit=3)
    assert [e.seq for e in events] == [5, 6, 7]
    assert events[0].data == {"i": 4}
    assert events[0].workflow == "w"
    assert (await log.read_after("s_1", 10)) == []


async def test_terminal_seq_finds_the_session_and_workflow_ends(log: EventLog) -> None:
    assert await log.terminal_seq("s_1") is None
    await log.append(
        "s_1",
        [
            NewEvent(
                type="workflow.completed", workflow="vendor_context", dedup="vendor_context:end"
            ),
            NewEvent(type="session.completed"),
        ],
    )
    assert await log.terminal_seq("s_1") == 2
    assert await log.terminal_seq("s_1", "vendor_context") == 1
    assert await log.terminal_seq("s_1", "customer_intelligence") is None


async def test_unknown_sessions_are_not_found(log: EventLog) -> None:
    with pytest.raises(NotFound):
        await log.append("nope", [NewEvent(type="x")])
    with pytest.raises(NotFound):
        await log.last_seq("nope")
    assert await log.get_session("nope") is None


async def test_the_log_survives_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite"
    first = SqliteEventLog(path)
    await first.start()
    await first.create_session(record())
    await first.append("s_1", [NewEvent(type="a"), NewEvent(type="b")])
    await first.close()
    second = SqliteEventLog(path)
    await second.start()
    assert [e.type for e in await second.read_after("s_1", 0)] == ["a", "b"]
    appended = await second.append("s_1", [NewEvent(type="c")])
    assert appended[0].seq == 3
    await second.close()


async def test_sessions_are_found_by_account_and_owner(log: EventLog) -> None:
    await log.create_session(record("s_2", "Other Co", owners={"p_a"}))
    running = await log.find_running("acme", Vendor(name="Us").hash)
    assert running is not None and running.session_id == "s_1"
    await log.set_status("s_1", SessionStatus.COMPLETED)
    assert await log.find_running("acme", Vendor(name="Us").hash) is None
    await log.add_owner("s_2", "p_b")
    stored = await log.get_session("s_2")
    assert stored is not None and stored.owners == {"p_a", "p_b"}
    mine = await log.list_sessions(owner="p_b", account_key=None, limit=10)
    assert [r.session_id for r in mine] == ["s_2"]
    everyone = await log.list_sessions(owner=None, account_key="acme", limit=10)
    assert [r.session_id for r in everyone] == ["s_1"]


async def test_committed_events_are_delivered_in_order_before_append_returns(
    tmp_path: Path,
) -> None:
    seen: list[int] = []
    event_log = SqliteEventLog(
        tmp_path / "log.sqlite", on_logged=lambda evs: seen.extend(e.seq for e in evs)
    )
    await event_log.start()
    await event_log.create_session(record())
    appended = await event_log.append("s_1", [NewEvent(type="a"), NewEvent(type="b")])
    assert seen == [e.seq for e in appended] == [1, 2]
    await event_log.close()


async def test_after_the_session_completed_only_the_chat_may_append(log: EventLog) -> None:
    await log.append("s_1", [NewEvent(type="session.completed", dedup="session:completed")])
    late = await log.append(
        "s_1",
        [
            NewEvent(type="finding", data={"late": True}),
            NewEvent(type="chat.question", data={"id": "q1"}),
            NewEvent(type="step.completed", workflow="w", step="s"),
            NewEvent(type="answer.end", data={"id": "q1"}),
        ],
    )
    assert [(e.seq, e.type) for e in late] == [(2, "chat.question"), (3, "answer.end")]
