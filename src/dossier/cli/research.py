"""``dossier research NAME``: research an account live and chat with it while it runs.

Embedded by default: the real app runs in this process on a free loopback port (state in
DOSSIER_DATA_DIR) and the command talks to it over HTTP/SSE/WebSocket, exactly as it does
to a remote server with ``--server``. Progress is folded from the session's event stream
(which resumes by itself after a dropped connection); the chat runs beside it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass

import typer
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.text import Text

from dossier.cli.chat import Chat
from dossier.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    OutputClosed,
    TokenOption,
    api_token,
    exit_of,
    fail,
    load_settings,
    run,
    server_url,
    stderr_console,
    stdout_console,
)
from dossier.cli.embedded import embedded_server, quiet_logging
from dossier.cli.progress import ResearchProgress
from dossier.cli.terminal import KeyInput, LineInput, is_interactive
from dossier.client import Client, ClientError

_DRAIN_S = 5.0  # after the research ends: time for answers in flight to be revised
_TICK_S = 0.1


@dataclass
class _Run:
    """What the command knows so far (for the words it leaves when interrupted)."""

    server: str | None = None  # None: embedded
    session_id: str | None = None
    data_dir: str = ""


def research(
    name: str = typer.Argument(..., metavar="NAME", help="The company to research, e.g. Stripe."),
    domain: str | None = typer.Option(
        None, "--domain", metavar="DOMAIN", help="Its web domain (helps find it), e.g. stripe.com."
    ),
    json_output: bool = typer.Option(
        False, "--json", help="Print the final snapshot as JSON: no live view, no chat."
    ),
    no_chat: bool = typer.Option(False, "--no-chat", help="Show the progress only; no chat."),
    server: str | None = typer.Option(
        None,
        "--server",
        metavar="URL",
        help="Use this dossier server instead of running one in this process.",
    ),
    token: str | None = TokenOption,
    refresh: bool = typer.Option(
        False, "--refresh", help="Ignore cached results and collect everything again."
    ),
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="Print every retry of every source as it happens."
    ),
    vendor_name: str | None = typer.Option(
        None, "--vendor-name", metavar="NAME", help="Who we are (default: DOSSIER_VENDOR_NAME)."
    ),
    vendor_domain: str | None = typer.Option(
        None, "--vendor-domain", metavar="DOMAIN", help="Our own web domain."
    ),
    vendor_description: str | None = typer.Option(
        None,
        "--vendor-description",
        metavar="TEXT",
        help="What we sell, e.g. 'fraud and risk analytics for payment teams'.",
    ),
    sells_to: str | None = typer.Option(
        None,
        "--sells-to",
        metavar="ROLES",
        help="Roles or teams we sell to, comma-separated, e.g. 'risk, fraud operations'.",
    ),
) -> None:
    """Research an account live; ask questions while it runs.

    Progress streams per workflow and step; findings appear as they are found; the
    analysis is printed when the research completes. Meanwhile type a question: it is
    answered at once from what is known, with [n] citation markers and sources, and
    revised when missing data lands. Commands: /skip jobs, /focus news, /stop, /quit.

    Without --server the research runs in this process (state in DOSSIER_DATA_DIR);
    with --server it runs there, and keeps running if you quit or press Ctrl-C.

    Exit status: 0 completed, 3 partial (some data is missing; the report says why),
    1 failed or cancelled, 2 usage error.
    """
    if not name.strip():
        fail("the company name is empty: e.g. dossier research Stripe", EXIT_USAGE)
    state = _Run(server=server_url(server) if server else None)
    given: dict[str, object] = {
        "name": vendor_name,
        "domain": vendor_domain,
        "description": vendor_description,
        "sells_to": [r.strip() for r in sells_to.split(",") if r.strip()] if sells_to else None,
    }
    # none given: the server's DOSSIER_VENDOR_* settings apply
    vendor = {k: v for k, v in given.items() if v} or None
    try:
        run(
            _research(
                state, name, domain, json_output, not no_chat, token, refresh, verbose, vendor
            )
        )
    except KeyboardInterrupt:  # a second Ctrl-C while shutting down
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except typer.Exit as exit_:
        if exit_.exit_code == EXIT_INTERRUPTED and state.session_id:
            _leaving(stderr_console(), state, running=True)
        raise


async def _research(
    state: _Run,
    name: str,
    domain: str | None,
    json_output: bool,
    chat: bool,
    token: str | None,
    refresh: bool,
    verbose: bool = False,
    vendor: dict[str, object] | None = None,
) -> int:
    async with _client(state, token) as client:
        opened = await client.create_session(name, domain, refresh=refresh, vendor=vendor)
        state.session_id = session_id = str(opened["session_id"])
        if json_output:
            async for _ in client.events(session_id):
                pass
            snapshot = await client.snapshot(session_id)
            typer.echo(json.dumps(snapshot, indent=2, ensure_ascii=False))
            return exit_of(snapshot.get("status"))
        screen = _Screen(client, state, name, opened, chat=chat, verbose=verbose)
        return await screen.run()


@contextlib.asynccontextmanager
async def _client(state: _Run, token: str | None) -> AsyncIterator[Client]:
    if state.server is not None:
        async with Client(state.server, token=api_token(token)) as client:
            yield client
        return
    settings = load_settings(host="127.0.0.1")
    state.data_dir = str(settings.data_dir)
    with quiet_logging(stderr_console()):
        async with (
            embedded_server(settings) as url,
            Client(url, token=api_token(token, settings)) as client,
        ):
            yield client


class _Screen:
    """The live view (or plain lines when output is not a terminal) plus the chat."""

    def __init__(
        self,
        client: Client,
        state: _Run,
        account: str,
        opened: dict[str, object],
        *,
        chat: bool,
        verbose: bool = False,
    ) -> None:
        self.client = client
        self.state = state
        self.account = account
        self.opened = opened
        self.console = stdout_console()
        self.live_view = self.console.is_terminal and not self.console.is_dumb_terminal
        self.progress = ResearchProgress(verbose=verbose)
        self.session_id = str(opened["session_id"])
        self.live: Live | None = None
        self.chat = (
            Chat(client, self.session_id, account, self.console, refresh=self._refresh)
            if chat
            else None
        )
        self.keys: KeyInput | None = None
        if self.chat is not None and self.live_view and is_interactive(sys.stdin):
            self.keys = KeyInput(self._refresh)

    async def run(self) -> int:
        self._header()
        lines = self.keys or (LineInput() if self.chat is not None else None)
        if self.live_view:
            self.live = Live(
                get_renderable=self._render,
                console=self.console,
                auto_refresh=False,  # refreshed from the loop (_tick): state is not thread-safe
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
        with self.live or contextlib.nullcontext(), lines or contextlib.nullcontext():
            try:
                async with asyncio.TaskGroup() as tg:
                    ticker = tg.create_task(self._tick())
                    follow = tg.create_task(self._follow())
                    if self.chat is not None and lines is not None:
                        piped = self.keys is None
                        quit = await self.chat.run(lines.lines, tg, one_at_a_time=piped)
                        if quit or self.keys is not None:  # /quit, or Ctrl-D at a terminal
                            follow.cancel()
                            self.chat.stop()
                        else:  # piped questions ran out: see the research to its end
                            await follow
                            await self.chat.drain(_DRAIN_S)
                    else:
                        await follow
                    ticker.cancel()
            except BaseExceptionGroup as group:
                raise _first_error(group) from None
        if not self.progress.finished:
            _leaving(self.console, self.state, running=True)
            return EXIT_OK
        _leaving(self.console, self.state, running=False)
        return exit_of(self.progress.status)

    def _header(self) -> None:
        how = (
            "joined"
            if self.opened.get("joined")
            else "cached"
            if self.opened.get("cached")
            else "new"
        )
        where = self.state.server or "embedded"
        line = Text("dossier › researching ", style="bold")
        line.append(self.account, style="bold cyan")
        line.append(f"  session {self.session_id} ({how}) · {where}", style="dim")
        self.console.print(line)
        if self.chat is not None:
            self.console.print(
                Text(
                    "Ask anything while it runs · /skip jobs · /focus news · /stop · /quit",
                    style="dim",
                )
            )

    def _render(self) -> RenderableType:
        parts: list[RenderableType] = []
        answers = self.chat.live() if self.chat is not None else None
        if not self.progress.finished:
            # Leave room for the answers being streamed and the prompt under the table.
            streaming = 2 * len(self.chat.streaming) if self.chat is not None else 0
            room = self.console.size.height - streaming - 2
            parts.append(self.progress.live(max_lines=max(3, room)))
        if answers is not None:
            parts.append(answers)
        if self.keys is not None:
            prompt = Text("ask › ", style="bold magenta")
            prompt.append(self.keys.buffer)
            prompt.append("▌", style="magenta")
            if not self.keys.buffer:
                prompt.append(" a question, or /help", style="dim")
            parts.append(prompt)
        return Group(*parts)

    def _refresh(self) -> None:
        if self.live is not None:
            self.live.refresh()

    async def _tick(self) -> None:
        while self.live is not None:
            self.live.refresh()
            await asyncio.sleep(_TICK_S)

    async def _follow(self) -> None:
        async for event in self.client.events(self.session_id):
            for line in self.progress.apply(event, steps=not self.live_view):
                self.console.print(line)
            if self.progress.finished:
                self.console.print(self.progress.report(self.account))
                self._refresh()


def _leaving(console: Console, state: _Run, *, running: bool) -> None:
    sid = state.session_id
    if state.server is None:
        if running:
            console.print(
                f"[yellow]Stopped mid-research:[/] session {sid} resumes the next time dossier "
                f"runs with the data dir {escape(state.data_dir)}."
            )
        else:
            console.print(
                Text(
                    f"  session {sid} is kept in {state.data_dir}: `dossier serve`, then "
                    f"`dossier export {sid}`",
                    style="dim",
                )
            )
        return
    flag = f" --server {state.server}"
    if running:
        console.print(f"[yellow]The research continues on {escape(state.server)}:[/] session {sid}")
    console.print(
        Text(
            f'  dossier ask {sid} "…"{flag}  ·  dossier export {sid} --format md{flag}',
            style="dim",
        )
    )


def _first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The error to report from a task group: a ClientError if there is one."""
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            exc = _first_error(exc)
        if isinstance(exc, ClientError | KeyboardInterrupt | OutputClosed):
            return exc
    return group
