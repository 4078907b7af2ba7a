"""Citation markers in streamed model text -> text without them, plus citation chunks.

The model cites findings with markers like ``[f_0123456789abcdef]`` (see
:mod:`dossier.providers.prompts`). Tokens arrive in arbitrary pieces, so a marker may be
split anywhere (``[f_01`` + ``23…]``); the parser holds back only what may still become a
marker and passes everything else through at once, unchanged.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from contextlib import aclosing

from dossier.core.ports import CitationMark, ProviderChunk, TextDelta
from dossier.core.types import Citation, Finding
from dossier.errors import DossierError

_GROUP_MAX_CHARS = 200
_ID_RE = re.compile(r"f_[0-9a-f]{16}")
_TOKEN_RE = re.compile(r"[fF]_[0-9A-Za-z]*")
_HSPACE = " \t"


class CitationParser:
    """Streams model text in, gives text without citation markers plus citations out.

    A marker group is ``[`` ids ``]`` where ids are ``f_…`` tokens (any case) separated by
    commas, semicolons or spaces. Known, well-formed ids become ``CitationMark`` chunks (each
    finding at most once per answer); unknown or malformed ids are dropped silently. Spaces
    or tabs right before a group go with it, so "sentence [f_…]." reads "sentence."; trailing
    spaces are held until the next character shows whether a group follows. Any
    other text, including a ``[`` that does not start a group, passes through unchanged.
    Markers may be split anywhere across ``feed`` calls: a possible marker prefix is held
    back (at most ~200 characters) until it is decided.
    """

    def __init__(self, findings: Iterable[Finding]) -> None:
        self._known = {f.id: f for f in findings}
        self._cited: set[str] = set()
        self._held = ""

    def feed(self, text: str) -> list[ProviderChunk]:
        """Chunks ready to emit after ``text``; consecutive text is merged into one delta."""
        out = _Chunks()
        buf = self._held + text
        self._held = ""
        i = 0
        while True:
            j = buf.find("[", i)
            if j == -1:
                tail = buf[i:]
                kept = tail.rstrip(_HSPACE)
                out.text(kept)
                self._held = tail[len(kept) :]
                return out.items
            k = j
            while k > i and buf[k - 1] in _HSPACE:
                k -= 1
            end = _scan_group(buf, j)
            if end > 0:
                out.text(buf[i:k])
                self._cite(buf[j:end], out)
                i = end
            elif end < 0:
                out.text(buf[i:k])
                self._held = buf[k:]
                return out.items
            else:
                out.text(buf[i : j + 1])
                i = j + 1

    def flush(self) -> list[ProviderChunk]:
        """What is still held at the end of the stream. A cut-off ``[f_…`` group is dropped."""
        held, self._held = self._held, ""
        out = _Chunks()
        start = held.find("[")
        if start >= 0 and _TOKEN_RE.search(held, start):
            return out.items
        out.text(held)
        return out.items

    def _cite(self, group: str, out: _Chunks) -> None:
        for token in _TOKEN_RE.findall(group):
            fid = token.lower()
            finding = self._known.get(fid)
            if finding is None or not _ID_RE.fullmatch(fid) or fid in self._cited:
                continue
            self._cited.add(fid)
            out.cite(Citation(finding=fid, url=finding.url, title=finding.title))


class _Chunks:
    def __init__(self) -> None:
        self.items: list[ProviderChunk] = []

    def text(self, text: str) -> None:
        if not text:
            return
        if self.items and isinstance(last := self.items[-1], TextDelta):
            self.items[-1] = TextDelta(last.text + text)
        else:
            self.items.append(TextDelta(text))

    def cite(self, citation: Citation) -> None:
        self.items.append(CitationMark(citation))


def _scan_group(buf: str, start: int) -> int:
    """At ``buf[start] == "["``: the end of a complete marker group, -1 if ``buf`` ends
    inside what may still become one, 0 if it cannot be one."""
    state = "open"  # expecting spaces or an id
    for idx in range(start + 1, len(buf)):
        if idx - start >= _GROUP_MAX_CHARS:
            return 0
        ch = buf[idx]
        if state == "open":
            if ch in _HSPACE:
                continue
            if ch not in "fF":
                return 0
            state = "f"
        elif state == "f":
            if ch != "_":
                return 0
            state = "id"
        elif state == "id" and ch.isascii() and ch.isalnum():
            continue
        elif ch == "]":
            return idx + 1
        elif ch in ",;":
            state = "open"
        elif ch in _HSPACE:
            state = "gap"
        elif state == "gap" and ch in "fF":
            state = "f"
        else:
            return 0
    return -1


async def cite_stream(
    texts: AsyncGenerator[str, None], parser: CitationParser
) -> AsyncIterator[ProviderChunk]:
    """Model text deltas -> provider chunks with citations mapped back to findings.

    Raises what ``texts`` raises. On a ``DossierError`` after something was yielded, the
    text still held back is yielded first, so a partial answer loses nothing it showed.
    """
    yielded = False
    try:
        # aclosing: an abandoned answer closes the provider's HTTP stream now, not at GC.
        async with aclosing(texts):
            async for text in texts:
                for chunk in parser.feed(text):
                    yielded = True
                    yield chunk
    except DossierError:
        if yielded:
            for chunk in parser.flush():
                yield chunk
        raise
    for chunk in parser.flush():
        yield chunk
