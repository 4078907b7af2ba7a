"""The services workflow code runs with, bound once per process.

DBOS registers workflow and step functions at import by their stable names and calls
them on recovery with only their arguments, and DBOS itself is a process-wide singleton.
So the objects those functions need (event log, cache, collectors, analyst) are bound
here, once, by the composition root, rather than passed as arguments (which DBOS would
have to serialise). Tests bind a fresh runtime per test.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dossier.cache.store import ResearchCache
from dossier.collectors.base import CollectorRegistry
from dossier.collectors.http import SourceHttp
from dossier.core.ports import EventLog, Provider
from dossier.settings import Settings
from dossier.workflows.steering import SteeringBoard


@dataclass
class Runtime:
    settings: Settings
    log: EventLog
    cache: ResearchCache
    collectors: CollectorRegistry
    provider: Provider
    http: SourceHttp
    steering: SteeringBoard = field(default_factory=SteeringBoard)


_runtime: Runtime | None = None


def bind(runtime: Runtime | None) -> None:
    global _runtime
    _runtime = runtime


def current() -> Runtime:
    if _runtime is None:
        raise RuntimeError("dossier workflows used before a runtime was bound (app not started?)")
    return _runtime
