"""Which question ids a session has used, and how many questions each principal asked.

A question id names one turn of a session's chat: the snapshot, the export and revisions
find its answer by it, so an id already used (logged, or being answered in this process)
is refused (``duplicate_id``), never answered again over the first. And one principal's
questions in one session are capped (``too_many_turns``): every turn stays on the log and
in the live state, so an endless chat would grow both without bound (measured before the
cap: +33 MB of memory per 10k turns, a 13.8 MB snapshot at 15k). The cap is per principal,
so someone who joined a session cannot use up its owner's questions.
"""

from __future__ import annotations

from dossier.core.revisions import StateSource
from dossier.errors import Conflict

MAX_CHAT_TURNS = 1000


class Turns:
    def __init__(self, states: StateSource, max_turns: int = MAX_CHAT_TURNS) -> None:
        self._states = states
        self._max_turns = max_turns
        # Question ids being answered in this process, per session, and who asked: an id
        # is taken from the moment it is admitted, before the log has it.
        self._asking: dict[str, dict[str, str]] = {}

    async def check(self, session_id: str, question_id: str, asker: str) -> None:
        """Raise Conflict if ``question_id`` is taken in the session (``duplicate_id``) or
        ``asker`` has asked ``max_turns`` questions there (``too_many_turns``)."""
        builder = await self._states.state(session_id)
        asking = self._asking.get(session_id, {})
        if question_id in builder.chat or question_id in asking:
            raise Conflict(
                f"question id {question_id!r} is already used in this session; "
                "send a new id for a new question",
                code="duplicate_id",
            )
        in_flight = sum(1 for who in asking.values() if who == asker)
        if builder.turns_by[asker] + in_flight >= self._max_turns:
            raise Conflict(
                f"you have asked {self._max_turns} questions in this session, its limit; "
                "open a new session to ask more",
                code="too_many_turns",
            )

    async def admit(self, session_id: str, question_id: str, asker: str) -> None:
        """:meth:`check`, then hold the id until :meth:`release` (the answer is logged)."""
        await self.check(session_id, question_id, asker)
        # No await between the check's last look and this: one admission at a time.
        self._asking.setdefault(session_id, {})[question_id] = asker

    def release(self, session_id: str, question_id: str) -> None:
        asking = self._asking.get(session_id)
        if asking is not None:
            asking.pop(question_id, None)
            if not asking:
                del self._asking[session_id]
