"""Who holds a session open in this process — event streams and chat sockets, per
principal — so that a member who leaves (their cancel detaches them) is let go at once,
not at their next reconnect.

Joining shares the research, never the conversation: once a member has left, the
connections they had open stop like any refused one (a stream is reset, a chat socket
closed with a policy code); reconnecting is refused because they are no longer a member.
This is per process: a member's connections on another replica end when they reconnect
there (every open checks membership), which is documented, not hidden.
"""

from __future__ import annotations

from collections.abc import Callable

Release = Callable[[], None]


class Presence:
    """Open connections by (session, principal), each with how to let it go."""

    def __init__(self) -> None:
        self._held: dict[tuple[str, str], set[Release]] = {}

    def hold(self, session_id: str, principal: str, release: Release) -> Callable[[], None]:
        """Note an open connection; returns what to call when it closes on its own."""
        key = (session_id, principal)
        self._held.setdefault(key, set()).add(release)

        def forget() -> None:
            held = self._held.get(key)
            if held is not None:
                held.discard(release)
                if not held:
                    del self._held[key]

        return forget

    def leave(self, session_id: str, principal: str) -> int:
        """Let go of every connection ``principal`` holds on ``session_id``; how many."""
        held = self._held.pop((session_id, principal), set())
        for release in held:
            release()
        return len(held)

    def holding(self, session_id: str, principal: str) -> int:
        return len(self._held.get((session_id, principal), ()))
