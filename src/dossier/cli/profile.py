"""The account's profile as a table in the terminal report (as the page's briefing and the
Markdown export show it): headquarters, founded, employees, industry, ticker, website."""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from dossier.core.types import Finding, FindingKind

ROWS = (
    ("headquarters", "Headquarters"),
    ("country", "Country"),
    ("founded", "Founded"),
    ("employees", "Employees"),
    ("industry", "Industry"),
    ("ticker", "Ticker"),
    ("website", "Website"),
)


def profile_table(findings: Iterable[Finding], about_us: set[str]) -> RenderableType | None:
    """The first customer-side profile's fields, or None when there is none to show."""
    profile = next(
        (f for f in findings if f.kind is FindingKind.COMPANY_PROFILE and f.id not in about_us),
        None,
    )
    if profile is None:
        return None
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True, style="bold")
    table.add_column(overflow="fold")
    for key, label in ROWS:
        value = profile.fields.get(key)
        if value in (None, "", []) or isinstance(value, (dict, list, bool)):
            continue
        shown = f"{value:,}" if isinstance(value, int) and key == "employees" else str(value)
        if key == "employees" and (as_of := profile.fields.get("employees_as_of")):
            shown += f" ({as_of})"
        table.add_row(f"  {label}", shown)
    if not table.rows:
        return None
    sources = profile.fields.get("sources")
    named = " + ".join(map(str, sources)) if isinstance(sources, list) else profile.source
    sample = " [sample data]" if profile.fields.get("sample") is True else ""
    return Group(Text(f"profile  from {named}{sample}", style="bold"), table)
