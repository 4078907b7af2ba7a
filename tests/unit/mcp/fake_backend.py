"""A scripted Backend for the MCP tools' unit tests: canned snapshots and answer frames,
errors on demand, and a record of what the tools asked."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from dossier.errors import DossierError, NotFound
from dossier.mcp.backend import ExportFormat, OnFrame


def finding(n: int, title: str = "Stripe hires", kind: str = "news_article") -> dict[str, Any]:
    return {
        "id": f"f_{n:016x}",
        "kind": kind,
        "title": title,
        "source": "hn",
        "url": f"https://example.com/{n}",
        "observed_at": "2026-09-01T00:00:00Z",
        "published_at": None,
        "confidence": 0.9,
        "fields": {},
    }


def snapshot(
    session_id: str = "s_1", *, status: str = "running", findings: int = 0, last_seq: int = 5
) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "status": status,
        "account": {"name": "Stripe"},
        "workflows": {
            "customer_intelligence": {
                "status": "running" if status == "running" else "completed",
                "steps": [
                    {"name": "resolve", "status": "completed"},
                    {"name": "collect.greenhouse", "status": "running", "data_types": ["jobs"],
                     "eta_s": 3.2},
                    {"name": "collect.hn", "status": "completed", "data_types": ["news"]},
                ],
            }
        },
        "findings": [finding(n) for n in range(findings)],
        "vendor_findings": [],
        "coverage": {"news": {"state": "found", "found": findings}},
        "missing": [],
        "hint": None,
        "last_seq": last_seq,
    }  # fmt: skip


class FakeBackend:
    def __init__(self) -> None:
        self.snapshots: list[dict[str, Any]] = [snapshot()]
        self.frames: list[dict[str, Any]] = []
        self.error: DossierError | None = None
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.change = asyncio.Event()

    def _call(self, name: str, *args: Any) -> None:
        self.calls.append((name, args))
        if self.error is not None:
            raise self.error

    async def open(
        self, account: dict[str, Any], vendor: dict[str, Any] | None, refresh: bool
    ) -> dict[str, Any]:
        self._call("open", account, vendor, refresh)
        return {"session_id": "s_1", "status": "running", "joined": False, "cached": False}

    async def snapshot(self, session_id: str) -> dict[str, Any]:
        self._call("snapshot", session_id)
        if session_id != "s_1":
            raise NotFound(f"no session {session_id}")
        return self.snapshots[0] if len(self.snapshots) == 1 else self.snapshots.pop(0)

    async def wait_for_change(self, session_id: str, after_seq: int, timeout_s: float) -> bool:
        self._call("wait_for_change", session_id, after_seq, timeout_s)
        try:
            async with asyncio.timeout(timeout_s):
                await self.change.wait()
                return True
        except TimeoutError:
            return False

    async def ask(
        self, session_id: str, question: str, wait_for_revision_s: float, on_frame: OnFrame
    ) -> None:
        self._call("ask", session_id, question, wait_for_revision_s)
        for frame in self.frames:
            await on_frame(frame)

    async def steer(self, session_id: str, action: str, target: str | None) -> dict[str, Any]:
        self._call("steer", session_id, action, target)
        return {"action": action, "target": target, "applies_at": "now", "message": "Skipping."}

    async def cancel(self, session_id: str) -> dict[str, Any]:
        self._call("cancel", session_id)
        return {"session_id": session_id, "status": "cancelled"}

    async def export(self, session_id: str, format: ExportFormat) -> str:
        self._call("export", session_id, format)
        return json.dumps(self.snapshots[0]) if format == "json" else "# Dossier: Stripe\n"

    async def list_sessions(self, account: str | None, limit: int) -> list[dict[str, Any]]:
        self._call("list_sessions", account, limit)
        return []
