"""The fakes stand in for every port of ``core/ports.py`` (mypy checks each assignment
below against its Protocol); the event log fake also runs the real logs' contract
(``tests/unit/eventlog/test_event_log.py``)."""

from __future__ import annotations

from dossier.cache.store import NEGATIVE_TTL_S, STALE_FACTOR, TTL_S, ResearchCache
from dossier.core.ports import (
    Cache,
    Collector,
    EventLog,
    Provider,
    TextDelta,
    WorkflowEngine,
)
from dossier.core.types import DataType, FindingKind
from tests.fakes import (
    FIXED_TIME,
    FakeCache,
    FakeCollector,
    FakeEngine,
    FakeEventLog,
    FakeProvider,
    make_finding,
    make_question,
)

LOG: EventLog = FakeEventLog()
ENGINE: WorkflowEngine = FakeEngine()
CACHE: Cache = FakeCache()
COLLECTOR: Collector = FakeCollector()
PROVIDER: Provider = FakeProvider()


def test_the_finding_factory_is_deterministic() -> None:
    a = make_finding(FindingKind.PERSON, "Jane Roe", at=FIXED_TIME, days_ago=2, role="CEO")
    b = make_finding(FindingKind.PERSON, "Jane Roe", at=FIXED_TIME, days_ago=2, role="CEO")
    assert a == b
    assert a.published_at is not None and (FIXED_TIME - a.published_at).days == 2


async def test_the_provider_fake_says_its_text_and_records_the_question() -> None:
    provider = FakeProvider("One two three.")
    request = make_question("Who is the CEO?")
    chunks = [c async for c in provider.answer(request)]
    assert "".join(c.text for c in chunks if isinstance(c, TextDelta)) == "One two three."
    assert provider.questions == [request]


async def test_the_cache_fake_serves_the_research_cache() -> None:
    layers = FakeCache()
    cache = ResearchCache(layers, mode="live")
    job = make_finding(FindingKind.JOB_POSTING, "Fraud Analyst", at=FIXED_TIME)
    await cache.put_source([DataType.JOBS], "acme", "lever", [job])
    (key,) = layers.values
    # the layers keep an entry through its stale-while-revalidate time
    assert layers.ttls[key] == TTL_S[DataType.JOBS] * (1 + STALE_FACTOR)
    hit = await cache.get_source([DataType.JOBS], "acme", "lever")
    assert hit is not None and isinstance(hit.payload, dict)
    assert hit.payload["findings"] == [job.model_dump(mode="json")]
    await cache.put_source([DataType.JOBS], "acme", "ashby", [], negative=True)
    negative = await cache.get_source([DataType.JOBS], "acme", "ashby")
    assert negative is not None and negative.negative
    assert min(layers.ttls.values()) == NEGATIVE_TTL_S * (1 + STALE_FACTOR)
