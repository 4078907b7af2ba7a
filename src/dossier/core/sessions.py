"""SessionService: open / join / serve-from-cache / cancel sessions, and who may see them.

Transports talk only to this. Opening an account that already has a running session for
the same vendor *joins* it (no duplicate work); a fresh cached result is served at once as
a complete session; otherwise a new session starts both workflows.

Joining shares the research, never the conversation or the control: with tokens, the
principal who started a session owns it (steers and cancels it); one who joined is a
member, who sees the research and only their own chat (``core/privacy.py``), may not steer,
and whose cancel detaches them (the research runs on for its owner).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from dossier.core import keys
from dossier.core.events import Event, EventType, NewEvent
from dossier.core.live import LiveStates
from dossier.core.ports import EventLog, WorkflowEngine
from dossier.core.presence import Presence
from dossier.core.privacy import Viewer
from dossier.core.records import WORKFLOW_KINDS, SessionRecord, split_workflow_id
from dossier.core.session_end import SessionEnd
from dossier.core.snapshot import SnapshotBuilder
from dossier.core.states import TERMINAL_STEP, TERMINAL_WORKFLOW, SessionStatus
from dossier.core.steer import describe as describe_steer
from dossier.core.types import Account, ClientId, Vendor, VendorRequest, iso_ms, utcnow
from dossier.errors import Conflict, Forbidden, InvalidInput, NotFound

log = logging.getLogger(__name__)

# Sessions created without a token (loopback, single user) belong to everyone local.
LOCAL_PRINCIPAL = "local"


_ABANDONED = "its workflows stopped and nothing was left to run them"


def principal_of(token: str | None) -> str:
    """Who a bearer token is, without keeping the token: a short hash."""
    if not token:
        return LOCAL_PRINCIPAL
    return "p_" + hashlib.sha256(token.encode()).hexdigest()[:16]


def new_session_id() -> str:
    return "s_" + secrets.token_hex(8)


class CreateSession(BaseModel):
    """``POST /api/sessions`` body."""

    model_config = ConfigDict(extra="forbid")

    account: Account
    vendor: VendorRequest | None = None
    refresh: bool = False


class SteerCommand(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: str = Field(pattern=r"^(focus|skip|stop_and_summarize)$")
    target: str | None = Field(default=None, max_length=64)
    id: ClientId | None = None


@dataclass(frozen=True)
class Opened:
    session_id: str
    status: SessionStatus
    joined: bool
    cached: bool


@dataclass(frozen=True)
class Cancelled:
    """What a cancel did: ended the session (its owner), or only detached a member."""

    status: SessionStatus
    detached: bool = False


class SessionService:
    def __init__(
        self,
        log: EventLog,
        engine: WorkflowEngine,
        states: LiveStates,
        *,
        default_vendor: Vendor,
        auth_enabled: bool,
        steer_targets: frozenset[str] = frozenset(),
        stop_grace_s: float = 2.0,
        presence: Presence | None = None,
    ) -> None:
        self._log = log
        # the streams and chat sockets open here, let go when their member leaves
        self.presence = presence if presence is not None else Presence()
        self._engine = engine
        self._states = states
        self._default_vendor = default_vendor
        self._auth_enabled = auth_enabled
        self._steer_targets = steer_targets
        self._grace_s = stop_grace_s
        # One opener at a time per (account, vendor) in this process, so two clicks on
        # "research Acme" join one session; entries go away when nobody waits.
        self._open_locks: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}

    @property
    def log(self) -> EventLog:
        """The durable log this service writes (the composition root and tests append to
        it directly, as a workflow would; transport goes through the methods below)."""
        return self._log

    async def ping(self) -> None:
        """Raises if the event log cannot be reached (readiness)."""
        await self._log.ping()

    # -- streams
    async def stream_has_more(
        self, session_id: str, workflow: str | None, after: int, follow: bool
    ) -> bool:
        """Whether a stream resuming after ``after`` has anything left to send: False once
        the client saw the end (of the session, or of ``workflow``) and does not follow.

        Raises InvalidInput for a Last-Event-ID beyond the last event.
        """
        last = await self._log.last_seq(session_id)
        if after > last:
            raise InvalidInput(
                f"Last-Event-ID {after} is beyond the last event ({last})",
                code="invalid_last_event_id",
            )
        if not follow and after > 0:
            end = await self._log.terminal_seq(session_id, workflow)
            if end is not None and after >= end:
                return False
        return True

    async def events_after(self, session_id: str, after: int, limit: int) -> list[Event]:
        """Events from the durable log, for a reader that fell behind the live window."""
        return await self._log.read_after(session_id, after, limit=limit)

    # -- access
    def visible(self, record: SessionRecord, principal: str) -> bool:
        return not self._auth_enabled or principal in record.owners or principal in record.members

    def owns(self, record: SessionRecord, principal: str) -> bool:
        """May steer and cancel it (without tokens there is one principal: everyone local)."""
        return not self._auth_enabled or principal in record.owners

    def viewer(self, record: SessionRecord, principal: str) -> Viewer | None:
        """What of the session's chat this principal sees (None: all of it, one principal)."""
        if not self._auth_enabled:
            return None
        return Viewer(principal, owner=principal in record.owners)

    async def record(self, session_id: str, principal: str) -> SessionRecord:
        """The session if this principal may see it; NotFound otherwise (no existence leak)."""
        record = await self._log.get_session(session_id)
        if record is None or not self.visible(record, principal):
            raise NotFound(f"no session {session_id}")
        return record

    async def record_of_workflow(self, wf_id: str, principal: str) -> tuple[SessionRecord, str]:
        parts = split_workflow_id(wf_id)
        if parts is None:
            raise NotFound(f"no workflow {wf_id}")
        record = await self.record(parts[0], principal)
        return record, parts[1]

    # -- open
    async def open(self, request: CreateSession, principal: str) -> Opened:
        vendor = request.vendor if request.vendor and request.vendor.known else self._default_vendor
        key = (request.account.key, vendor.hash)
        lock, users = self._open_locks.get(key, (asyncio.Lock(), 0))
        self._open_locks[key] = (lock, users + 1)
        try:
            async with lock:
                return await self._open_locked(request, vendor, principal)
        finally:
            lock, users = self._open_locks[key]
            if users <= 1:
                del self._open_locks[key]
            else:
                self._open_locks[key] = (lock, users - 1)

    async def _join(self, account: Account, vendor: Vendor, principal: str) -> Opened | None:
        running = await self._log.find_running(account.key, vendor.hash)
        if running is None:
            return None
        if not await self._engine.ensure_running(running):
            # Nothing will ever finish it: close it (so the account is not blocked) and
            # let the caller start anew.
            log.warning("session %s has no live workflows; ending it", running.session_id)
            await self._end(running.session_id, SessionStatus.FAILED, error=_ABANDONED)
            return None
        if principal not in running.owners:
            await self._log.add_member(running.session_id, principal)
        await self._log.append(
            running.session_id,
            [NewEvent(type=EventType.SESSION_JOINED, data={"account": account.name})],
        )
        return Opened(running.session_id, SessionStatus.RUNNING, joined=True, cached=False)

    async def _open_locked(self, request: CreateSession, vendor: Vendor, principal: str) -> Opened:
        # A running session is live work already: join it, even on refresh.
        account = request.account
        joined = await self._join(account, vendor, principal)
        if joined is not None:
            return joined
        record = SessionRecord(
            session_id=new_session_id(),
            account=account,
            vendor=vendor,
            status=SessionStatus.RUNNING,
            created_at=iso_ms(utcnow()),
            owners={principal},
        )
        cached_events = None if request.refresh else await self._engine.cached_events(record)
        if cached_events is not None:
            record.status, record.cached = SessionStatus.COMPLETED, True
        try:
            await self._log.create_session(record)
        except Conflict:
            # Another process opened it between our look and our insert: join theirs.
            joined = await self._join(account, vendor, principal)
            if joined is None:
                raise
            return joined
        created = NewEvent(
            type=EventType.SESSION_CREATED,
            data={
                "account": account.model_dump(mode="json"),
                "vendor": vendor.model_dump(mode="json"),
                "refresh": request.refresh,
                "cached": cached_events is not None,
                "created_at": record.created_at,
                "workflows": dict(record.workflow_ids),
            },
            dedup=keys.SESSION_CREATED,
        )
        if cached_events is not None:
            await self._log.append(record.session_id, [created, *cached_events])
            return Opened(record.session_id, SessionStatus.COMPLETED, joined=False, cached=True)
        await self._log.append(record.session_id, [created])
        try:
            await self._engine.start(record, refresh=request.refresh)
        except Exception as exc:
            log.exception("starting workflows of %s failed", record.session_id)
            await self._end(record.session_id, SessionStatus.FAILED, error=str(exc))
            raise
        return Opened(record.session_id, SessionStatus.RUNNING, joined=False, cached=False)

    # -- read
    async def snapshot(self, session_id: str, principal: str) -> dict[str, Any]:
        """The session as this principal may see it: the research, and their own chat."""
        record = await self.record(session_id, principal)
        builder = await self.state(session_id)
        return builder.to_json(self.viewer(record, principal))

    async def state(self, session_id: str) -> SnapshotBuilder:
        live = await self._states.get(session_id)
        return await live.catch_up()

    async def list(
        self, principal: str, *, account: str | None = None, limit: int = 50
    ) -> list[SessionRecord]:
        owner = principal if self._auth_enabled else None
        key = Account(name=account).key if account else None
        return await self._log.list_sessions(owner=owner, account_key=key, limit=limit)

    # -- control
    async def cancel(self, session_id: str, principal: str) -> Cancelled:
        """The owner's cancel ends the session for everyone; a member's detaches only them
        (it leaves their list; the research runs on for its owner)."""
        record = await self.record(session_id, principal)
        if record.status != SessionStatus.RUNNING:
            raise Conflict(f"session {session_id} is already {record.status.value}")
        if not self.owns(record, principal):
            await self._log.remove_member(session_id, principal)
            self.presence.leave(session_id, principal)
            return Cancelled(record.status, detached=True)
        # The end goes on the log first: that is what stops running steps in every process
        # (and makes a workflow's own end, should it get there, a no-op); then the engine
        # stops scheduling.
        await self._end(session_id, SessionStatus.CANCELLED, error=None)
        await self._engine.cancel(session_id)
        return Cancelled(SessionStatus.CANCELLED)

    async def steer(self, session_id: str, principal: str, command: SteerCommand) -> dict[str, Any]:
        """Acknowledge a steering command on the log, saying what it will actually do
        (``core/steer.py``). The logged ack *is* the command: every process running a step
        of the session hears it (``workflows/steering.py``)."""
        record = await self.record(session_id, principal)
        if not self.owns(record, principal):
            raise Forbidden(f"only the owner of session {session_id} can steer it (you joined it)")
        if record.status != SessionStatus.RUNNING:
            raise Conflict(f"session {session_id} is {record.status.value}; nothing to steer")
        if command.action in ("focus", "skip"):
            if not command.target:
                raise InvalidInput(
                    f"{command.action} needs a target (one of {sorted(self._steer_targets)})"
                )
            if self._steer_targets and command.target not in self._steer_targets:
                raise InvalidInput(
                    f"unknown target {command.target!r}; use one of {sorted(self._steer_targets)}"
                )
        said = describe_steer(
            await self.state(session_id), command.action, command.target, grace_s=self._grace_s
        )
        ack: dict[str, Any] = {
            "id": command.id,
            "action": command.action,
            "target": command.target,
            "applies_at": said.applies_at,
            "message": said.message,
        }
        await self._log.append(session_id, [NewEvent(type=EventType.STEER_ACK, data=ack)])
        return ack

    async def _end(self, session_id: str, status: SessionStatus, *, error: str | None) -> None:
        """Close every open workflow and step on the log, then the session itself.

        The dedup keys are the ones the workflows use, so if a workflow got there first
        (or gets there later) nothing is said twice.
        """
        builder = await self.state(session_id)
        kind_event = (
            EventType.WORKFLOW_CANCELLED
            if status == SessionStatus.CANCELLED
            else EventType.WORKFLOW_FAILED
        )
        events: list[NewEvent] = []
        for kind in WORKFLOW_KINDS:
            workflow = builder.workflows.get(kind)
            if workflow is not None and workflow.status in TERMINAL_WORKFLOW:
                continue
            for step in workflow.steps.values() if workflow else []:
                if step.status not in TERMINAL_STEP:
                    events.append(
                        NewEvent(
                            type=EventType.STEP_SKIPPED,
                            data={"reason": status.value},
                            workflow=kind,
                            step=step.name,
                            dedup=keys.step_end(kind, step.name),
                        )
                    )
            events.append(
                NewEvent(
                    type=kind_event,
                    data={"error": error} if error else {"reason": status.value},
                    workflow=kind,
                    dedup=keys.workflow_end(kind),
                )
            )
        coverage = builder.coverage()
        end = SessionEnd(status, coverage, found=len(builder.findings), error=error or None)
        events.append(end.event())
        await self._log.append(session_id, events)
        await self._log.set_status(session_id, status)
