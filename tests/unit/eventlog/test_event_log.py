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
    else:
        from dossier.eventlog.postgres import PostgresEventLog

        event_log = PostgresEventLog(request.getfixturevalue("pg_url"))
    await event_log.start()
    await event_log.create_session(record())
    yield event_log
    await event_log.close()


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


async def test_members_who_joined_are_listed_apart_from_owners_and_can_leave(
    log: EventLog,
) -> None:
    await log.create_session(record("s_2", "Other Co", owners={"p_a"}))
    await log.add_member("s_2", "p_b")
    await log.add_member("s_2", "p_b")  # joining twice is one membership
    stored = await log.get_session("s_2")
    assert stored is not None and stored.owners == {"p_a"} and stored.members == {"p_b"}
    for principal in ("p_a", "p_b"):
        mine = await log.list_sessions(owner=principal, account_key=None, limit=10)
        assert [r.session_id for r in mine] == ["s_2"]
    assert await log.list_sessions(owner="p_c", account_key=None, limit=10) == []
    await log.remove_member("s_2", "p_b")
    await log.remove_member("s_2", "p_a")  # not a member: owners are not touched
    stored = await log.get_session("s_2")
    assert stored is not None and stored.owners == {"p_a"} and stored.members == set()
    assert await log.list_sessions(owner="p_b", account_key=None, limit=10) == []


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


async def test_appends_batched_together_fail_only_where_they_fail(log: EventLog) -> None:
    results = await asyncio.gather(
        log.append("s_1", [NewEvent(type="a")]),
        log.append("nope", [NewEvent(type="x")]),
        log.append("s_1", [NewEvent(type="b"), NewEvent(type="c")]),
        return_exceptions=True,
    )
    assert isinstance(results[1], NotFound)
    logged = [r for r in results if not isinstance(r, BaseException)]
    assert [[(e.seq, e.type) for e in batch] for batch in logged] == [
        [(1, "a")],
        [(2, "b"), (3, "c")],
    ]
    assert [e.type for e in await log.read_after("s_1", 0)] == ["a", "b", "c"]


async def test_dedup_and_the_closed_log_rule_hold_across_appends_batched_together(
    log: EventLog,
) -> None:
    results = await asyncio.gather(
        log.append("s_1", [NewEvent(type="step.started", dedup="w:s:started")]),
        log.append("s_1", [NewEvent(type="step.started", dedup="w:s:started"), NewEvent(type="x")]),
        log.append("s_1", [NewEvent(type="session.completed", dedup="session:completed")]),
        log.append(
            "s_1", [NewEvent(type="finding"), NewEvent(type="chat.question", data={"id": "q"})]
        ),
    )
    assert [[(e.seq, e.type) for e in batch] for batch in results] == [
        [(1, "step.started")],
        [(2, "x")],
        [(3, "session.completed")],
        [(4, "chat.question")],
    ]
    assert await log.terminal_seq("s_1") == 3
    assert await log.last_seq("s_1") == 4


async def test_concurrent_appends_are_published_in_seq_order_before_each_returns(
    log: EventLog,
) -> None:
    published: list[int] = []
    log.set_on_logged(lambda events: published.extend(e.seq for e in events))

    async def writer(i: int) -> None:
        appended = await log.append(
            "s_1", [NewEvent(type="finding", data={"i": i, "k": k}) for k in range(3)]
        )
        assert set(e.seq for e in appended) <= set(published)

    await asyncio.gather(*(writer(i) for i in range(20)))
    assert published == list(range(1, 61))


@pytest.mark.integration
async def test_postgres_groups_spanning_the_same_sessions_in_two_processes_never_deadlock(
    pg_url: str,
) -> None:
    from dossier.eventlog.postgres import PostgresEventLog

    # Two logs on one database stand for two processes; each round is one group over both
    # sessions, the two processes naming them in opposite orders.
    first, second = PostgresEventLog(pg_url), PostgresEventLog(pg_url)
    await first.start()
    await second.start()
    await first.create_session(record("s_1"))
    await first.create_session(record("s_2", "Other Co"))

    async def rounds(event_log: EventLog, order: list[str]) -> None:
        for i in range(30):
            await asyncio.gather(
                *(event_log.append(s, [NewEvent(type="finding", data={"i": i})]) for s in order)
            )

    try:
        await asyncio.gather(rounds(first, ["s_1", "s_2"]), rounds(second, ["s_2", "s_1"]))
        assert await first.last_seq("s_1") == await first.last_seq("s_2") == 60
    finally:
        await first.close()
        await second.close()


@pytest.mark.integration
async def test_postgres_an_append_the_database_refuses_fails_alone_in_its_group(
    pg_url: str,
) -> None:
    import psycopg

    from dossier.eventlog.postgres import PostgresEventLog

    event_log = PostgresEventLog(pg_url)
    await event_log.start()
    try:
        await event_log.create_session(record())
        await event_log.create_session(record("s_2", "Other Co"))
        results = await asyncio.gather(
            event_log.append("s_2", [NewEvent(type="a")]),
            event_log.append("s_1", [NewEvent(type="b", dedup="a NUL \x00 byte")]),
            event_log.append("s_1", [NewEvent(type="c")]),
            return_exceptions=True,
        )
        assert isinstance(results[1], psycopg.DataError)  # what it was before group commit
        logged = [r for r in results if not isinstance(r, BaseException)]
        assert [[(e.session, e.seq, e.type) for e in batch] for batch in logged] == [
            [("s_2", 1, "a")],
            [("s_1", 1, "c")],
        ]
        assert [e.type for e in await event_log.read_after("s_1", 0)] == ["c"]
        assert await event_log.last_seq("s_2") == 1
    finally:
        await event_log.close()


@pytest.mark.integration
async def test_postgres_an_append_the_server_refuses_mid_pipeline_fails_alone_in_its_group(
    pg_url: str,
) -> None:
    import secrets

    import psycopg

    from dossier.eventlog.postgres import PostgresEventLog

    # Refused by the server, not the driver: only the pipeline's last round trip hears it.
    too_long_for_its_index = secrets.token_urlsafe(9000)
    event_log = PostgresEventLog(pg_url)
    await event_log.start()
    try:
        await event_log.create_session(record())
        await event_log.create_session(record("s_2", "Other Co"))
        results = await asyncio.gather(
            event_log.append("s_1", [NewEvent(type="a", dedup="k1")]),
            event_log.append("s_2", [NewEvent(type="b", dedup=too_long_for_its_index)]),
            event_log.append("s_1", [NewEvent(type="a again", dedup="k1"), NewEvent(type="c")]),
            return_exceptions=True,
        )
        assert isinstance(results[1], psycopg.errors.ProgramLimitExceeded)
        logged = [r for r in results if not isinstance(r, BaseException)]
        assert [[(e.session, e.seq, e.type) for e in batch] for batch in logged] == [
            [("s_1", 1, "a")],
            [("s_1", 2, "c")],  # the dedup of the group still held in the retry
        ]
        assert [e.type for e in await event_log.read_after("s_1", 0)] == ["a", "c"]
        assert await event_log.last_seq("s_2") == 0
        # and the connection it happened on serves the next append
        for _ in range(3):
            await event_log.append("s_2", [NewEvent(type="d")])
        assert await event_log.last_seq("s_2") == 3
    finally:
        await event_log.close()
