"""The one interface the MCP tools use, whatever runs the research behind them.

Two implementations: :class:`~dossier.mcp.embedded.ServicesBackend` (the services of this
process) and :class:`~dossier.mcp.remote.RemoteBackend` (a dossier server, over its HTTP
API); ``tests/fakes`` has a third for unit tests. Every method raises the dossier error
tree (:mod:`dossier.errors`) with the same codes and messages as the HTTP API, so the tools
map errors in one place.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal, Protocol

Frame = dict[str, Any]  # a chat frame: {"type": "answer.delta", "id": ..., "text": ...}
OnFrame = Callable[[Frame], Awaitable[None]]
ExportFormat = Literal["md", "json"]


class Backend(Protocol):
    """What an MCP session may do, as one caller (principal) of one dossier."""

    async def open(
        self, account: dict[str, Any], vendor: dict[str, Any] | None, refresh: bool
    ) -> dict[str, Any]:
        """Start, join or serve from cache: ``{session_id, status, joined, cached}``.
        Raises InvalidInput (the API's 422 message) for a bad account or vendor."""
        ...

    async def snapshot(self, session_id: str) -> dict[str, Any]:
        """The session's state (``GET /api/sessions/{id}``); NotFound if not visible."""
        ...

    async def wait_for_change(self, session_id: str, after_seq: int, timeout_s: float) -> bool:
        """Wait until the session's log has an event after ``after_seq`` that is not a
        liveness beat (True), or ``timeout_s`` passed (False)."""
        ...

    async def ask(
        self, session_id: str, question: str, wait_for_revision_s: float, on_frame: OnFrame
    ) -> None:
        """Answer now, passing this answer's chat frames to ``on_frame`` (``answer.start``
        … ``answer.end``); if it waited for data, its ``answer.revised`` too when it comes
        within ``wait_for_revision_s``."""
        ...

    async def steer(self, session_id: str, action: str, target: str | None) -> dict[str, Any]:
        """The acknowledgement (``POST /steer``)."""
        ...

    async def cancel(self, session_id: str) -> dict[str, Any]:
        """``{session_id, status}``; Conflict when it already ended."""
        ...

    async def export(self, session_id: str, format: ExportFormat) -> str:
        """The brief as Markdown, or the snapshot as JSON text."""
        ...

    async def list_sessions(self, account: str | None, limit: int) -> list[dict[str, Any]]:
        """The caller's sessions, newest first (``GET /api/sessions``)."""
        ...
