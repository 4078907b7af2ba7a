"""Reading the user's lines while the research output keeps moving.

Two sources with one interface (``lines``, an asyncio queue of submitted lines, ``None``
at end of input):

* :class:`KeyInput` for a terminal: cbreak mode (no echo, key by key) so the line being
  typed is drawn by the live display itself, below the scrolling output, and is never
  torn by it (what prompt_toolkit does, in the few keys a chat prompt needs). Ctrl-C
  still raises SIGINT; the terminal mode is restored on exit, whatever happens.
* :class:`LineInput` for pipes and files: a daemon thread reading lines (a daemon, so a
  read that never returns cannot keep the process alive).
"""

from __future__ import annotations

import asyncio
import codecs
import os
import sys
import threading
from collections.abc import Callable
from types import TracebackType
from typing import IO, Any

_BACKSPACE = ("\x7f", "\x08")
_KILL_LINE = "\x15"  # Ctrl-U
_KILL_WORD = "\x17"  # Ctrl-W
_EOF = "\x04"  # Ctrl-D
_ESC = "\x1b"


def is_interactive(stream: IO[str]) -> bool:
    """A real terminal we can put in cbreak mode."""
    try:
        import termios  # noqa: F401  (POSIX only)

        return stream.isatty() and stream.fileno() >= 0
    except (ImportError, AttributeError, OSError, ValueError):
        return False


class KeyInput:
    """The line being typed (``buffer``) and the submitted ones (``lines``)."""

    def __init__(self, on_change: Callable[[], None], stream: IO[str] | None = None) -> None:
        self.buffer = ""
        self.lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._on_change = on_change
        self._stream = stream or sys.stdin
        self._fd = -1
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._escape = ""  # an escape sequence in progress (arrow keys...): ignored
        self._saved: list[Any] | None = None

    def __enter__(self) -> KeyInput:
        import termios
        import tty

        self._fd = self._stream.fileno()
        self._saved = termios.tcgetattr(self._fd)
        tty.setcbreak(self._fd)
        asyncio.get_running_loop().add_reader(self._fd, self._readable)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        import termios

        asyncio.get_running_loop().remove_reader(self._fd)
        if self._saved is not None:
            termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)

    def _readable(self) -> None:
        try:
            data = os.read(self._fd, 1024)
        except OSError:
            data = b""
        if not data:
            asyncio.get_running_loop().remove_reader(self._fd)
            self.lines.put_nowait(None)
            return
        for key in self._decoder.decode(data):
            self.key(key)
        self._on_change()

    def key(self, key: str) -> None:
        """Apply one key to the buffer (public for tests)."""
        if self._escape:
            self._escape += key
            # CSI/SS3 sequences end with a letter or ~; a lone ESC + letter is Alt+key.
            introduced = len(self._escape) > 2 or self._escape[1] not in "[O"
            if introduced and (key.isalpha() or key == "~" or len(self._escape) > 16):
                self._escape = ""
            return
        if key == _ESC:
            self._escape = key
        elif key in ("\r", "\n"):
            line, self.buffer = self.buffer, ""
            self.lines.put_nowait(line)
        elif key in _BACKSPACE:
            self.buffer = self.buffer[:-1]
        elif key == _KILL_LINE:
            self.buffer = ""
        elif key == _KILL_WORD:
            self.buffer = self.buffer.rstrip().rpartition(" ")[0]
            self.buffer += " " if self.buffer else ""
        elif key == _EOF:
            if not self.buffer:
                self.lines.put_nowait(None)
        elif key.isprintable():
            self.buffer += key


class LineInput:
    """Lines from a non-terminal stdin (pipes, files, test runners)."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.buffer = ""
        self.lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._stream = stream or sys.stdin

    def __enter__(self) -> LineInput:
        loop = asyncio.get_running_loop()

        def read() -> None:
            while True:
                try:
                    line: str | None = self._stream.readline()
                except (OSError, ValueError):
                    line = None
                line = line.rstrip("\r\n") if line else None
                try:
                    loop.call_soon_threadsafe(self.lines.put_nowait, line)
                except RuntimeError:
                    return  # the loop is gone: nobody is listening any more
                if line is None:
                    return

        threading.Thread(target=read, name="dossier-stdin", daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None
