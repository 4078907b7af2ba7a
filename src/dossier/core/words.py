"""Small English helpers for every sentence the product writes (counts, lists)."""

from __future__ import annotations

from collections.abc import Sequence


def plural(n: int, one: str, many: str | None = None) -> str:
    """``plural(1, "open role")`` -> ``"1 open role"``; ``plural(2, "story", "stories")``."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def join_words(items: Sequence[str], conjunction: str = "and") -> str:
    """``["a"]`` -> ``"a"``, ``["a", "b"]`` -> ``"a and b"``, three -> ``"a, b and c"``."""
    words = [w for w in items if w]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


def age_words(age_s: float) -> str:
    """How old something is, roughly: ``"40 s"``, ``"12 min"``, ``"3 h"``, ``"2 d"``."""
    if age_s < 90:
        return f"{max(1, round(age_s))} s"
    if age_s < 90 * 60:
        return f"{round(age_s / 60)} min"
    if age_s < 36 * 3600:
        return f"{round(age_s / 3600)} h"
    return f"{round(age_s / 86400)} d"
