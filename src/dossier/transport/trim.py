"""Handing memory back to the system after a wave of streams ended or stalled at once.

Each stream's buffers are C allocations (bytes objects over 512 bytes, the transport's
queue). Freed, they leave holes in the C heap that glibc keeps for reuse rather than
returning: after 2,000 silent readers were dropped, ``malloc_trim`` handed back ~100 MB
that the process otherwise kept (measured once, bench/silent_readers.py; what Python's
own small-object arenas keep is not reached by it). It walks the heap, so it runs only
after many streams ended (not on every tab closed), a second after the first of them
(the rest of the wave is gone by then), one at a time. Elsewhere than glibc it
does nothing. Streams that park waiting for their clients count too: what they churned
through to get there (log reads, frames) is free by then.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import gc
from collections.abc import Callable

AFTER_ENDED = 64  # streams ended (or parked) since the last trim
DELAY_S = 1.0


def _load_malloc_trim() -> Callable[[int], int] | None:
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
        return trim
    return None


class MemoryTrim:
    """Counts ended and parked streams; trims the C heap after a wave of them."""

    def __init__(self, trim: Callable[[int], int] | None = None) -> None:
        self._trim = trim if trim is not None else _load_malloc_trim()
        self._ended = 0
        self._pending = False

    def note(self) -> None:
        """A stream ended, or first parked waiting for its client."""
        self._ended += 1
        if self._ended >= AFTER_ENDED and not self._pending and self._trim is not None:
            self._pending = True
            asyncio.get_running_loop().call_later(DELAY_S, self._run)

    def _run(self) -> None:
        self._pending = False
        self._ended = 0
        gc.collect()
        if self._trim is not None:
            self._trim(0)
