"""Dedup keys: the one place they are spelled.

Exactly-once on the log rests on every writer of an event agreeing on its key (a step
re-run after a crash, a session closed by cancel while a workflow ends it too, the cached
fast path writing what a live run would): an append skips a key already logged. So every
writer, and each event log's lookups, build keys here.
"""

from __future__ import annotations

SESSION_CREATED = "session:created"
SESSION_COMPLETED = "session:completed"


def session_resumed(from_executor: str) -> str:
    """One ``session.resumed`` per executor lost (two survivors racing say it once)."""
    return f"session:resumed:{from_executor}"


def workflow_started(workflow: str) -> str:
    return f"{workflow}:started"


def workflow_end(workflow: str) -> str:
    """The one end of a workflow (completed, failed or cancelled: whichever comes first)."""
    return f"{workflow}:end"


def step_started(workflow: str, step: str) -> str:
    return f"{workflow}:{step}:started"


def step_end(workflow: str, step: str) -> str:
    """The one end of a step (completed, failed or skipped)."""
    return f"{workflow}:{step}:end"


def finding(workflow: str, source: str, finding_id: str) -> str:
    """One event per (workflow, source, finding): the same fact from two sources is logged
    twice and merged by the snapshot (each source's detail survives), and a fact found
    about both us and them appears in both workflows; never twice from one source."""
    return f"finding:{workflow}:{source}:{finding_id}"


def analysis(workflow: str, part: str | int) -> str:
    """A part of a workflow's streamed analysis, by position (``started``, ``completed``,
    or the n-th event)."""
    return f"{workflow}:analysis:{part}"


def chat_question(question_id: str) -> str:
    return f"chat.question:{question_id}"


def answer_end(question_id: str) -> str:
    return f"answer.end:{question_id}"
