"""MCP vs the HTTP API on one running server: ``research_start`` round trip and ``ask``
first-answer latency, the same work asked both ways, interleaved.

- research_start: the MCP tool (opens or joins, and reads the session's state) vs
  ``POST /api/sessions`` + ``GET /api/sessions/{id}`` (what an HTTP client needs for the
  same answer). The account's research is kept running (slow replay), so both join it.
- ask: the MCP tool without waiting for a revision (returns at ``answer.end``) vs ``POST
  /api/sessions/{id}/questions`` read until ``answer.end``, mid-research.

    python bench/mcp_latency.py --base http://127.0.0.1:8000 [--runs 60] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

import httpx
from mcp import Client

QUESTIONS = (
    "Which teams are they hiring for?",
    "Who should I talk to?",
    "What is new with them?",
    "Give me an overview",
)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def http_start(http: httpx.AsyncClient) -> str:
    opened = (await http.post("/api/sessions", json={"account": {"name": "Stripe"}})).json()
    (await http.get(f"/api/sessions/{opened['session_id']}")).raise_for_status()
    return str(opened["session_id"])


async def http_ask(http: httpx.AsyncClient, session_id: str, question: str) -> None:
    body = {"content": question, "wait_for_revision": False}
    async with http.stream("POST", f"/api/sessions/{session_id}/questions", json=body) as stream:
        async for line in stream.aiter_lines():
            if line == "event: answer.end":
                return
    raise RuntimeError("the answer stream ended without answer.end")


async def mcp_call(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    if result.is_error or result.structured_content is None:
        raise RuntimeError(f"{tool}: {result.content}")
    return dict(result.structured_content)


async def timed(call: Any) -> float:
    started = time.perf_counter()
    await call
    return (time.perf_counter() - started) * 1000


async def measure(base: str, runs: int) -> dict[str, Any]:
    out: dict[str, Any] = {"ok": True}
    async with httpx.AsyncClient(base_url=base, timeout=30) as http, Client(base + "/mcp") as mcp:
        session_id = await http_start(http)  # the research both sides join
        for _ in range(3):  # warm both paths (imports, pools, the first fold)
            await http_start(http)
            await mcp_call(mcp, "research_start", {"account": "Stripe"})
        times: dict[str, list[float]] = {
            k: [] for k in ("http_start", "mcp_start", "http_ask", "mcp_ask")
        }
        for i in range(runs):
            question = QUESTIONS[i % len(QUESTIONS)]
            pairs = [
                ("http_start", http_start(http)),
                ("mcp_start", mcp_call(mcp, "research_start", {"account": "Stripe"})),
                ("http_ask", http_ask(http, session_id, question)),
                ("mcp_ask", mcp_call(mcp, "ask", {"session_id": session_id, "question": question})),
            ]
            if i % 2:  # interleave: neither side always goes first
                pairs = [pairs[1], pairs[0], pairs[3], pairs[2]]
            for key, call in pairs:
                times[key].append(await timed(call))
        still = (await http.get(f"/api/sessions/{session_id}")).json()["status"]
        out["mid_research"] = still == "running"
    for key, values in times.items():
        out[f"{key}_p50_ms"] = round(statistics.median(values), 3)
        out[f"{key}_p99_ms"] = round(pct(values, 99), 3)
    out["start_ratio"] = round(out["mcp_start_p50_ms"] / out["http_start_p50_ms"], 3)
    out["ask_ratio"] = round(out["mcp_ask_p50_ms"] / out["http_ask_p50_ms"], 3)
    out["runs"] = runs
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(measure(args.base, args.runs))
    print(json.dumps(result) if args.json else json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
