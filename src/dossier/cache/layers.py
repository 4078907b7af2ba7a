"""Cache layers: in-process memory -> local disk -> Redis (when configured), via cashews.

A read walks down the layers and back-fills the faster ones it missed; a write goes to
all. Entries expire physically at ``ttl_s`` (which already includes the stale grace);
freshness is judged one level up (``cache/store.py``). Redis uses RESP2 with client-side
caching: redis-py 8's RESP3 breaks cashews' invalidation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from cashews import Cache as CashewsCache
from pydantic import JsonValue

from dossier.outage import Outage

log = logging.getLogger(__name__)

_MEMORY_ITEMS = 20_000


class LayeredCache:
    """The Cache port over a stack of cashews backends, fastest first."""

    def __init__(self, layers: list[tuple[str, CashewsCache]]) -> None:
        self._layers = layers
        # A layer that is down fails every call: logged once, then summarised.
        self._outages = {name: Outage(f"cache layer {name}", log) for name, _ in layers}

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self._layers]

    async def get(self, key: str) -> JsonValue | None:
        missed: list[CashewsCache] = []
        for name, layer in self._layers:
            try:
                value = await layer.get(key)
            except Exception as exc:  # a broken layer is a miss, never an outage
                self._outages[name].failed(exc)
                continue
            self._outages[name].ok()
            if value is not None:
                for upper in missed:
                    ttl = await _remaining(layer, key)
                    if ttl:
                        await upper.set(key, value, expire=ttl)
                return value  # type: ignore[no-any-return]
            missed.append(layer)
        return None

    async def set(self, key: str, value: JsonValue, *, ttl_s: float) -> None:
        for name, layer in self._layers:
            try:
                await layer.set(key, value, expire=max(1.0, ttl_s))
            except Exception as exc:
                self._outages[name].failed(exc)

    async def delete(self, key: str) -> None:
        for name, layer in self._layers:
            try:
                await layer.delete(key)
            except Exception as exc:
                self._outages[name].failed(exc)

    async def close(self) -> None:
        for _, layer in self._layers:
            # A Redis layer that lost its server waits for a reconnect before closing:
            # give it two seconds, then leave it.
            closing = asyncio.ensure_future(layer.close())
            done, _ = await asyncio.wait({closing}, timeout=2)
            if not done:
                closing.cancel()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await closing


async def _remaining(layer: CashewsCache, key: str) -> float | None:
    try:
        ttl = await layer.get_expire(key)
    except Exception:
        return None
    return float(ttl) if ttl and ttl > 0 else None


def build_cache(cache_dir: Path, redis_url: str | None) -> LayeredCache:
    """memory -> disk (-> Redis)."""
    memory = CashewsCache(name="memory")
    memory.setup(f"mem://?size={_MEMORY_ITEMS}")
    cache_dir.mkdir(parents=True, exist_ok=True)
    disk = CashewsCache(name="disk")
    disk.setup(f"disk://?directory={cache_dir}&shards=0")
    layers: list[tuple[str, CashewsCache]] = [("memory", memory), ("disk", disk)]
    if redis_url:
        shared = CashewsCache(name="redis")
        sep = "&" if "?" in redis_url else "?"
        shared.setup(f"{redis_url}{sep}client_side=true&protocol=2")
        layers.append(("redis", shared))
    return LayeredCache(layers)
