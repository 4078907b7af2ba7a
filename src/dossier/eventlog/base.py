"""What every EventLog implementation shares: seq assignment, dedup, delivery hook."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence

from dossier.core.events import Event, EventType, NewEvent
from dossier.core.records import SessionRecord
from dossier.core.states import SessionStatus
from dossier.core.types import Account, Vendor

log = logging.getLogger(__name__)

# Called on the event loop, in seq order, after the events are committed.
OnLogged = Callable[[list[Event]], None]


def publish(on_logged: OnLogged | None, logged: list[Event]) -> None:
    """Hand committed events to the hook; its failure must not fail the committed write."""
    if logged and on_logged is not None:
        try:
            on_logged(logged)
        except Exception:
            log.exception("event delivery hook failed")


# After ``session.completed`` only the chat may add to a log: a step still in flight when
# the session was cancelled must not write past the end the clients already saw.
AFTER_CLOSE = frozenset(
    {
        EventType.CHAT_QUESTION,
        EventType.ANSWER_START,
        EventType.ANSWER_END,
        EventType.ANSWER_REVISED,
        EventType.SUGGESTIONS,
    }
)


def assign_seqs(
    session_id: str,
    last_seq: int,
    new_events: Sequence[NewEvent],
    already_logged: Iterable[str],
    *,
    closed: bool = False,
) -> list[tuple[Event, str | None]]:
    """Give each event not yet logged (by dedup key) the next seq, gap-free.

    Returns (event, dedup key) pairs in seq order. Once the session is closed (its
    ``session.completed`` is logged, or is in this batch), only chat events are kept.
    """
    seen = set(already_logged)
    events: list[tuple[Event, str | None]] = []
    seq = last_seq
    for new in new_events:
        if closed and new.type not in AFTER_CLOSE:
            continue
        if new.type == EventType.SESSION_COMPLETED:
            closed = True
        if new.dedup is not None:
            if new.dedup in seen:
                continue
            seen.add(new.dedup)
        seq += 1
        events.append((Event.build(seq, session_id, new), new.dedup))
    return events


# The columns ``row_to_record`` reads, in its order, on a sessions table aliased ``s``.
RECORD_COLS = "s.session_id, s.account, s.vendor, s.status, s.cached, s.created_at"


def list_sessions_sql(
    *,
    sessions: str,
    owners: str,
    members: str,
    mark: str,
    owner: str | None,
    account_key: str | None,
    limit: int,
) -> tuple[str, list[object]]:
    """``SELECT`` of the newest session records, optionally one principal's (owned or
    joined) or one account's.

    ``sessions``/``owners``/``members`` are the backend's table names, ``mark`` its
    placeholder."""
    sql = f"SELECT {RECORD_COLS} FROM {sessions} s"
    where: list[str] = []
    args: list[object] = []
    if owner is not None:
        where.append(
            f"s.session_id IN (SELECT session_id FROM {owners} WHERE principal = {mark} "
            f"UNION SELECT session_id FROM {members} WHERE principal = {mark})"
        )
        args += [owner, owner]
    if account_key is not None:
        where.append(f"s.account_key = {mark}")
        args.append(account_key)
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY s.created_at DESC LIMIT {mark}"
    args.append(limit)
    return sql, args


def session_columns(seq_type: str) -> str:
    """The session table's columns after its key, the same in both logs (``seq_type``: the
    dialect's 64-bit integer), in :func:`record_to_row`'s order."""
    return f"""
  account_key TEXT NOT NULL,
  vendor_hash TEXT NOT NULL,
  account     TEXT NOT NULL,
  vendor      TEXT NOT NULL,
  status      TEXT NOT NULL,
  cached      INTEGER NOT NULL DEFAULT 0,
  created_at  TEXT NOT NULL,
  last_seq    {seq_type} NOT NULL DEFAULT 0,
  closed_seq  {seq_type}"""


# who owns a session (and, in a second table, who joined it): one row a principal (both logs)
OWNER_COLUMNS = """
  session_id TEXT NOT NULL,
  principal  TEXT NOT NULL,
  PRIMARY KEY (session_id, principal)"""


def record_to_row(record: SessionRecord) -> tuple[str, str, str, str, str, str, int, str]:
    return (
        record.session_id,
        record.account_key,
        record.vendor_hash,
        record.account.model_dump_json(),
        record.vendor.model_dump_json(),
        record.status.value,
        int(record.cached),
        record.created_at,
    )


def row_to_record(
    row: Sequence[object], owners: Iterable[str] = (), members: Iterable[str] = ()
) -> SessionRecord:
    session_id, account_json, vendor_json, status, cached, created_at = row
    return SessionRecord(
        session_id=str(session_id),
        account=Account.model_validate(json.loads(str(account_json))),
        vendor=Vendor.model_validate(json.loads(str(vendor_json))),
        status=SessionStatus(str(status)),
        cached=bool(cached),
        created_at=str(created_at),
        owners=set(owners),
        members=set(members),
    )
