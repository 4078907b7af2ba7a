"""Process metrics in the Prometheus text format (``GET /metrics``). Imports nothing of ours.

A handful of counters and gauges, kept by hand: the exposition format is tiny and a
client library would be the largest dependency of this module.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

Labels = tuple[tuple[str, str], ...]


class _Metric:
    kind = "counter"

    def __init__(self, name: str, help_text: str) -> None:
        self.name = name
        self.help = help_text
        self._values: dict[Labels, float] = {}
        self._lock = threading.Lock()

    def _key(self, labels: dict[str, str] | None) -> Labels:
        return tuple(sorted((labels or {}).items()))

    def value(self, **labels: str) -> float:
        return self._values.get(self._key(labels), 0.0)

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} {self.kind}"
        items = sorted(self._values.items()) or [((), 0.0)]
        for labels, value in items:
            text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
            yield f"{self.name}{{{text}}} {value:g}" if text else f"{self.name} {value:g}"


class Counter(_Metric):
    def inc(self, amount: float = 1.0, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount


class Gauge(_Metric):
    kind = "gauge"

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def dec(self, amount: float = 1.0, **labels: str) -> None:
        self.inc(-amount, **labels)

    def set(self, value: float, **labels: str) -> None:
        with self._lock:
            self._values[self._key(labels)] = value

    def replace(self, label: str, values: dict[str, float]) -> None:
        """Every series at once, one per ``label`` value (series not named go: an
        executor forgotten, a queue emptied)."""
        with self._lock:
            self._values = {self._key({label: k}): v for k, v in values.items()}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


HTTP_REQUESTS = Counter("dossier_http_requests_total", "HTTP requests by route and status")
SSE_CONNECTIONS = Gauge("dossier_sse_connections", "Open SSE streams")
WS_CONNECTIONS = Gauge("dossier_ws_connections", "Open chat WebSockets")
EVENTS_LOGGED = Counter("dossier_events_logged_total", "Events appended to session logs")
SESSIONS_OPENED = Counter("dossier_sessions_opened_total", "Sessions opened, by how")
SSE_LAGGED = Counter("dossier_sse_lagged_total", "SSE readers that fell out of the live window")
SSE_DROPPED = Counter("dossier_sse_dropped_total", "SSE readers disconnected for not reading")
ANSWERS = Counter("dossier_answers_total", "Chat answers, by provider and outcome")
STEPS_EXECUTED = Counter(
    "dossier_steps_executed_total", "Durable step bodies executed in this process, by step"
)
BUS_ERRORS = Counter("dossier_bus_errors_total", "Redis event bus failures, by operation")
BUS_DROPPED = Counter(
    "dossier_bus_dropped_total", "Event batches not published to Redis (others read the log)"
)
TAKEOVERS = Counter(
    "dossier_takeovers_total", "Silent executors whose workflows this process handed on"
)
HEARTBEAT_AGE = Gauge(
    "dossier_executor_heartbeat_age_seconds",
    "Seconds since each executor's last beat (by the database's clock)",
)
QUEUE_DEPTH = Gauge("dossier_queue_depth", "Workflows waiting on each DBOS queue")
CACHE_LOOKUPS = Counter("dossier_cache_lookups_total", "Cache lookups by kind and result")
RATE_LIMIT_FALLBACKS = Counter(
    "dossier_rate_limit_fallbacks_total",
    "Rate-limit checks this process decided alone (Redis unreachable), by limiter",
)

ALL: tuple[_Metric, ...] = (
    HTTP_REQUESTS,
    SSE_CONNECTIONS,
    WS_CONNECTIONS,
    EVENTS_LOGGED,
    SESSIONS_OPENED,
    SSE_LAGGED,
    SSE_DROPPED,
    ANSWERS,
    STEPS_EXECUTED,
    TAKEOVERS,
    BUS_ERRORS,
    BUS_DROPPED,
    CACHE_LOOKUPS,
    RATE_LIMIT_FALLBACKS,
)


def render() -> str:
    return "\n".join(line for metric in ALL for line in metric.render()) + "\n"
