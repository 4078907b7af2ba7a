"""Whose chat an event is: joining shares the research, never the conversation.

Two principals who open the same account share one session (one research, one log). The
research (findings, progress, coverage, analysis, steering acknowledgements, the end) is
everyone's; a chat turn (``chat.question``, ``answer.end``, ``answer.revised``) belongs to
the principal who asked, named in its ``asker`` field (the principal: a hash of the token,
never the token). A :class:`Viewer` decides what one principal sees: the snapshot, the
export and the event stream all ask it.

Why a filter over one log rather than a session id per principal: seq stays one gap-free
sequence per session, and the filter is a pure function of (event, viewer), so "the
events after id N that this viewer may see" is the same set whether it comes from the
live window, the log, or after a restart: exact resume by ``Last-Event-ID`` holds as it
is. The stream still accounts for every seq: an event the viewer may not see goes out as
a bare ``id:`` line (no data: EventSource moves its last id and dispatches nothing), so a
client that checks for gaps sees none, and one that resumes does so past it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dossier.core.events import Event, EventType, encode_sse_id

ASKER = "asker"

# The events that are one principal's conversation.
PRIVATE_TYPES = frozenset({EventType.CHAT_QUESTION, EventType.ANSWER_END, EventType.ANSWER_REVISED})


@dataclass(frozen=True, slots=True)
class Viewer:
    """One principal looking at a session they may see (with tokens configured; without,
    there is one principal and no viewer: ``None`` sees everything)."""

    principal: str
    # Owners also see chat logged before turns named their asker (it was theirs, or
    # shared by everyone who had joined then).
    owner: bool

    def sees_asker(self, asker: object) -> bool:
        return self.owner if asker is None else asker == self.principal

    def sees(self, event: Event) -> bool:
        if event.type not in PRIVATE_TYPES:
            return True
        return self.sees_asker(event.data.get(ASKER))


def sees(viewer: Viewer | None, event: Event) -> bool:
    return viewer is None or viewer.sees(event)


def frames_for(viewer: Viewer | None, events: Sequence[Event], joined: bytes = b"") -> bytes:
    """The SSE bytes of ``events`` for this viewer: each event's frame, or a bare ``id:``
    line for one they may not see. ``joined``: the events' frames already joined (used
    as is when nothing is hidden)."""
    if viewer is None or not any(e.type in PRIVATE_TYPES for e in events):
        return joined or b"".join(e.frame for e in events)
    return b"".join(e.frame if viewer.sees(e) else encode_sse_id(e.seq) for e in events)
