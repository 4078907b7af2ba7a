"""The MCP backend over the services of this process (``dossier mcp`` without ``--server``,
and ``/mcp`` on ``dossier serve``): the same calls the HTTP routes make, as one principal.

:class:`SessionChanges` is the wake-up for ``research_status(wait_s=…)`` and for resource
update notifications: a FeedHub observer (it hears every committed event of this process,
and in scale-out the other processes' over the Redis bus), so a waiter wakes on the event
itself instead of polling the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import Callable, Sequence
from typing import Any

import anyio
from pydantic import ValidationError

from dossier.core.events import Event, EventType
from dossier.core.export import to_markdown
from dossier.core.sessions import CreateSession, SteerCommand
from dossier.errors import DossierError, InvalidInput
from dossier.mcp.backend import ExportFormat, OnFrame
from dossier.transport.deps import Services


def is_change(event: Event) -> bool:
    """Whether an event changes what a caller sees (a liveness beat does not)."""
    return not (event.type == EventType.STEP_PROGRESS and event.data.get("beat") is True)


class SessionChanges:
    """Wakes waiters when a session's log moves; tells listeners which sessions did."""

    def __init__(self) -> None:
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self.listeners: list[Callable[[str, Sequence[Event]], None]] = []

    def observe(self, events: Sequence[Event]) -> None:
        by_session: dict[str, list[Event]] = {}
        for event in events:
            if is_change(event):
                by_session.setdefault(event.session, []).append(event)
        for session_id, changed in by_session.items():
            for waiter in self._waiters.get(session_id, ()):
                waiter.set()
            for listener in self.listeners:
                listener(session_id, changed)

    @contextlib.contextmanager
    def waiter(self, session_id: str) -> Any:
        event = asyncio.Event()
        self._waiters.setdefault(session_id, set()).add(event)
        try:
            yield event
        finally:
            waiters = self._waiters.get(session_id)
            if waiters is not None:
                waiters.discard(event)
                if not waiters:
                    del self._waiters[session_id]


def invalid_input(exc: ValidationError) -> InvalidInput:
    """A model's validation error in the words of the HTTP API's 422 (``field: problem``)."""
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first.get("loc", ()))
    return InvalidInput(f"{field or 'body'}: {first.get('msg', 'invalid')}")


class ServicesBackend:
    """One principal's view of the services (what ``principal_of_conn`` gives a route)."""

    def __init__(
        self, services: Services, changes: SessionChanges, principal: str, client_key: str
    ) -> None:
        self._services = services
        self._changes = changes
        self._principal = principal
        # the rate limiters' key, as the HTTP routes compute it (``deps.client_key``)
        self._client_key = client_key

    async def open(
        self, account: dict[str, Any], vendor: dict[str, Any] | None, refresh: bool
    ) -> dict[str, Any]:
        try:
            body = CreateSession.model_validate(
                {"account": account, "vendor": vendor, "refresh": refresh}
            )
        except ValidationError as exc:
            raise invalid_input(exc) from exc
        await self._services.session_limiter.hit(self._client_key)
        opened = await self._services.sessions.open(body, self._principal)
        return {
            "session_id": opened.session_id,
            "status": opened.status.value,
            "joined": opened.joined,
            "cached": opened.cached,
        }

    async def snapshot(self, session_id: str) -> dict[str, Any]:
        return await self._services.sessions.snapshot(session_id, self._principal)

    async def wait_for_change(self, session_id: str, after_seq: int, timeout_s: float) -> bool:
        sessions = self._services.sessions
        await sessions.record(session_id, self._principal)
        with self._changes.waiter(session_id) as woken:
            # Registered before looking, so an event committed in between still wakes us.
            if any(map(is_change, await sessions.events_after(session_id, after_seq, 500))):
                return True
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout_s):
                    await woken.wait()
                    return True
        return False

    async def ask(
        self, session_id: str, question: str, wait_for_revision_s: float, on_frame: OnFrame
    ) -> None:
        services = self._services
        record = await services.sessions.record(session_id, self._principal)
        await services.question_limiter.hit(self._client_key + ":" + session_id)
        question_id = "q_" + secrets.token_hex(4)
        revised: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

        async def on_revision(frame: dict[str, Any]) -> None:
            if frame.get("id") == question_id and not revised.done():
                revised.set_result(frame)

        # Listening before asking: a revision can follow the answer within a tick.
        stop = services.chat.listen(
            session_id, on_revision, services.sessions.viewer(record, self._principal)
        )
        try:
            try:
                end = await services.chat.answer(
                    session_id, question_id, question, on_frame, asker=self._principal
                )
            except asyncio.CancelledError:
                # The host cancelled the call: the answer still ends on the log, so the
                # other tabs stop waiting for it (as a cancel on the chat socket does).
                # Shielded: the SDK cancels with an anyio scope, which cancels every await.
                with anyio.CancelScope(shield=True), contextlib.suppress(DossierError):
                    await services.chat.log_cancelled(
                        session_id, question_id, question, asker=self._principal
                    )
                raise
            if not end.get("pending") or wait_for_revision_s <= 0:
                return
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait_for_revision_s):
                    await on_frame(await revised)
        finally:
            stop()

    async def steer(self, session_id: str, action: str, target: str | None) -> dict[str, Any]:
        try:
            command = SteerCommand(action=action, target=target)
        except ValidationError as exc:
            raise invalid_input(exc) from exc
        return await self._services.sessions.steer(session_id, self._principal, command)

    async def cancel(self, session_id: str) -> dict[str, Any]:
        done = await self._services.sessions.cancel(session_id, self._principal)
        # as the API answers: a member's cancel only detaches them
        return {"session_id": session_id, "status": done.status.value, "detached": done.detached}

    async def export(self, session_id: str, format: ExportFormat) -> str:
        snapshot = await self.snapshot(session_id)
        if format == "json":
            return json.dumps(snapshot, ensure_ascii=False)
        return to_markdown(snapshot)

    async def list_sessions(self, account: str | None, limit: int) -> list[dict[str, Any]]:
        try:
            records = await self._services.sessions.list(
                self._principal, account=account, limit=limit
            )
        except ValidationError as exc:
            raise invalid_input(exc) from exc
        return [
            {
                "session_id": r.session_id,
                "status": r.status.value,
                "account": r.account.model_dump(mode="json"),
                "cached": r.cached,
                "created_at": r.created_at,
            }
            for r in records
        ]
