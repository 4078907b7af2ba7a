"""Pure helpers for reading what sources send: text, HTML fragments, dates, loose JSON.

Payloads drift, so readers take ``object`` and answer ``None`` / empty rather than raise
on a field of the wrong type; a payload that is not the right shape at all raises
ValueError in the source's own parser.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime


def text_or_none(value: object) -> str | None:
    """A non-blank string, stripped; anything else (None, a number, "  ") is None."""
    if not isinstance(value, str):
        return None
    return value.strip() or None


def as_dict(value: object) -> dict[str, object]:
    """``value`` if the payload has an object there, else {}."""
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list[object]:
    """``value`` if the payload has a list there, else []."""
    return value if isinstance(value, list) else []


_TAG_RE = re.compile(r"<[^>]+>")
_WS_RE = re.compile(r"\s+")


def html_to_text(markup: str, *, unescape_twice: bool = False) -> str:
    """Visible text of an HTML fragment. ``unescape_twice`` for sources (Greenhouse)
    that entity-escape their HTML, so tags arrive as ``&lt;p&gt;``."""
    text = html.unescape(markup) if unescape_twice else markup
    text = re.sub(r"(?i)<\s*(br|/p|/li|/h\d|/div)\s*/?>", "\n", text)
    text = _TAG_RE.sub(" ", text)
    text = html.unescape(text).replace("\xa0", " ")
    return "\n".join(_WS_RE.sub(" ", line).strip() for line in text.splitlines() if line.strip())


def parse_datetime(value: object) -> datetime | None:
    """ISO-8601 (with or without zone; ``Z``), or epoch seconds/ms -> aware UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000 if value > 10_000_000_000 else value
        return datetime.fromtimestamp(seconds, tz=UTC)
    if not isinstance(value, str):
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def mentions(text: str, name: str) -> bool:
    """Whether ``text`` names the company as a word (``Stripe`` in "Stripe's", not "stripes")."""
    pattern = r"(?<![A-Za-z0-9])" + re.escape(name.strip()) + r"(?![A-Za-z0-9])"
    return re.search(pattern, text, flags=re.IGNORECASE) is not None
