"""Streamed text with numbered citation markers, and its sources list (answers, analyses).

A citation frame follows the sentence it supports, so its marker goes where the text
stands when it arrives: "… (Founder).[1][2] Decision makers …". Numbers are per text, in
order of first citation; citing the same finding again reuses its number.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rich.console import Group
from rich.text import Text

MARKER_STYLE = "bold cyan"


@dataclass
class Source:
    number: int
    finding: str
    title: str
    url: str | None


@dataclass
class CitedText:
    pieces: list[str | int] = field(default_factory=list)  # text, or a source number
    sources: dict[str, Source] = field(default_factory=dict)

    def add(self, text: str) -> None:
        if text:
            self.pieces.append(text)

    def cite(self, citation: Mapping[str, Any]) -> None:
        """Add the marker of ``{finding, url, title}`` where the text now ends."""
        finding = str(citation.get("finding") or "")
        if not finding:
            return
        source = self.sources.get(finding)
        if source is None:
            url = citation.get("url")
            source = self.sources[finding] = Source(
                number=len(self.sources) + 1,
                finding=finding,
                title=str(citation.get("title") or finding),
                url=str(url) if url else None,
            )
        if source.number not in self._trailing_markers():  # no "[1][1]"
            self.pieces.append(source.number)

    def _trailing_markers(self) -> set[int]:
        markers: set[int] = set()
        for piece in reversed(self.pieces):
            if isinstance(piece, str):
                break
            markers.add(piece)
        return markers

    @classmethod
    def of(cls, text: str, citations: Iterable[Mapping[str, Any]]) -> CitedText:
        """A finished text whose citations carry no position: markers go at its end."""
        cited = cls()
        cited.add(text)
        for citation in citations:
            cited.cite(citation)
        return cited

    @property
    def plain(self) -> str:
        return "".join(p if isinstance(p, str) else f"[{p}]" for p in self.pieces)

    def text(self, style: str = "") -> Text:
        out = Text(style=style)
        for piece in self.pieces:
            if isinstance(piece, str):
                out.append(piece)
            else:
                out.append(f"[{piece}]", style=MARKER_STYLE)
        return out

    def sources_list(self, indent: str = "  ") -> Group:
        lines = []
        for source in self.sources.values():
            line = Text(indent)
            line.append(f"[{source.number}] ", style=MARKER_STYLE)
            line.append(source.title)
            if source.url:
                line.append(f"  {source.url}", style="dim")
            lines.append(line)
        return Group(*lines)
