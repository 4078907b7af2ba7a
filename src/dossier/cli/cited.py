"""Streamed text with numbered citation markers, and its sources list (answers, analyses).

A citation frame follows the sentence it supports, so its marker goes where the text
stands when it arrives: "… (Founder).[1][2] Decision makers …". Numbers are per text, in
order of first citation; citing the same finding again reuses its number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rich.console import Group
from rich.text import Text

MARKER_STYLE = "bold cyan"
# A paragraph starts at a sentence opening with a short label and a colon (as
# core/export.py and web/findings.js split it); markers may stand between the two.
_MARK = "\x00"  # a marker's place while the text is split into paragraphs
_PARAGRAPH = re.compile(r"(?<=[.!?”\"\x00])\s+(?=[A-Z][A-Za-z0-9 ,'’()-]{2,40}:\s)")


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

    def text(self, style: str = "", *, paragraphs: bool = False) -> Text:
        """The text with its markers; ``paragraphs`` starts a paragraph at each labelled
        sentence ("Entry point: …"), as the page and the Markdown export do. The text came
        in arbitrary chunks, so it is split as a whole, a marker standing as one NUL."""
        numbers = [p for p in self.pieces if isinstance(p, int)]
        joined = "".join(p.replace(_MARK, "") if isinstance(p, str) else _MARK for p in self.pieces)
        if paragraphs:
            joined = _PARAGRAPH.sub("\n\n", joined)
        out = Text(style=style)
        for i, chunk in enumerate(joined.split(_MARK)):
            if i:
                out.append(f"[{numbers[i - 1]}]", style=MARKER_STYLE)
            out.append(chunk)
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
