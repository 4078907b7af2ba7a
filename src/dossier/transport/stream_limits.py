"""How many SSE streams one principal and one client address may hold open at once.

Each open stream costs a coroutine, a socket and up to its send budget of buffer; without
a cap, one client opening thousands of streams (and never reading them) holds the
server's memory and file descriptors. The limits are per principal (a token: every
device of one user) and per client address (one machine, also without a token, where
every caller is the ``local`` principal). A browser tab holds one stream, so a normal
page with a few tabs stays far below either limit. Over a limit: 429 with the usual
error body; the stream is refused before anything is read for it.
"""

from __future__ import annotations

from dossier.errors import RateLimited


class TooManyStreams(RateLimited):
    code = "too_many_streams"


class StreamLimits:
    """Open-stream counts by principal and by client address (one process)."""

    def __init__(self, *, per_principal: int, per_client: int) -> None:
        self.per_principal = per_principal
        self.per_client = per_client
        self._principals: dict[str, int] = {}
        self._clients: dict[str, int] = {}

    def acquire(self, principal: str, client: str) -> None:
        """Count one more stream; TooManyStreams (nothing counted) if over a limit."""
        if self._principals.get(principal, 0) >= self.per_principal:
            raise TooManyStreams(
                f"too many open streams for this token (limit {self.per_principal}); "
                "close some and retry",
                retry_after_s=5,
            )
        if self._clients.get(client, 0) >= self.per_client:
            raise TooManyStreams(
                f"too many open streams from this address (limit {self.per_client}); "
                "close some and retry",
                retry_after_s=5,
            )
        self._principals[principal] = self._principals.get(principal, 0) + 1
        self._clients[client] = self._clients.get(client, 0) + 1

    def release(self, principal: str, client: str) -> None:
        _decrement(self._principals, principal)
        _decrement(self._clients, client)

    def open_streams(self, *, principal: str | None = None, client: str | None = None) -> int:
        if principal is not None:
            return self._principals.get(principal, 0)
        if client is not None:
            return self._clients.get(client, 0)
        return sum(self._principals.values())


def _decrement(counts: dict[str, int], key: str) -> None:
    left = counts.get(key, 0) - 1
    if left > 0:
        counts[key] = left
    else:
        counts.pop(key, None)  # no entry per client that has gone: the map stays small
