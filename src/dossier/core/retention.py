"""Retention (``DOSSIER_RETENTION_DAYS``): finished sessions whose last event is older
than that are deleted from the log, hourly, in whichever process serves them.

Off by default: the log is the product's memory of what it found, and deleting it is the
user's call. Sessions a stream is reading right now are left for the next pass.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from datetime import datetime, timedelta

from dossier.core.ports import EventLog
from dossier.core.types import iso_ms, utcnow

log = logging.getLogger(__name__)

EVERY_S = 3600.0


async def expire_old_sessions(
    event_log: EventLog,
    days: float,
    *,
    keep: Collection[str] = (),
    now: Callable[[], datetime] = utcnow,
) -> list[str]:
    """One pass: delete what is older than ``days``; the ids deleted."""
    cutoff = iso_ms(now() - timedelta(days=days))
    expired = await event_log.expire_sessions(cutoff, keep=keep)
    if expired:
        log.info("retention: %d sessions older than %g days deleted", len(expired), days)
    return expired


async def run_retention(
    event_log: EventLog,
    days: float,
    *,
    busy: Callable[[], Collection[str]],
    every_s: float = EVERY_S,
) -> None:
    """Passes every ``every_s`` for the life of the process (the first at start)."""
    while True:
        try:
            while await expire_old_sessions(event_log, days, keep=busy()):
                pass  # a full batch: take the next one now
        except Exception:
            log.exception("retention pass failed; trying again later")
        await asyncio.sleep(every_s)
