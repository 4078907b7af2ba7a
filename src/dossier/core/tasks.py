"""Ending background tasks: every owner (a service's ``close``, a request's ``finally``)
cancels what it started and waits for it, so no task outlives its owner."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Any


async def cancel_all(tasks: Iterable[asyncio.Future[Any] | None]) -> None:
    """Cancel each task and wait until it has ended. What a task raises while ending is
    dropped: its owner is closing and has nobody to tell."""
    pending = [task for task in tasks if task is not None]
    for task in pending:
        task.cancel()
    for task in pending:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
