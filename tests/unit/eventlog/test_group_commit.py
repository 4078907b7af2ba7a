from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from dossier.errors import Unavailable
from dossier.eventlog.group_commit import GroupCommit, Op


class Bad(Exception):
    """What the fake store raises for work it refuses."""


class FakeStore:
    """A commit callable that records its batches; work is a string, the result its upper case.

    ``"bad…"`` fails its own op, ``"silent…"`` gets no outcome, and ``gate`` (when set)
    holds each commit until opened, to have work arrive while a batch is in flight.
    """

    def __init__(self, *, raise_for_batch: BaseException | None = None) -> None:
        self.batches: list[list[str]] = []
        self.journal: list[str] = []  # what happened, in order, across store and callers
        self.raise_for_batch = raise_for_batch
        self.gate: asyncio.Event | None = None
        self.entered = asyncio.Event()  # set once a commit has started
        self.in_flight = 0
        self.max_in_flight = 0
        self.loops: list[asyncio.AbstractEventLoop] = []

    async def commit(self, batch: Sequence[Op[str, str]]) -> None:
        self.loops.append(asyncio.get_running_loop())
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            self.batches.append([op.work for op in batch])
            self.entered.set()
            if self.gate is not None:
                await self.gate.wait()
            if self.raise_for_batch is not None:
                raise self.raise_for_batch
            for op in batch:
                if op.work.startswith("bad"):
                    op.fail(Bad(op.work))
                elif not op.work.startswith("silent"):
                    op.succeed(op.work.upper())
            self.journal.append(f"committed {','.join(op.work for op in batch)}")
        finally:
            self.in_flight -= 1


async def submit_all(
    engine: GroupCommit[str, str], works: Sequence[str]
) -> list[str | BaseException]:
    results = await asyncio.gather(*(engine.submit(w) for w in works), return_exceptions=True)
    return list(results)


def writer_tasks() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name() == "dossier-group-commit"]


async def test_work_submitted_together_shares_one_commit_in_submission_order() -> None:
    store = FakeStore()
    engine: GroupCommit[str, str] = GroupCommit(store.commit)
    results = await submit_all(engine, ["a", "b", "c", "d"])
    assert store.batches == [["a", "b", "c", "d"]]
    assert results == ["A", "B", "C", "D"]  # each caller gets its own op's result


async def test_a_burst_is_split_into_batches_of_at_most_max_batch_ops() -> None:
    store = FakeStore()
    engine: GroupCommit[str, str] = GroupCommit(store.commit, max_batch_ops=2)
    results = await submit_all(engine, ["a", "b", "c", "d", "e"])
    assert store.batches == [["a", "b"], ["c", "d"], ["e"]]
    assert results == ["A", "B", "C", "D", "E"]


async def test_work_arriving_during_a_commit_goes_into_the_next_batch() -> None:
    store = FakeStore()
    store.gate = asyncio.Event()
    engine: GroupCommit[str, str] = GroupCommit(store.commit)
    first = asyncio.ensure_future(engine.submit("a"))
    await store.entered.wait()  # the first batch is in flight
    later = asyncio.ensure_future(submit_all(engine, ["b", "c"]))
    for _ in range(5):
        await asyncio.sleep(0)
    assert store.batches == [["a"]]  # the later work waits: batches never overlap
    store.gate.set()
    assert await first == "A"
    assert await later == ["B", "C"]
    assert store.batches == [["a"], ["b", "c"]]
    assert store.max_in_flight == 1


async def test_a_failed_op_fails_only_its_own_caller() -> None:
    store = FakeStore()
    engine: GroupCommit[str, str] = GroupCommit(store.commit)
    results = await submit_all(engine, ["a", "bad-1", "b", "bad-2"])
    assert store.batches == [["a", "bad-1", "b", "bad-2"]]
    assert results[0] == "A" and results[2] == "B"
    assert isinstance(results[1], Bad) and str(results[1]) == "bad-1"
    assert isinstance(results[3], Bad) and str(results[3]) == "bad-2"


async def test_a_commit_that_raises_fails_every_op_of_its_batch_and_only_those() -> None:
    store = FakeStore(raise_for_batch=Unavailable("disk full"))
    engine: GroupCommit[str, str] = GroupCommit(store.commit, max_batch_ops=2)
    results = await submit_all(engine, ["a", "b"])
    assert all(isinstance(r, Unavailable) and str(r) == "disk full" for r in results)
    store.raise_for_batch = None  # the engine keeps working after a failed batch
    assert await submit_all(engine, ["c"]) == ["C"]
    assert store.batches == [["a", "b"], ["c"]]


async def test_an_op_the_commit_gave_no_outcome_fails_loudly() -> None:
    store = FakeStore()
    engine: GroupCommit[str, str] = GroupCommit(store.commit)
    results = await submit_all(engine, ["a", "silent"])
    assert results[0] == "A"
    assert isinstance(results[1], RuntimeError)


async def test_the_commit_finishes_before_any_caller_resumes_and_callers_resume_in_order() -> None:
    store = FakeStore()
    engine: GroupCommit[str, str] = GroupCommit(store.commit)

    async def caller(work: str) -> None:
        await engine.submit(work)
        store.journal.append(f"resumed {work}")

    await asyncio.gather(caller("a"), caller("b"), caller("c"))
    assert store.journal == ["committed a,b,c", "resumed a", "resumed b", "resumed c"]


async def test_close_commits_what_was_submitted_and_then_refuses_work() -> None:
    store = FakeStore()
    engine: GroupCommit[str, str] = GroupCommit(store.commit)
    submitted = [asyncio.ensure_future(engine.submit(w)) for w in ("a", "b")]
    await asyncio.sleep(0)  # queued; the writer has not run yet
    assert store.batches == []
    await engine.close()
    assert engine.closed
    assert store.batches == [["a", "b"]]
    assert [await s for s in submitted] == ["A", "B"]
    with pytest.raises(Unavailable):
        await engine.submit("c")
    assert store.batches == [["a", "b"]]


async def test_close_with_nothing_queued_returns_at_once() -> None:
    store = FakeStore()
    engine: GroupCommit[str, str] = GroupCommit(store.commit)
    await engine.close()
    assert engine.closed and store.batches == []


async def test_a_cancelled_caller_does_not_withdraw_its_work() -> None:
    store = FakeStore()
    engine: GroupCommit[str, str] = GroupCommit(store.commit)
    cancelled = asyncio.ensure_future(engine.submit("a"))
    kept = asyncio.ensure_future(engine.submit("b"))
    await asyncio.sleep(0)  # both queued
    cancelled.cancel()
    assert await kept == "B"
    assert cancelled.cancelled()
    assert store.batches == [["a", "b"]]  # written anyway: it may already be in a transaction


@pytest.mark.parametrize("when", ["before its first step", "during a commit"])
async def test_a_cancelled_writer_leaves_no_caller_waiting(when: str) -> None:
    store = FakeStore()
    store.gate = asyncio.Event()
    engine: GroupCommit[str, str] = GroupCommit(store.commit)
    waiting = asyncio.ensure_future(engine.submit("a"))
    await asyncio.sleep(0)  # ``a`` is queued and the writer made, not yet run
    if when == "during a commit":
        await store.entered.wait()
    assert store.batches == ([] if when == "before its first step" else [["a"]])
    (writer,) = writer_tasks()
    writer.cancel()  # as the loop's shutdown does
    queued_behind = asyncio.ensure_future(engine.submit("b"))
    async with asyncio.timeout(10):  # a hang guard, not a speed check
        results = await asyncio.gather(waiting, queued_behind, return_exceptions=True)
    assert all(isinstance(r, Unavailable) for r in results), results
    store.gate.set()
    assert await engine.submit("c") == "C"  # the next submit starts a fresh writer


async def test_work_submitted_from_another_threads_loop_is_committed_on_the_engines_loop() -> None:
    store = FakeStore()
    engine: GroupCommit[str, str] = GroupCommit(store.commit)
    own_loop = asyncio.get_running_loop()

    def in_another_thread() -> str:
        return asyncio.run(engine.submit("a"))

    assert await asyncio.to_thread(in_another_thread) == "A"
    assert store.loops == [own_loop]


def test_an_op_has_a_result_only_once_it_succeeded() -> None:
    op: Op[str, str] = Op("a")
    assert not op.ok
    with pytest.raises(RuntimeError):
        _ = op.result
    op.succeed("A")
    assert op.ok and op.result == "A"
    op.fail(Bad("late"))  # e.g. a step after the op's own work failed it
    assert not op.ok
    assert isinstance(op.outcome()[1], Bad)


async def test_max_batch_ops_must_be_positive() -> None:
    with pytest.raises(ValueError):
        GroupCommit(FakeStore().commit, max_batch_ops=0)
