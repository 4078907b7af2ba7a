"""Connections held open per (session, principal), let go when their member leaves."""

from __future__ import annotations

from dossier.core.presence import Presence


def test_leaving_lets_go_of_that_principals_connections_on_that_session_only() -> None:
    presence = Presence()
    released: list[str] = []
    presence.hold("s_1", "bob", lambda: released.append("bob stream"))
    presence.hold("s_1", "bob", lambda: released.append("bob chat"))
    presence.hold("s_1", "alice", lambda: released.append("alice stream"))
    presence.hold("s_2", "bob", lambda: released.append("bob elsewhere"))
    assert presence.leave("s_1", "bob") == 2
    assert sorted(released) == ["bob chat", "bob stream"]
    assert presence.holding("s_1", "alice") == 1 and presence.holding("s_2", "bob") == 1
    assert presence.leave("s_1", "bob") == 0  # nothing left to let go


def test_a_connection_that_closed_on_its_own_is_forgotten() -> None:
    presence = Presence()
    released: list[str] = []
    forget = presence.hold("s_1", "bob", lambda: released.append("stream"))
    forget()
    forget()  # twice is harmless
    assert presence.holding("s_1", "bob") == 0
    assert presence.leave("s_1", "bob") == 0 and released == []
