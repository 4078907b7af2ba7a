"""Session registry records (what the event log keeps beside the events)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from dossier.core.states import SessionStatus
from dossier.core.types import Account, Vendor


class WorkflowKind(StrEnum):
    """The two workflows of a session (durable names: part of workflow ids and the log)."""

    VENDOR_CONTEXT = "vendor_context"  # who we are
    CUSTOMER_INTELLIGENCE = "customer_intelligence"  # who they are


WORKFLOW_KINDS: tuple[WorkflowKind, ...] = tuple(WorkflowKind)


def workflow_id(session_id: str, kind: str) -> str:
    """Durable workflow ids derive from the session id: recovery and lookups need no table."""
    return f"{session_id}.{kind}"


def split_workflow_id(wf_id: str) -> tuple[str, str] | None:
    session_id, _, kind = wf_id.rpartition(".")
    if not session_id or kind not in WORKFLOW_KINDS:
        return None
    return session_id, kind


@dataclass
class SessionRecord:
    session_id: str
    account: Account
    vendor: Vendor
    status: SessionStatus
    created_at: str
    cached: bool = False
    # Who started it: they see it all and steer or cancel it.
    owners: set[str] = field(default_factory=set)
    # Who joined it (opened the same account while it ran): they share the research, not
    # the owners' chat or control (``core/privacy.py``).
    members: set[str] = field(default_factory=set)

    @property
    def account_key(self) -> str:
        return self.account.key

    @property
    def vendor_hash(self) -> str:
        return self.vendor.hash

    @property
    def workflow_ids(self) -> dict[str, str]:
        return {kind: workflow_id(self.session_id, kind) for kind in WORKFLOW_KINDS}
