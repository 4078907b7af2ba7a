"""The chat half of ``dossier research``: questions answered while the research runs.

Each question is its own task (over the WebSocket, see :meth:`Client.ask`), so one slow
answer blocks neither the progress nor the next question. An answer streams into the
live display and is printed whole, with its citation markers and sources, when it ends;
if it was built on partial data, what is pending is said, and the revised answer is
printed when the missing data lands. Lines starting with ``/`` are commands.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.text import Text

from dossier.cli.cited import CitedText
from dossier.client import Client, ClientError

HELP = "/skip <type|source> · /focus <type|source> · /stop (summarize now) · /help · /quit"
_YOU = "bold magenta"


@dataclass(frozen=True)
class Command:
    """A parsed input line: ``ask`` (text), ``steer`` (action, target), ``quit``,
    ``help``, ``empty`` or ``invalid`` (text says why)."""

    kind: str
    text: str = ""
    action: str | None = None
    target: str | None = None


def parse_command(line: str) -> Command:
    text = line.strip()
    if not text:
        return Command("empty")
    if not text.startswith("/"):
        return Command("ask", text)
    name, _, arg = text[1:].partition(" ")
    name, arg = name.lower(), arg.strip()
    if name in ("quit", "exit", "q"):
        return Command("quit")
    if name in ("help", "?", "h"):
        return Command("help")
    if name == "stop":
        return Command("steer", action="stop_and_summarize")
    if name in ("skip", "focus"):
        if not arg:
            return Command("invalid", f"/{name} needs a data type or source, e.g. /{name} jobs")
        return Command("steer", action=name, target=arg.lower())
    return Command("invalid", f"unknown command /{name}; {HELP}")


@dataclass
class AnswerView:
    """One question and its answer as the frames arrive."""

    question: str
    account: str
    id: str = field(default_factory=lambda: "q_" + secrets.token_hex(4))
    cited: CitedText = field(default_factory=CitedText)
    basis: str = ""
    pending: list[str] = field(default_factory=list)
    end: dict[str, Any] | None = None

    def apply(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "answer.start":
            self.basis = str(frame.get("basis") or "")
            self.pending = [str(p) for p in frame.get("pending") or []]
        elif kind == "answer.delta":
            self.cited.add(str(frame.get("text") or ""))
        elif kind == "answer.citation":
            self.cited.cite(frame)
        elif kind == "answer.end":
            self.end = frame
            self.pending = [str(p) for p in frame.get("pending") or []]

    def streaming(self) -> RenderableType:
        line = Text(f"{self.account} › ", style="bold")
        line.append_text(self.cited.text())
        line.append("▍", style="dim")
        return line

    def block(self) -> RenderableType:
        """The finished answer: text with markers, sources, basis and what is pending."""
        line = Text(f"{self.account} › ", style="bold")
        if self.cited.plain.strip():
            line.append_text(self.cited.text())
        else:
            line.append("(no answer)", style="dim")
        parts: list[RenderableType] = [line, self.cited.sources_list()]
        basis = Text(f"  basis: {self.basis or '?'}", style="dim")
        if self.pending:
            basis.append(f" · still collecting: {', '.join(self.pending)}", style="yellow")
            basis.append(" — a revised answer follows when it lands", style="dim")
        end = self.end or {}
        if end.get("partial"):
            error = end.get("error")
            error = error if isinstance(error, dict) else {}
            basis.append(f" · cut short: {error.get('message', 'provider error')}", style="red")
        parts.append(basis)
        return Group(*parts)

    def revised(self, frame: dict[str, Any]) -> RenderableType:
        cited = CitedText.of(str(frame.get("text") or ""), frame.get("citations") or [])
        head = Text("  ↻ revised: ", style="bold yellow")
        head.append(f"“{self.question}”", style=_YOU)
        head.append(f" ({frame.get('reason') or 'new data'})", style="dim")
        line = Text(f"{self.account} › ", style="bold")
        line.append_text(cited.text())
        return Group(head, line, cited.sources_list())


class Chat:
    """Runs questions and commands against one session, printing through ``console``."""

    def __init__(
        self,
        client: Client,
        session_id: str,
        account: str,
        console: Console,
        *,
        refresh: Callable[[], None] = lambda: None,
    ) -> None:
        self.client = client
        self.session_id = session_id
        self.account = account
        self.console = console
        self.streaming: dict[str, AnswerView] = {}  # answers still arriving (live display)
        self._refresh = refresh
        self._tasks: set[asyncio.Task[None]] = set()

    def live(self) -> RenderableType:
        return Group(*(view.streaming() for view in self.streaming.values()))

    async def run(
        self, lines: asyncio.Queue[str | None], tg: asyncio.TaskGroup, *, one_at_a_time: bool
    ) -> bool:
        """Handle lines until ``/quit`` (returns True) or the end of input (False).

        ``one_at_a_time``: wait for each answer's end before the next line (piped input,
        where lines arrive all at once); on a terminal, questions overlap.
        """
        while (line := await lines.get()) is not None:
            command = parse_command(line)
            if command.kind == "quit":
                return True
            if command.kind == "help":
                self.console.print(Text(f"  {HELP}", style="dim"))
            elif command.kind == "invalid":
                self.console.print(Text(f"  {command.text}", style="yellow"))
            elif command.kind == "steer":
                await self.steer(command)
            elif command.kind == "ask":
                ended = asyncio.Event()
                task = tg.create_task(self.ask(command.text, ended))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
                if one_at_a_time:
                    await ended.wait()
        return False

    async def drain(self, timeout_s: float) -> None:
        """Let answers in flight (and their revisions) finish, for at most ``timeout_s``."""
        if self._tasks:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout_s):
                    await asyncio.gather(*self._tasks, return_exceptions=True)
        self.stop()

    def stop(self) -> None:
        for task in self._tasks:
            task.cancel()

    async def ask(self, question: str, ended: asyncio.Event) -> None:
        view = AnswerView(question, self.account)
        you = Text("you › ", style=_YOU)
        self.console.print(you.append(question))
        self.streaming[view.id] = view
        try:
            async for frame in self.client.ask(self.session_id, question, question_id=view.id):
                kind = frame.get("type")
                if kind == "answer.revised":
                    self.console.print(view.revised(frame))
                elif kind == "suggestions":
                    items = [str(i) for i in frame.get("items") or []]
                    if items:
                        self.console.print(Text(f"  try: {' · '.join(items)}", style="dim"))
                    ended.set()  # the answer is over, as far as the next question cares
                else:
                    view.apply(frame)
                    if kind == "answer.end":
                        self.streaming.pop(view.id, None)
                        self.console.print(view.block())
                self._refresh()
        except ClientError as exc:
            self.console.print(Text(f"  ! could not answer: {exc.message}", style="red"))
        finally:
            self.streaming.pop(view.id, None)
            ended.set()

    async def steer(self, command: Command) -> None:
        assert command.action is not None
        label = f"{command.action} {command.target or ''}".strip()
        try:
            ack = await self.client.steer(self.session_id, command.action, command.target)
        except ClientError as exc:
            self.console.print(Text(f"  ! {label}: {exc.message}", style="red"))
            return
        said = str(ack.get("message") or ack.get("applies_at") or "acknowledged")
        self.console.print(Text(f"  → {label}: {said}", style="cyan"))
