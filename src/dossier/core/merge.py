"""Merging findings that state one fact (from several sources, or found twice).

Used by the snapshot (a fact logged by two sources shows once, with both) and by the
collectors' de-duplication (``collectors/normalize.py``). The most confident member is the
base (ties: source, then id, so the result does not depend on arrival order); it keeps its
``id`` (already cited), fills fields it lacks from the others, and records ``sources``
(union), ``merged_ids`` and, for people, the union of ``roles``. Datetimes come out in UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from pydantic import JsonValue

from dossier.core.types import Finding, FindingKind

NAME_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "phd", "md", "esq", "cpa", "cfa"})


def display_name(name: str) -> str:
    """``"Collison, Patrick"`` -> ``"Patrick Collison"``; other names unchanged."""
    last, comma, first = name.partition(",")
    if comma and "," not in first and first.strip().lower().strip(".") not in NAME_SUFFIXES:
        return f"{first.strip()} {last.strip()}"
    return name.strip()


def merge_group(group: Sequence[Finding]) -> Finding:
    """One finding from findings known to state the same fact (see module docstring)."""
    ranked = sorted(group, key=lambda f: (-f.confidence, f.source, f.id))
    base = ranked[0]
    fields: dict[str, JsonValue] = dict(base.fields)
    for other in ranked[1:]:
        for name, value in other.fields.items():
            if fields.get(name) in (None, "", [], {}) and value not in (None, "", [], {}):
                fields[name] = value
    sources: list[str] = []
    roles: list[str] = []
    for member in ranked:
        listed = member.fields.get("sources")
        sources += [s for s in listed if isinstance(s, str)] if isinstance(listed, list) else []
        sources.append(member.source)
        for key in ("role", "roles"):
            value = member.fields.get(key)
            values = value if isinstance(value, list) else [value]
            roles += [r for r in values if isinstance(r, str) and r]
    fields["sources"] = list(dict.fromkeys(sorted(sources)))
    if base.kind is FindingKind.PERSON:
        fields["roles"] = list(dict.fromkeys(roles))
        if isinstance(fields.get("name"), str):
            fields["name"] = display_name(str(fields["name"]))
    merged_ids = sorted({f.id for f in group} - {base.id})
    if merged_ids:
        fields["merged_ids"] = list(merged_ids)
    published = [utc(f.published_at) for f in group if f.published_at is not None]
    return base.model_copy(
        update={
            "fields": fields,
            "observed_at": utc(base.observed_at),
            "published_at": min(published) if published else None,
            "url": base.url or next((f.url for f in ranked if f.url), None),
            "confidence": max(f.confidence for f in group),
        }
    )


def utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
