"""The MCP backend over a running dossier server (``dossier mcp --server URL``), through
the package's own client: the server decides everything (auth, limits, errors), and its
errors come back as dossier errors with the server's code and message."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

from dossier.client import Client, ClientError
from dossier.errors import DossierError
from dossier.mcp.backend import ExportFormat, OnFrame
from dossier.mcp.embedded import is_change

T = TypeVar("T")


def translated(exc: ClientError) -> DossierError:
    return DossierError(exc.message, code=exc.code)


async def _call(call: Awaitable[T]) -> T:
    try:
        return await call
    except ClientError as exc:
        raise translated(exc) from exc


class RemoteBackend:
    def __init__(self, client: Client) -> None:
        self._client = client

    async def open(
        self, account: dict[str, Any], vendor: dict[str, Any] | None, refresh: bool
    ) -> dict[str, Any]:
        fields = dict(account)
        name = fields.pop("name", "")
        domain = fields.pop("domain", None)
        opened = await _call(
            self._client.create_session(name, domain, refresh=refresh, vendor=vendor, **fields)
        )
        opened.pop("links", None)
        return opened

    async def snapshot(self, session_id: str) -> dict[str, Any]:
        snapshot = await _call(self._client.snapshot(session_id))
        snapshot.pop("links", None)
        return snapshot

    async def wait_for_change(self, session_id: str, after_seq: int, timeout_s: float) -> bool:
        events = self._client.events(session_id, after=after_seq, follow=True)
        try:
            async with asyncio.timeout(timeout_s), contextlib.aclosing(events):  # type: ignore[type-var]
                async for event in events:
                    if is_change(event):
                        return True
        except TimeoutError:
            return False
        except ClientError as exc:
            raise translated(exc) from exc
        return False

    async def ask(
        self, session_id: str, question: str, wait_for_revision_s: float, on_frame: OnFrame
    ) -> None:
        frames: AsyncIterator[dict[str, Any]] = self._client.ask(
            session_id,
            question,
            wait_for_revision=wait_for_revision_s > 0,
            revision_timeout_s=max(wait_for_revision_s, 0.001),
            transport="http",
        )
        try:
            async with contextlib.aclosing(frames):  # type: ignore[type-var]
                async for frame in frames:
                    await on_frame(frame)
        except ClientError as exc:
            raise translated(exc) from exc

    async def steer(self, session_id: str, action: str, target: str | None) -> dict[str, Any]:
        return await _call(self._client.steer(session_id, action, target))

    async def cancel(self, session_id: str) -> dict[str, Any]:
        return await _call(self._client.cancel(session_id))

    async def export(self, session_id: str, format: ExportFormat) -> str:
        return await _call(self._client.export(session_id, format))

    async def list_sessions(self, account: str | None, limit: int) -> list[dict[str, Any]]:
        sessions = await _call(self._client.list_sessions(account, limit))
        for session in sessions:
            session.pop("links", None)
            session.pop("vendor", None)
        return sessions
