"""Job boards as resolution sees them: each board collector's endpoint (so a probe and
the collector ask the same URL, and one recorded answer serves both), and which tokens to
try for a company.

The boards are the collectors in the registry table that are :class:`JobBoardCollector`s:
a new board collector is probed without being listed here.
"""

from __future__ import annotations

from dossier.collectors.base import COLLECTORS, collector_class
from dossier.collectors.jobboard import BoardEndpoint, JobBoardCollector
from dossier.core.types import normalize_name, slugify

MAX_SLUGS = 2


def _board_endpoints() -> dict[str, BoardEndpoint]:
    endpoints: dict[str, BoardEndpoint] = {}
    for name, path in COLLECTORS.items():
        cls = collector_class(path)
        if isinstance(cls, type) and issubclass(cls, JobBoardCollector):
            endpoints[name] = cls.endpoint
    return endpoints


BOARD_ENDPOINTS: dict[str, BoardEndpoint] = _board_endpoints()


def slug_guesses(name: str, domain: str | None) -> list[str]:
    """Board tokens to try: the name squashed ("stripe"), hyphenated, the domain label."""
    name = name.replace("'", "").replace("\u2019", "")  # "Shepherd's" -> "shepherds"
    guesses = [slugify(name), normalize_name(name).replace(" ", "-").replace(".", "")]
    if domain:
        guesses.append(domain.split(".")[0])
    return [g for g in dict.fromkeys(guesses) if g][:MAX_SLUGS]
