"""What is cached, for how long, and how fresh it reads."""

from __future__ import annotations

from pathlib import Path

from dossier.cache.layers import build_cache
from dossier.cache.store import (
    NEGATIVE_TTL_S,
    TTL_S,
    Freshness,
    ResearchCache,
    cache_key,
    findings_of,
)
from dossier.core.types import DataType, FindingKind
from tests.fakes import make_finding


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_a_source_answer_is_fresh_then_stale_then_gone(tmp_path: Path) -> None:
    clock = Clock()
    cache = ResearchCache(build_cache(tmp_path / "c", None), clock=clock)
    jobs = [make_finding(FindingKind.JOB_POSTING, "Abuse Investigator")]
    await cache.put_source({DataType.JOBS}, "stripe", "greenhouse", jobs, meta={"requests": 1})
    hit = await cache.get_source({DataType.JOBS}, "stripe", "greenhouse")
    assert hit is not None and hit.freshness is Freshness.FRESH
    assert [f.title for f in findings_of(hit)] == ["Abuse Investigator"]
    clock.now += TTL_S[DataType.JOBS] + 1  # past the TTL: still served, as stale
    stale = await cache.get_source({DataType.JOBS}, "stripe", "greenhouse")
    assert stale is not None and stale.freshness is Freshness.STALE
    clock.now += TTL_S[DataType.JOBS]  # past the stale grace: gone
    assert await cache.get_source({DataType.JOBS}, "stripe", "greenhouse") is None


async def test_ttl_is_per_data_type_and_the_shortest_wins(tmp_path: Path) -> None:
    clock = Clock()
    cache = ResearchCache(build_cache(tmp_path / "c", None), clock=clock)
    await cache.put_source({DataType.TECH}, "acme", "techstack", [])
    await cache.put_source({DataType.JOBS, DataType.TECH}, "acme", "greenhouse", [])
    clock.now += TTL_S[DataType.JOBS] + 1
    tech_only = await cache.get_source({DataType.TECH}, "acme", "techstack")
    mixed = await cache.get_source({DataType.JOBS, DataType.TECH}, "acme", "greenhouse")
    assert tech_only is not None and tech_only.freshness is Freshness.FRESH  # 30 days
    assert mixed is not None and mixed.freshness is Freshness.STALE  # jobs: 6 hours


async def test_no_board_answers_are_cached_negatively(tmp_path: Path) -> None:
    clock = Clock()
    cache = ResearchCache(build_cache(tmp_path / "c", None), clock=clock)
    await cache.put_source({DataType.JOBS}, "acme", "lever", [], negative=True)
    hit = await cache.get_source({DataType.JOBS}, "acme", "lever")
    assert hit is not None and hit.negative and findings_of(hit) == []
    clock.now += NEGATIVE_TTL_S + 1
    assert (await cache.get_source({DataType.JOBS}, "acme", "lever")).freshness is Freshness.STALE  # type: ignore[union-attr]


async def test_analyses_and_answers_depend_on_the_vendor(tmp_path: Path) -> None:
    cache = ResearchCache(build_cache(tmp_path / "c", None))
    await cache.put_analysis("customer_intelligence", "stripe", "vendor-a", {"text": "A"})
    assert await cache.get_analysis("customer_intelligence", "stripe", "vendor-b") is None
    await cache.put_answer("stripe", "vendor-a", "hiring", "v1", {"text": "x"})
    assert await cache.get_answer("stripe", "vendor-a", "hiring", "v2") is None
    hit = await cache.get_answer("stripe", "vendor-a", "hiring", "v1")
    assert hit is not None and hit.payload == {"text": "x"}


def test_keys_name_mode_data_type_account_vendor_and_source() -> None:
    assert (
        cache_key("live", "jobs", "acme corp", "-", "greenhouse")
        == "dossier:v2:live:jobs:acme corp:-:greenhouse"
    )
    # parts cannot forge separators
    assert cache_key("live", "a:b", "x", "-", "y").count(":") == 6


async def test_replay_answers_are_never_served_to_a_live_run(tmp_path: Path) -> None:
    layers = build_cache(tmp_path / "c", None)
    replay = ResearchCache(layers, mode="replay")
    live = ResearchCache(layers, mode="live")
    await replay.put_source({DataType.JOBS}, "stripe", "greenhouse", [])
    await replay.put_resolution("stripe", {"identifiers": {"name": "Stripe"}})
    assert await replay.get_source({DataType.JOBS}, "stripe", "greenhouse") is not None
    assert await live.get_source({DataType.JOBS}, "stripe", "greenhouse") is None
    assert await live.get_resolution("stripe") is None


async def test_the_disk_layer_back_fills_memory_and_survives_a_restart(tmp_path: Path) -> None:
    first = build_cache(tmp_path / "c", None)
    await first.set("k", {"v": 1}, ttl_s=60)
    await first.close()
    again = build_cache(tmp_path / "c", None)
    assert await again.get("k") == {"v": 1}  # from disk, after a "restart"
    assert await again._layers[0][1].get("k") == {"v": 1}  # now in memory too
