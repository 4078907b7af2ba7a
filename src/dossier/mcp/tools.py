"""The MCP tools: start a research, follow it, ask it, steer, cancel, export, list.

Each returns at once (``research_status`` and ``ask`` wait at most 25 s, well under the
~60 s a host allows a tool call) with structured content and a short text
(``views.py``). A dossier error becomes a tool error with the HTTP API's code and
message (``results.py``), and so do arguments that do not fit the input schema.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.tools import Tool
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field

from dossier.core.chat import MAX_QUESTION_CHARS
from dossier.core.types import MAX_NAME_CHARS
from dossier.errors import DossierError, InvalidInput
from dossier.mcp import views
from dossier.mcp.backend import Backend, Frame
from dossier.mcp.results import guarded, ok

Ctx = Context[Any, Any]
BackendOf = Callable[[Ctx], Backend]
Touched = Callable[[str, Backend], None]  # a session the caller works with (resource updates)
ToolFn = Callable[..., Any]
MAX_WAIT_S = 25.0
BRIEF_LINE_CHARS = 20_000  # a brief's paragraphs are long; they are quoted whole
SessionId = Annotated[
    str,
    Field(
        description="The session id research_start returned (s_…).",
        min_length=1,
        max_length=64,
    ),
]
WaitS = Annotated[float, Field(ge=0, le=MAX_WAIT_S)]


class VendorArg(BaseModel):
    """Who is selling (defaults to the server's configured vendor)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=MAX_NAME_CHARS)
    domain: str | None = Field(default=None, max_length=253)
    description: str | None = Field(default=None, max_length=4000)
    sells_to: list[str] = Field(default_factory=list, max_length=10)


class Progress:
    """``notifications/progress`` for one call (a no-op without a progress token): the
    value only ever rises, as the spec asks."""

    def __init__(self, ctx: Ctx) -> None:
        self._ctx = ctx
        self._last = -1.0

    async def __call__(self, progress: float, total: float | None, message: str) -> None:
        if progress <= self._last:
            return
        self._last = progress
        await self._ctx.report_progress(progress, total, message)


def make_tools(backend_of: BackendOf, touched: Touched) -> list[Tool]:
    """The tools, each calling ``backend_of(ctx)`` (the caller's backend)."""
    tools: list[Tool] = []
    read_only = ToolAnnotations(read_only_hint=True, open_world_hint=False)

    def tool(title: str, annotations: ToolAnnotations) -> Callable[[ToolFn], ToolFn]:
        def add(fn: ToolFn) -> ToolFn:
            tools.append(Tool.from_function(fn, title=title, annotations=annotations))
            return fn

        return add

    @tool(
        title="Start account research",
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=True
        ),
    )
    async def research_start(
        ctx: Ctx,
        account: Annotated[
            str, Field(description="The company, e.g. 'Stripe'.", max_length=MAX_NAME_CHARS)
        ],
        domain: Annotated[
            str | None, Field(description="Its web domain, e.g. 'stripe.com'.", max_length=253)
        ] = None,
        vendor: VendorArg | None = None,
        refresh: Annotated[
            bool, Field(description="Collect again even if a fresh result is cached.")
        ] = False,
    ) -> CallToolResult:
        """Start researching an account (or join the running research of it, or get a
        fresh cached one at once). Returns at once: the session id, its status, what is
        being collected and what is already known (a cached account: the whole brief).
        Then call research_status (with wait_s) to follow it and ask to question it while
        it runs."""

        async def run() -> CallToolResult:
            backend = backend_of(ctx)
            fields: dict[str, Any] = {"name": account}
            if domain is not None:
                fields["domain"] = domain
            opened = await backend.open(
                fields, vendor.model_dump(exclude_none=True) if vendor else None, refresh
            )
            session_id = str(opened["session_id"])
            touched(session_id, backend)
            snapshot = await backend.snapshot(session_id)
            status = views.status_view(snapshot, None, changed=True)
            result: dict[str, Any] = {
                **opened,
                "collecting": status["pending"],
                "coverage": status["coverage"],
                "findings_total": status["findings_total"],
                "cursor": status["cursor"],
                "brief": None,
                "resources": views.uris_of(session_id),
            }
            how = "joined the running" if opened["joined"] else "started a new"
            if opened["cached"]:
                how = "served from cache a"
            lines = [
                f"{how.capitalize()} research of {views.plain(account)}: "
                f"session {session_id}, {opened['status']}."
            ]
            if status["pending"]:
                lines.append(views.pending_line([p["data_type"] for p in status["pending"]]))
            if opened["status"] != "running":
                result["brief"] = await backend.export(session_id, "md")
                lines.append(
                    views.untrusted("brief", result["brief"].splitlines(), BRIEF_LINE_CHARS)
                )
            else:
                lines.append(
                    f"Known so far: {status['findings_total']} findings. Follow it with "
                    f"research_status(session_id, since='{status['cursor']}', wait_s=20); "
                    "ask questions now with ask(session_id, question)."
                )
            return ok(result, "\n".join(lines))

        return await guarded(run())

    @tool("Research status", read_only)
    async def research_status(
        ctx: Ctx,
        session_id: SessionId,
        since: Annotated[
            str | None,
            Field(
                description="The cursor of the previous call: only findings new since it.",
                max_length=40,
            ),
        ] = None,
        wait_s: Annotated[
            WaitS,
            Field(description="Wait up to this long (≤ 25 s) for the next change."),
        ] = 0.0,
    ) -> CallToolResult:
        """Where a research stands: status, coverage per data type, findings new since the
        cursor, data still being collected (with ETAs), and the next cursor. With wait_s it
        returns as soon as something changes (or after wait_s)."""

        async def run() -> CallToolResult:
            backend = backend_of(ctx)
            seq, _ = views.parse_cursor(since)
            touched(session_id, backend)
            snapshot = await backend.snapshot(session_id)
            if seq > int(snapshot.get("last_seq") or 0):
                raise InvalidInput("since: a cursor ahead of this session (from another one?)")
            changed = snapshot.get("last_seq", 0) > seq or since is None
            progress = Progress(ctx)
            if wait_s > 0 and snapshot.get("status") == "running":
                done, total = views.steps_of(snapshot)
                await progress(done, total or None, f"{done} of {total} steps done; waiting")
                changed = await backend.wait_for_change(session_id, seq, wait_s)
                snapshot = await backend.snapshot(session_id)
                done, total = views.steps_of(snapshot)
                await progress(done, total or None, f"{done} of {total} steps done")
            view = views.status_view(snapshot, since, changed)
            return ok(view, views.status_text(view))

        return await guarded(run())

    @tool(
        title="Ask the research",
        annotations=ToolAnnotations(
            read_only_hint=False,
            destructive_hint=False,
            idempotent_hint=False,  # each call records a turn in the session's chat
            open_world_hint=False,
        ),
    )
    async def ask(
        ctx: Ctx,
        session_id: SessionId,
        question: Annotated[
            str,
            Field(
                description="A question about the account, e.g. 'Who should I talk to?'",
                max_length=MAX_QUESTION_CHARS,
            ),
        ],
        wait_for_revision_s: Annotated[
            WaitS,
            Field(
                description="If the answer waits for data still being collected, wait up to "
                "this long (≤ 25 s) for its revision."
            ),
        ] = 0.0,
    ) -> CallToolResult:
        """Ask while the research runs: the same grounded answer as dossier's chat, from
        what is known now (text, citations with URLs, basis: cache, partial or complete,
        and the data types still pending), optionally with its revision when they land.
        The question is kept in the session's chat."""

        async def run() -> CallToolResult:
            backend = backend_of(ctx)
            touched(session_id, backend)
            answer = views.AnswerFrames()
            progress = Progress(ctx)
            total = 3.0 if wait_for_revision_s > 0 else 2.0

            async def on_frame(frame: Frame) -> None:
                phase = answer.add(frame)
                if phase == "started":
                    await progress(1, total, f"answering ({answer.basis} data)")
                elif phase == "answered":
                    said = "answered"
                    if answer.pending and wait_for_revision_s > 0:
                        said += "; waiting for " + ", ".join(answer.pending)
                    await progress(2, total, said)
                elif phase == "revised":
                    await progress(3, total, "revised: " + str(frame.get("reason") or ""))

            await backend.ask(session_id, question, wait_for_revision_s, on_frame)
            result = answer.result()
            if result["error"]:
                error = result["error"]
                raise DossierError(str(error.get("message")), code=str(error.get("code")))
            return ok(result, views.answer_text(result))

        return await guarded(run())

    @tool(
        title="Steer the research",
        annotations=ToolAnnotations(
            read_only_hint=False,
            destructive_hint=False,
            idempotent_hint=False,
            open_world_hint=False,
        ),
    )
    async def steer(
        ctx: Ctx,
        session_id: SessionId,
        action: Annotated[
            Literal["focus", "skip", "stop_and_summarize"],
            Field(
                description="focus: collect a data type or source first; skip: drop it; "
                "stop_and_summarize: stop collecting and write the brief from what is known."
            ),
        ],
        target: Annotated[
            str | None,
            Field(
                description="For focus/skip: a data type (news, jobs, funding, people, tech, "
                "profile) or a source name.",
                max_length=64,
            ),
        ] = None,
    ) -> CallToolResult:
        """Steer a running research at its next step boundary; says when it applies."""

        async def run() -> CallToolResult:
            ack = await backend_of(ctx).steer(session_id, action, target)
            return ok(ack, str(ack.get("message") or "acknowledged"))

        return await guarded(run())

    @tool(
        title="Cancel the research",
        annotations=ToolAnnotations(
            read_only_hint=False,
            destructive_hint=True,
            idempotent_hint=False,
            open_world_hint=False,
        ),
    )
    async def cancel(ctx: Ctx, session_id: SessionId) -> CallToolResult:
        """Cancel a running research (what was found stays readable)."""

        async def run() -> CallToolResult:
            result = await backend_of(ctx).cancel(session_id)
            return ok(result, f"Session {session_id} is {result['status']}.")

        return await guarded(run())

    @tool("Export the brief", read_only)
    async def export(
        ctx: Ctx,
        session_id: SessionId,
        format: Annotated[
            Literal["md", "json"],
            Field(description="md: the brief as Markdown; json: the whole session state."),
        ] = "md",
    ) -> CallToolResult:
        """The research as a Markdown brief (profile, analysis with numbered sources,
        findings, coverage, chat) or as JSON."""

        async def run() -> CallToolResult:
            content = await backend_of(ctx).export(session_id, format)
            if format == "json":
                return ok(json.loads(content), f"Session {session_id} as JSON (structured).")
            return ok(
                {"session_id": session_id, "format": "md", "markdown": content},
                views.untrusted("brief", content.splitlines(), BRIEF_LINE_CHARS),
            )

        return await guarded(run())

    @tool("List research sessions", read_only)
    async def list_sessions(
        ctx: Ctx,
        account: Annotated[
            str | None,
            Field(description="Only this account's sessions.", max_length=MAX_NAME_CHARS),
        ] = None,
        limit: Annotated[int, Field(ge=1, le=100)] = 20,
    ) -> CallToolResult:
        """Your research sessions, newest first: id, account, status, when."""

        async def run() -> CallToolResult:
            sessions = await backend_of(ctx).list_sessions(account, limit)
            lines = [
                f"{s['session_id']} {views.plain(str((s.get('account') or {}).get('name')))}"
                f" {s['status']} {s.get('created_at')}"
                for s in sessions
            ]
            return ok({"sessions": sessions}, "\n".join(lines) or "No sessions.")

        return await guarded(run())

    return tools
