"""What a tool call returns: a result, or a tool error in the HTTP API's words.

Every refusal leaves as ``isError`` with ``{"error": {"code", "message"}}`` as structured
content (the API's error body) and ``error <code>: <message>`` as text. That includes
arguments that do not fit a tool's input schema: :class:`ArgumentErrors` checks them
before the SDK would (with the tool's own argument model, so both agree on what is valid),
and refuses them as ``invalid_input`` with the API's 422 message, ``field: problem``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver.tools import Tool
from mcp_types import CallToolResult, TextContent
from pydantic import ValidationError

from dossier.errors import DossierError
from dossier.mcp.embedded import invalid_input


def ok(structured: dict[str, Any], text: str) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=text)], structured_content=structured
    )


def tool_error(exc: DossierError) -> CallToolResult:
    """The HTTP API's error body, as a tool error the model can read and act on."""
    body = {"error": {"code": exc.code, "message": exc.message}}
    return CallToolResult(
        content=[TextContent(type="text", text=f"error {exc.code}: {exc.message}")],
        structured_content=body,
        is_error=True,
    )


async def guarded(call: Awaitable[CallToolResult]) -> CallToolResult:
    try:
        return await call
    except DossierError as exc:
        return tool_error(exc)


class ArgumentErrors:
    """Server middleware: a ``tools/call`` whose arguments its tool would refuse is answered
    with an ``invalid_input`` tool error (unknown tools and well-formed calls pass on)."""

    def __init__(self, tools: Sequence[Tool]) -> None:
        self._tools = {tool.name: tool for tool in tools}

    async def __call__(
        self, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        params = ctx.params
        if ctx.method == "tools/call" and isinstance(params, Mapping):
            tool = self._tools.get(str(params.get("name")))
            arguments = params.get("arguments") or {}
            if tool is not None and isinstance(arguments, Mapping):
                try:
                    tool.fn_metadata.validate_arguments(dict(arguments))
                except ValidationError as exc:
                    return tool_error(invalid_input(exc))
        return await call_next(ctx)
