"""The MCP tools over a fake backend, through the SDK's in-process client."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from mcp.server.subscriptions import InMemorySubscriptionBus
from mcp_types import CallToolResult, TextContent

from dossier.errors import Conflict, RateLimited
from dossier.mcp.server import build_server
from tests.unit.mcp.fake_backend import FakeBackend, snapshot


@pytest.fixture
def fake() -> FakeBackend:
    return FakeBackend()


def client_of(fake: FakeBackend) -> Client:
    return Client(build_server(lambda _: fake, InMemorySubscriptionBus()), cache=None)


def text_of(result: CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


async def test_dossier_errors_are_tool_errors_with_the_api_code_and_message(
    fake: FakeBackend,
) -> None:
    async with client_of(fake) as client:
        for error in (Conflict("session s_1 is already completed"), RateLimited("slow down")):
            fake.error = error
            result = await client.call_tool("cancel", {"session_id": "s_1"})
            assert result.is_error
            assert result.structured_content == {
                "error": {"code": error.code, "message": error.message}
            }
            assert text_of(result) == f"error {error.code}: {error.message}"


async def test_an_unexpected_failure_is_a_tool_error_that_tells_nothing_and_serving_goes_on(
    fake: FakeBackend,
) -> None:
    async with client_of(fake) as client:
        fake.error = RuntimeError("db password is hunter2")  # type: ignore[assignment]
        result = await client.call_tool("list_sessions", {})
        assert result.is_error and "hunter2" not in text_of(result)
        fake.error = None
        assert not (await client.call_tool("list_sessions", {})).is_error


async def test_ask_reports_rising_progress_and_returns_the_revision(fake: FakeBackend) -> None:
    fake.frames = [
        {"type": "answer.start", "id": "q", "basis": "partial", "pending": ["jobs"]},
        {"type": "answer.delta", "id": "q", "text": "Two teams."},
        {"type": "answer.end", "id": "q", "complete": False, "pending": ["jobs"]},
        {"type": "answer.revised", "id": "q", "text": "Three teams.", "citations": [],
         "reason": "jobs arrived", "pending": []},
    ]  # fmt: skip
    notes: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        notes.append((progress, total, message))

    async with client_of(fake) as client:
        args = {"session_id": "s_1", "question": "Which teams?", "wait_for_revision_s": 5}
        result = await client.call_tool("ask", args, progress_callback=on_progress)
    assert not result.is_error and result.structured_content is not None
    assert result.structured_content["revised"]["text"] == "Three teams."
    assert [n[:2] for n in notes] == [(1, 3), (2, 3), (3, 3)]
    assert notes[1][2] == "answered; waiting for jobs"
    assert fake.calls[-1] == ("ask", ("s_1", "Which teams?", 5.0))


async def test_an_answer_that_broke_off_is_a_tool_error(fake: FakeBackend) -> None:
    fake.frames = [
        {"type": "answer.start", "id": "q", "basis": "partial", "pending": []},
        {"type": "answer.end", "id": "q", "complete": False, "pending": [], "partial": True,
         "error": {"code": "provider_error", "message": "the analyst failed"}},
    ]  # fmt: skip
    async with client_of(fake) as client:
        result = await client.call_tool("ask", {"session_id": "s_1", "question": "Who?"})
    assert result.is_error and result.structured_content is not None
    assert result.structured_content["error"]["code"] == "provider_error"


async def test_status_waits_for_the_next_change_or_says_nothing_changed(
    fake: FakeBackend,
) -> None:
    fake.snapshots = [snapshot(last_seq=5), snapshot(findings=1, last_seq=6)]
    fake.change.set()
    async with client_of(fake) as client:
        result = await client.call_tool(
            "research_status", {"session_id": "s_1", "since": "5.0", "wait_s": 25}
        )
        assert result.structured_content is not None
        assert result.structured_content["changed"] is True
        assert result.structured_content["cursor"] == "6.1"
        assert ("wait_for_change", ("s_1", 5, 25.0)) in fake.calls
        fake.change.clear()
        fake.snapshots = [snapshot(findings=1, last_seq=6)]
        result = await client.call_tool(
            "research_status", {"session_id": "s_1", "since": "6.1", "wait_s": 0.01}
        )
        assert result.structured_content is not None
        assert result.structured_content["changed"] is False
        assert result.structured_content["new_findings"] == []


async def test_a_finished_research_is_not_waited_for(fake: FakeBackend) -> None:
    fake.snapshots = [snapshot(status="completed")]
    async with client_of(fake) as client:
        await client.call_tool("research_status", {"session_id": "s_1", "wait_s": 25})
    assert not any(name == "wait_for_change" for name, _ in fake.calls)


async def test_a_cached_account_returns_its_whole_brief_at_once(fake: FakeBackend) -> None:
    async def cached(*_: Any) -> dict[str, Any]:
        return {"session_id": "s_1", "status": "completed", "joined": False, "cached": True}

    fake.open = cached  # type: ignore[method-assign, assignment]
    fake.snapshots = [snapshot(status="completed", findings=3)]
    async with client_of(fake) as client:
        result = await client.call_tool("research_start", {"account": "Stripe"})
    assert result.structured_content is not None
    assert result.structured_content["brief"] == "# Dossier: Stripe\n"
    assert "Served from cache" in text_of(result)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"session_id": "s_1"}, "question: Field required"),
        ({"session_id": "s_1", "question": "Who?", "wait_for_revision_s": 26},
         "wait_for_revision_s: Input should be less than or equal to 25"),
        ({"session_id": ["s_1"], "question": "Who?"}, "session_id: Input should be a valid string"),
    ],
)  # fmt: skip
async def test_arguments_outside_the_schema_are_invalid_input_in_the_apis_words(
    fake: FakeBackend, arguments: dict[str, Any], message: str
) -> None:
    async with client_of(fake) as client:
        result = await client.call_tool("ask", arguments)
    assert result.is_error
    assert result.structured_content == {"error": {"code": "invalid_input", "message": message}}
    assert not fake.calls  # refused before the backend heard of it


async def test_a_cursor_ahead_of_the_session_is_invalid_input(fake: FakeBackend) -> None:
    async with client_of(fake) as client:
        result = await client.call_tool("research_status", {"session_id": "s_1", "since": "99.0"})
    assert result.structured_content is not None
    assert result.structured_content["error"]["code"] == "invalid_input"
