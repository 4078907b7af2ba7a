"""Next questions worth asking, from what the session has and has not been asked."""

from __future__ import annotations

from typing import Any

from dossier.core.chat_context import pending_types
from dossier.core.intents import IntentName
from dossier.core.privacy import Viewer
from dossier.core.snapshot import SnapshotBuilder

_I = IntentName
_SUGGESTIONS: tuple[tuple[IntentName, str, tuple[str, ...]], ...] = (
    (_I.FIT, "How does our offer fit them?", ()),
    (_I.HIRING, "Which teams are they hiring for?", ("job_posting",)),
    (_I.PEOPLE, "Who should I talk to?", ("person",)),
    (_I.TECH_STACK, "What technology do they use?", ("technology", "job_posting")),
    (_I.FUNDING, "Have they raised money recently?", ("funding_round", "filing")),
    (_I.NEWS, "What is new with them?", ("news_article",)),
    (
        _I.CALL_PREP,
        "What should I open the call with?",
        ("job_posting", "person", "news_article", "funding_round", "company_profile"),
    ),
    (_I.PENDING, "What is still being collected?", ()),
)


def suggest(builder: SnapshotBuilder, viewer: Viewer | None = None, limit: int = 4) -> list[str]:
    """Next questions worth asking, from what the session has and what this viewer has
    not asked (another principal's questions are theirs: they change nothing here)."""
    asked = builder.intents_asked(viewer)
    kinds = {f.kind.value for f in builder.findings.values()}
    vendor = _obj(builder.created.get("vendor"))
    out: list[str] = []
    for intent, text, needs in _SUGGESTIONS:
        if intent in asked:
            continue
        if intent == IntentName.PENDING and not pending_types(builder, ()):
            continue  # nothing is being collected any more
        if intent == IntentName.FIT and not vendor.get("description"):
            continue
        if needs and not kinds & set(needs):
            continue
        out.append(text)
    return out[:limit]


def _obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
