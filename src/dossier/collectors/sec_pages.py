"""HTML scanners for the EDGAR pages behind a filing (stdlib :class:`html.parser.HTMLParser`).

Split from :mod:`dossier.collectors.sec_forms`, which gives these pages their meaning; this
module only knows markup. A tokenizer rather than regular expressions over the markup, so
attribute order and quoting, tag case, entities, tags nested in a cell and left-out
closing tags do not change what is read.

- Filing index page (``…-index.html``) -> :class:`IndexPage`: the ``infoHead``/``info``
  pairs of its header ("Filing Date" -> ``["2026-03-06"]``, "Items" -> one line per
  ``<br>``) and the rows of its document tables, cell by cell.
- Filing document (8-K HTML or inline XBRL) -> :func:`document_text`: its text, one line
  per block (paragraph, ``div``, heading, list item, table cell or row) and per ``<br>``.
  A block's start tag also starts a line, so a page that leaves out ``</p>`` still gives
  one line per paragraph.

Markup ``html.parser`` gives up on (an unknown ``<![keyword[`` section) ends the reading
there: what came before it is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

_WS_RE = re.compile(r"\s+")
_CELL_TAGS = frozenset({"td", "th"})
# blocks: a line of text starts and ends with each, so a name and its title in two cells (or
# two paragraphs) never run together
_BLOCK_TAGS = frozenset({"p", "li", "div", "td", "th", "tr", "h1", "h2", "h3", "h4", "h5", "h6"})
# never shown: a script that spells "Item 5.02" must not start the item
_HIDDEN_TAGS = frozenset({"script", "style"})

_Attrs = list[tuple[str, str | None]]


def _collapse(text: str) -> str:
    return _WS_RE.sub(" ", text.replace("\xa0", " ")).strip()


@dataclass(frozen=True)
class Cell:
    """One table cell: ``<th>`` or ``<td>``, its visible text and the links inside it."""

    header: bool
    text: str
    hrefs: tuple[str, ...] = ()


@dataclass(frozen=True)
class IndexPage:
    """What an EDGAR filing index page states (see the module docstring)."""

    info: dict[str, list[str]] = field(default_factory=dict)
    rows: list[list[Cell]] = field(default_factory=list)


@dataclass
class _OpenCell:
    header: bool
    text: list[str] = field(default_factory=list)
    hrefs: list[str] = field(default_factory=list)


@dataclass
class _Block:
    """An ``infoHead`` (``heading`` None) or ``info`` div being read, line by line."""

    heading: str | None
    depth: int  # of the div that opened it: its own ``</div>`` ends it, not a nested one
    lines: list[str] = field(default_factory=lambda: [""])


class _IndexScanner(HTMLParser):
    """Reads ``<div class="infoHead">`` / ``<div class="info">`` pairs and table rows.

    An ``info`` block belongs to the ``infoHead`` it directly follows (no tag or text
    between them, as EDGAR writes them); a heading's first block counts. A new ``<tr>``,
    ``<td>`` or ``<th>`` ends the open cell or row, as in browsers, so a page that leaves
    out ``</td>`` still gives one cell per ``<td>``.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._page = IndexPage()
        self._div_depth = 0
        self._block: _Block | None = None
        self._pending_head: str | None = None
        self._row: list[Cell] | None = None
        self._cell: _OpenCell | None = None

    def result(self) -> IndexPage:
        """The page as read so far (also after html.parser gave up)."""
        self._end_row()
        return self._page

    def handle_starttag(self, tag: str, attrs: _Attrs) -> None:
        if tag == "div":
            self._start_div(attrs)
        elif self._block is None:
            self._pending_head = None
        elif tag == "br":
            self._block.lines.append("")
        if tag == "tr":
            self._end_row()
            self._row = []
        elif tag in _CELL_TAGS:
            self._end_cell()
            if self._row is None:
                self._row = []  # a cell outside any <tr> still makes a row, as browsers do
            self._cell = _OpenCell(header=tag == "th")
        if self._cell is not None:
            self._cell.hrefs += [value for key, value in attrs if key == "href" and value]
            if tag == "br" or tag in _BLOCK_TAGS:
                self._cell.text.append(" ")  # two lines of a cell are two words, not one

    def handle_startendtag(self, tag: str, attrs: _Attrs) -> None:
        self.handle_starttag(tag, attrs)
        if tag != "br":
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "div":
            self._end_div()
        elif self._block is None:
            self._pending_head = None
        if tag in _CELL_TAGS:
            self._end_cell()
        elif tag in ("tr", "table"):
            self._end_row()

    def handle_data(self, data: str) -> None:
        if self._block is not None:
            self._block.lines[-1] += data
        elif data.strip():
            self._pending_head = None
        if self._cell is not None:
            self._cell.text.append(data)

    def _start_div(self, attrs: _Attrs) -> None:
        self._div_depth += 1
        if self._block is not None:
            self._block.lines.append("")  # a div inside a block is a line of its text
            return
        classes = {
            token for key, value in attrs if key == "class" for token in (value or "").split()
        }
        if "infoHead" in classes:
            self._block = _Block(None, self._div_depth)
        elif "info" in classes and self._pending_head is not None:
            self._block = _Block(self._pending_head, self._div_depth)
        self._pending_head = None

    def _end_div(self) -> None:
        block = self._block
        if block is not None and block.depth == self._div_depth:
            self._block = None
            if block.heading is None:
                self._pending_head = _collapse(" ".join(block.lines))
            else:
                lines = [line for line in map(_collapse, block.lines) if line]
                self._page.info.setdefault(block.heading, lines)
        elif block is None:
            self._pending_head = None
        else:
            block.lines.append("")
        self._div_depth = max(0, self._div_depth - 1)

    def _end_cell(self) -> None:
        cell, self._cell = self._cell, None
        if cell is not None and self._row is not None:
            self._row.append(Cell(cell.header, _collapse("".join(cell.text)), tuple(cell.hrefs)))

    def _end_row(self) -> None:
        self._end_cell()
        if self._row is not None:
            self._page.rows.append(self._row)
        self._row = None


class _TextScanner(HTMLParser):
    """Visible text, with a line break at each ``<br>`` and where a block starts or ends.

    Any other tag is a word break (as the regular expressions this replaced read it): that
    never glues two words markup kept apart, at the cost of a space where inline XBRL
    splits a word ("NVIDIA CORP</ix:nonNumeric>ORATION"). Comments, declarations and
    script or style content are not text.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden: str | None = None

    def handle_starttag(self, tag: str, attrs: _Attrs) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden = tag
        self.parts.append("\n" if tag == "br" or tag in _BLOCK_TAGS else " ")

    def handle_endtag(self, tag: str) -> None:
        if tag == self._hidden:
            self._hidden = None
        self.parts.append("\n" if tag in _BLOCK_TAGS else " ")

    def handle_data(self, data: str) -> None:
        if self._hidden is None:
            self.parts.append(data)

    def handle_comment(self, data: str) -> None:
        self.parts.append(" ")

    def handle_decl(self, decl: str) -> None:
        self.parts.append(" ")

    def handle_pi(self, data: str) -> None:
        self.parts.append(" ")

    def unknown_decl(self, data: str) -> None:
        self.parts.append(" ")


def _feed(scanner: HTMLParser, markup: str) -> None:
    try:
        scanner.feed(markup)
        scanner.close()
    except (AssertionError, ValueError):  # html.parser gives up on some broken markup
        pass


def scan_index_page(markup: str) -> IndexPage:
    """The header blocks and table rows of an EDGAR filing index page."""
    scanner = _IndexScanner()
    _feed(scanner, markup)
    return scanner.result()


def document_text(markup: str) -> str:
    """Text of a filing document: one line per block, whitespace collapsed, no blank lines.

    Line breaks in the source stay line breaks, as the regular expressions this replaced
    kept them (documents in ``<pre>`` depend on them).
    """
    scanner = _TextScanner()
    _feed(scanner, markup)
    text = "".join(scanner.parts).replace("\xa0", " ")
    return "\n".join(_WS_RE.sub(" ", line).strip() for line in text.splitlines() if line.strip())
