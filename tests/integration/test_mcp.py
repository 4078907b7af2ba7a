"""dossier over MCP, driven by the SDK's own client: ``dossier mcp`` on stdio (a subprocess,
replay sources) and ``/mcp`` on the app (streamable HTTP on a loopback port).

Replay answers come 700 ms apart, so the research is still running when the questions
are asked (as in test_chat.py); nothing here asserts on timing.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp_types import CallToolResult, TextContent, TextResourceContents
from pydantic import SecretStr

from dossier.app import create_app
from dossier.settings import Settings
from tests.sse import running_server

LATENCY_MS = 700
TOKEN = "mcp-s3cret"


def structured(result: CallToolResult) -> dict[str, Any]:
    assert result.structured_content is not None, result.content
    return dict(result.structured_content)


def text_of(result: CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, text_of(result)
    return structured(result)


async def first_findings(client: Client, session_id: str) -> dict[str, Any]:
    """research_status with wait_s until the first findings are in (a few changes)."""
    status = await call(client, "research_status", session_id=session_id)
    while status["findings_total"] == 0:
        status = await call(
            client, "research_status", session_id=session_id, since=status["cursor"], wait_s=25
        )
        assert status["changed"], "wait_s returned without a change while the research ran"
    return status


async def finished(client: Client, session_id: str, cursor: str) -> dict[str, Any]:
    status = await call(client, "research_status", session_id=session_id, since=cursor)
    while status["status"] == "running":
        status = await call(
            client, "research_status", session_id=session_id, since=status["cursor"], wait_s=25
        )
    return status


# -- stdio
def spawned(tmp_path: Path) -> Client:
    """``dossier mcp`` as a host runs it (entered in the test itself: the SDK's task groups
    must be left in the task that entered them, which an async fixture's teardown is not)."""
    command = shutil.which("dossier") or str(Path(__file__).parents[2] / ".venv/bin/dossier")
    params = StdioServerParameters(
        command=command,
        args=["mcp"],
        cwd=str(tmp_path),  # no .env of the developer's
        env={
            "DOSSIER_SOURCES": "replay",
            "DOSSIER_DATA_DIR": str(tmp_path / "data"),
            "DOSSIER_REPLAY_LATENCY_MS": str(LATENCY_MS),
            "DOSSIER_VENDOR_NAME": "Acme Analytics",
            "DOSSIER_VENDOR_DESCRIPTION": "fraud and risk analytics for payment teams",
        },
    )
    return Client(params)


async def test_stdio_research_of_stripe_asked_mid_run_revised_and_exported(
    tmp_path: Path,
) -> None:
    async with spawned(tmp_path) as stdio:
        await stdio_research(stdio)


async def stdio_research(stdio: Client) -> None:
    tools = {t.name: t for t in (await stdio.list_tools()).tools}
    assert set(tools) == {
        "research_start",
        "research_status",
        "ask",
        "steer",
        "cancel",
        "export",
        "list_sessions",
    }
    assert (
        tools["research_status"].annotations and tools["research_status"].annotations.read_only_hint
    )
    assert tools["cancel"].annotations and tools["cancel"].annotations.destructive_hint
    assert tools["ask"].input_schema["required"] == ["session_id", "question"]
    assert tools["ask"].input_schema["properties"]["wait_for_revision_s"]["maximum"] == 25

    started = await call(stdio, "research_start", account="Stripe")
    session_id = started["session_id"]
    assert started["status"] == "running" and not started["cached"]
    assert {p["data_type"] for p in started["collecting"]} >= {"jobs", "news"}

    # an answer from partial data: citations with URLs, and what is still pending
    status = await first_findings(stdio, session_id)
    notes: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        notes.append((progress, total, message))

    result = await stdio.call_tool(
        "ask",
        {"session_id": session_id, "question": "Give me an overview", "wait_for_revision_s": 25},
        progress_callback=on_progress,
    )
    answer = structured(result)
    assert answer["basis"] == "partial" and answer["pending"]
    assert answer["citations"] and all(c["url"].startswith("http") for c in answer["citations"])
    known = {
        f["id"]
        for f in (await call(stdio, "export", session_id=session_id, format="json"))["findings"]
    }
    assert {c["finding"] for c in answer["citations"]} <= known
    # a revision observed, and the progress of the call rising to it
    assert answer["revised"] is not None and answer["revised"]["reason"]
    assert [n[0] for n in notes] == [1, 2, 3] and notes[-1][1] == 3
    assert "untrusted_source_text" in text_of(result)

    done = await finished(stdio, session_id, status["cursor"])
    assert done["status"] in ("completed", "partial") and done["pending"] == []
    brief = await stdio.call_tool("export", {"session_id": session_id, "format": "md"})
    markdown = structured(brief)["markdown"]
    assert markdown.startswith("# Dossier: Stripe") and "## Sources" in markdown

    read = await stdio.read_resource(f"dossier://sessions/{session_id}")
    content = read.contents[0]
    assert isinstance(content, TextResourceContents) and content.text == markdown
    read = await stdio.read_resource(f"dossier://sessions/{session_id}/findings")
    content = read.contents[0]
    assert isinstance(content, TextResourceContents)
    assert {f["id"] for f in json.loads(content.text)["findings"]} <= known

    prompt = await stdio.get_prompt("prepare_call", {"account": "Stripe"})
    assert "research_start" in str(prompt.messages[0].content)

    listed = await call(stdio, "list_sessions", account="Stripe")
    assert session_id in {s["session_id"] for s in listed["sessions"]}


async def test_stdio_bad_arguments_are_tool_errors_with_the_api_codes(tmp_path: Path) -> None:
    async with spawned(tmp_path) as stdio:
        await bad_arguments(stdio)


async def bad_arguments(stdio: Client) -> None:
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("ask", {"session_id": "s_nope", "question": "Who?"}, "not_found"),
        ("research_start", {"account": "   "}, "invalid_input"),
        ("research_status", {"session_id": "s_nope", "since": "yesterday"}, "invalid_input"),
        ("cancel", {"session_id": "s_nope"}, "not_found"),
        ("research_status", {"session_id": "s_x", "wait_s": 600}, "invalid_input"),  # ≤ 25
        ("steer", {"session_id": "s_x", "action": "explode"}, "invalid_input"),  # an enum
        ("ask", {"session_id": "s_x"}, "invalid_input"),  # question is required
        ("export", {"session_id": "s_x", "format": "pdf"}, "invalid_input"),
        ("list_sessions", {"limit": "many"}, "invalid_input"),
    ]
    for tool, arguments, code in cases:
        result = await stdio.call_tool(tool, arguments)
        assert result.is_error, (tool, arguments)
        assert structured(result)["error"]["code"] == code, (tool, result)
    # the same message the HTTP API gives (422 "field: problem")
    result = await stdio.call_tool("research_start", {"account": "   "})
    assert structured(result)["error"]["message"].startswith("account.name:")
    result = await stdio.call_tool("research_status", {"session_id": "s_x", "wait_s": 600})
    assert structured(result)["error"]["message"] == (
        "wait_s: Input should be less than or equal to 25"
    )
    # and the server goes on serving
    assert (await call(stdio, "list_sessions"))["sessions"] == []


# -- streamable HTTP on the app
@pytest.fixture
def http_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"replay_latency_ms": LATENCY_MS, "api_token": SecretStr(TOKEN)}
    )


@pytest.fixture
async def base_url(http_settings: Settings) -> AsyncIterator[str]:
    async with running_server(create_app(http_settings)) as url:
        yield url


def http_client(url: str, token: str | None) -> Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = streamable_http_client(url, http_client=create_mcp_http_client(headers=headers))
    return Client(transport)


async def test_http_mcp_needs_the_api_token(base_url: str) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Accept": "application/json, text/event-stream"}
    async with httpx.AsyncClient(base_url=base_url) as http:
        for auth in ({}, {"Authorization": "Bearer wrong"}):
            response = await http.post("/mcp", json=body, headers={**headers, **auth})
            assert response.status_code == 401
            assert response.json()["error"]["code"] == "unauthorized"
        # on loopback, a page that rebinds a name to 127.0.0.1 is refused by its Host
        authorized = {**headers, "Authorization": f"Bearer {TOKEN}", "Host": "evil.example"}
        response = await http.post("/mcp", json=body, headers=authorized)
        assert response.status_code == 421
    with pytest.raises(ExceptionGroup):  # the SDK: the server answered with an error
        async with http_client(base_url + "/mcp", "wrong") as client:
            await client.list_tools()


async def test_http_mcp_research_ask_mid_run_and_resource_updates(base_url: str) -> None:
    async with http_client(base_url + "/mcp", TOKEN) as client:
        started = await call(client, "research_start", account="Stripe")
        session_id = started["session_id"]
        uri = f"dossier://sessions/{session_id}/findings"
        async with client.listen(resource_subscriptions=[uri]) as subscription:
            await first_findings(client, session_id)
            answer = await call(
                client, "ask", session_id=session_id, question="Who should I talk to?"
            )
            assert answer["basis"] == "partial" and answer["pending"]
            event = await anext(aiter(subscription))
            assert getattr(event, "uri", None) == uri
        # the HTTP API sees the same session, and the question in its chat
        async with httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": f"Bearer {TOKEN}"}
        ) as http:
            snapshot = (await http.get(f"/api/sessions/{session_id}")).json()
            metrics = (await http.get("/metrics")).text
        assert any(t["question"] == "Who should I talk to?" for t in snapshot["chat"])
        assert 'route="/mcp"' in metrics  # counted by its route, like every API call
        ack = await call(client, "steer", session_id=session_id, action="skip", target="tech")
        assert ack["action"] == "skip" and ack["applies_at"] and ack["message"]
        refused = await client.call_tool(
            "steer", {"session_id": session_id, "action": "focus", "target": "weather"}
        )
        assert structured(refused)["error"]["code"] == "invalid_input"
        assert "unknown target 'weather'" in structured(refused)["error"]["message"]
        cancelled = await call(client, "cancel", session_id=session_id)
        assert cancelled["status"] == "cancelled"
        again = await client.call_tool("cancel", {"session_id": session_id})
        assert again.is_error and structured(again)["error"]["code"] == "conflict"


async def test_stdio_against_a_server_uses_its_api_and_token(base_url: str, tmp_path: Path) -> None:
    params = spawned(tmp_path).server
    assert isinstance(params, StdioServerParameters)
    remote = params.model_copy(update={"args": ["mcp", "--server", base_url, "--token", TOKEN]})
    async with Client(remote) as client:
        started = await call(client, "research_start", account="Stripe")
        session_id = started["session_id"]
        uri = f"dossier://sessions/{session_id}"
        async with client.listen(resource_subscriptions=[uri]) as subscription:
            status = await first_findings(client, session_id)
            event = await anext(aiter(subscription))  # followed over the server's stream
            assert getattr(event, "uri", None) == uri
        answer = await call(client, "ask", session_id=session_id, question="Give me an overview")
        assert answer["basis"] == "partial" and answer["citations"] and answer["pending"]
        done = await finished(client, session_id, status["cursor"])
        assert done["status"] in ("completed", "partial")
        markdown = (await call(client, "export", session_id=session_id))["markdown"]
        assert markdown.startswith("# Dossier: Stripe")
        missing = await client.call_tool("ask", {"session_id": "s_nope", "question": "Who?"})
        assert structured(missing)["error"]["code"] == "not_found"
    bad = params.model_copy(update={"args": ["mcp", "--server", base_url, "--token", "wrong"]})
    async with Client(bad) as client:
        refused = await client.call_tool("list_sessions", {})
        assert refused.is_error and structured(refused)["error"]["code"] == "unauthorized"


async def test_http_mcp_sessions_are_the_callers_own(settings: Settings) -> None:
    two = settings.model_copy(update={"api_token": SecretStr("token-a,token-b")})
    async with running_server(create_app(two)) as base:
        async with http_client(base + "/mcp", "token-a") as alice:
            session_id = (await call(alice, "research_start", account="Stripe"))["session_id"]
            assert (await call(alice, "research_status", session_id=session_id))["status"]
        async with http_client(base + "/mcp", "token-b") as bob:
            result = await bob.call_tool("research_status", {"session_id": session_id})
            assert structured(result)["error"]["code"] == "not_found"
            assert (await call(bob, "list_sessions"))["sessions"] == []
