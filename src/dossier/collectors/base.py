"""Collector registry by name, and what a collector is given.

Implementations are listed by import path (uvicorn's style: pluggable without plugins);
the registry name is the module name and the findings' ``source``. Built-ins go through the
same table as add-ons, so ``DOSSIER_COLLECTORS``-style selection needs no special case.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import ClassVar

from dossier.collectors.http import SourceHttp
from dossier.core.ports import Collector
from dossier.core.types import DataType
from dossier.settings import Settings

COLLECTORS: dict[str, str] = {
    # identity, filings, funding, people
    "sec_edgar": "dossier.collectors.sec_edgar:SecEdgarCollector",
    "wikidata": "dossier.collectors.wikidata:WikidataCollector",
    "wikipedia": "dossier.collectors.wikipedia:WikipediaCollector",
    # job boards
    "greenhouse": "dossier.collectors.greenhouse:GreenhouseCollector",
    "lever": "dossier.collectors.lever:LeverCollector",
    "ashby": "dossier.collectors.ashby:AshbyCollector",
    "smartrecruiters": "dossier.collectors.smartrecruiters:SmartRecruitersCollector",
    "workable": "dossier.collectors.workable:WorkableCollector",
    # news
    "hn": "dossier.collectors.hn:HackerNewsCollector",
    "gdelt": "dossier.collectors.gdelt:GdeltCollector",
    "rss": "dossier.collectors.rss:RssCollector",
    # tech stack
    "techstack": "dossier.collectors.techstack:TechStackCollector",
}


@dataclass(frozen=True)
class CollectorDeps:
    """What a collector may use: the shared HTTP path and the settings."""

    http: SourceHttp
    settings: Settings


class SourceCollector:
    """What every collector over :class:`SourceHttp` shares: the client, and applying when
    the account has any of the identifiers it ``needs`` (``("domain",)``: its homepage)."""

    name: ClassVar[str]
    label: ClassVar[str]
    data_types: ClassVar[frozenset[DataType]]
    needs: ClassVar[tuple[str, ...]] = ("name",)

    def __init__(self, deps: CollectorDeps) -> None:
        self._http = deps.http

    def applicable(self, identifiers: dict[str, str]) -> bool:
        return any(identifiers.get(key) for key in self.needs)


class CollectorRegistry:
    """Collectors by name, in a stable order."""

    def __init__(self, collectors: Iterable[Collector]) -> None:
        self._by_name: dict[str, Collector] = {}
        for collector in collectors:
            if collector.name in self._by_name:
                raise ValueError(f"two collectors named {collector.name!r}")
            self._by_name[collector.name] = collector

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def get(self, name: str) -> Collector:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"no collector named {name!r}; known: {sorted(self._by_name)}") from None

    @property
    def names(self) -> list[str]:
        return list(self._by_name)

    @property
    def labels(self) -> dict[str, str]:
        """Source name -> the name people know it by (for sentences about coverage)."""
        return {name: c.label for name, c in self._by_name.items()}

    def all(self) -> list[Collector]:
        return list(self._by_name.values())

    def for_data_types(self, data_types: Iterable[DataType]) -> list[Collector]:
        wanted = set(data_types)
        return [c for c in self._by_name.values() if c.data_types & wanted]


def collector_class(path: str) -> object:
    """The class an import path (``"module:Class"``) names."""
    module_name, _, class_name = path.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def load_collector(path: str, deps: CollectorDeps) -> Collector:
    cls = collector_class(path)
    assert callable(cls), path
    collector: Collector = cls(deps)
    return collector


def build_registry(
    deps: CollectorDeps, table: Mapping[str, str] | None = None
) -> CollectorRegistry:
    return CollectorRegistry(load_collector(path, deps) for path in (table or COLLECTORS).values())
