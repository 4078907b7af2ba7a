"""``dossier ask SESSION QUESTION``: one answer, streamed, from a running server."""

from __future__ import annotations

import typer
from rich.text import Text

from dossier.cli.chat import AnswerView
from dossier.cli.common import (
    EXIT_OK,
    ServerOption,
    TokenOption,
    api_token,
    run,
    server_url,
    stdout_console,
)
from dossier.client import Client


def ask(
    session_id: str = typer.Argument(..., metavar="SESSION", help="The session id (s_…)."),
    question: str = typer.Argument(
        ..., metavar="QUESTION", help='The question, e.g. "Who should I talk to?"'
    ),
    server: str | None = ServerOption,
    token: str | None = TokenOption,
    wait: bool = typer.Option(
        True,
        "--wait/--no-wait",
        help="If the answer waited for data still being collected, wait for its revision.",
    ),
) -> None:
    """Ask one question about a session; the answer streams, cited.

    It is answered at once from what the session knows, even while the research runs.
    Markers like [1] point into the sources listed under the answer; what is still being
    collected is said, and (unless --no-wait) the revised answer follows when it lands.
    """
    url = server_url(server)
    run(_ask(url, api_token(token), session_id, question, wait))


async def _ask(url: str, token: str | None, session_id: str, question: str, wait: bool) -> int:
    console = stdout_console()
    view = AnswerView(question, account="answer")
    printed = 0  # how much of the answer (with its markers) is on screen
    async with Client(url, token=token) as client:
        async for frame in client.ask(session_id, question, wait_for_revision=wait):
            kind = frame.get("type")
            if kind == "answer.revised":
                console.print(view.revised(frame))
                continue
            view.apply(frame)
            if kind in ("answer.delta", "answer.citation"):
                text = view.cited.text()
                console.print(text[printed:], end="")
                printed = len(text)
            elif kind == "answer.end":
                console.print()
                console.print(view.cited.sources_list())
                if view.pending:
                    note = f"still collecting: {', '.join(view.pending)}"
                    note += "; waiting for the revised answer" if wait else ""
                    console.print(Text(note, style="yellow"))
    return EXIT_OK
