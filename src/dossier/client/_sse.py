"""An incremental ``text/event-stream`` parser: the client side of SSE, no I/O.

Used by :mod:`dossier.client`; usable on its own by anything reading a dossier stream.

The parser follows the HTML Living Standard's "interpreting an event stream" rules: lines
end in CRLF, LF or a lone CR (a CRLF split across two chunks is one line end); a leading
BOM is dropped; ``:`` starts a comment; one space after the field's colon is removed;
several ``data:`` lines join with LF; ``id:`` sets the last event ID (ignored if it holds
a NUL) and persists across events; ``retry:`` takes ASCII digits only; a blank line
dispatches, but only if a ``data:`` line was seen; an unterminated event at the end of
the stream is discarded.

With ``bare_ids=True`` a block with an ``id:`` and no data (dossier's way of moving a
reader past an event it may not see: another principal's chat) is returned too, as a
message whose ``event`` is empty, so a reader can tell a skipped seq from a lost one.
"""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass

_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class SSEMessage:
    """One dispatched server-sent event.

    ``event`` is ``"message"`` when the frame named no type; ``last_event_id`` is the
    stream's last event ID once this event's fields were read (it persists, as for
    EventSource, so it is the id to resume from).
    """

    event: str
    data: str
    last_event_id: str

    def json(self) -> object:
        """The data as JSON (raises ValueError when it is not)."""
        return json.loads(self.data)


class SSEParser:
    """Feed it chunks (bytes or str) as they arrive; it returns the complete events.

    Bytes are decoded as UTF-8 incrementally (a character split across chunks is kept
    whole; invalid bytes become U+FFFD, as the spec asks).
    """

    def __init__(self, *, bare_ids: bool = False) -> None:
        self._bare_ids = bare_ids
        self._id_seen = False  # this block had an ``id:`` line
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._partial = ""  # the current unterminated line
        self._after_cr = False  # the last chunk ended in CR: a leading LF completes a CRLF
        self._started = False  # for the BOM, which only counts at the very start
        self._data: list[str] = []
        self._event = ""
        self._id = ""
        self.last_event_id = ""
        self.retry_ms: int | None = None
        self.comments = 0

    def feed(self, chunk: bytes | str) -> list[SSEMessage]:
        text = self._decoder.decode(chunk) if isinstance(chunk, bytes) else chunk
        if not text:
            return []
        if not self._started:
            self._started = True
            text = text.removeprefix("\ufeff")
        if self._after_cr and text.startswith("\n"):
            text = text[1:]
        self._after_cr = text.endswith("\r")
        *lines, self._partial = _LINE_END.split(self._partial + text)
        out: list[SSEMessage] = []
        for line in lines:
            message = self._line(line)
            if message is not None:
                out.append(message)
        return out

    def _line(self, line: str) -> SSEMessage | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            self.comments += 1
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._id = value
                self._id_seen = True
        elif name == "retry" and value.isascii() and value.isdigit():
            self.retry_ms = int(value)
        return None  # any other field is ignored, as the spec says

    def _dispatch(self) -> SSEMessage | None:
        self.last_event_id = self._id
        data, event, id_seen = self._data, self._event, self._id_seen
        self._data, self._event, self._id_seen = [], "", False
        if not data:
            if self._bare_ids and id_seen:
                return SSEMessage("", "", self.last_event_id)
            return None
        return SSEMessage(event or "message", "\n".join(data), self.last_event_id)
