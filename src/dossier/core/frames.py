"""The chat protocol's frames (PRODUCT.md "WebSocket chat"), built in one place.

The WebSocket and the HTTP answer stream send the same frames; the log keeps
``answer.end`` (with the whole text) and ``answer.revised``. A frame is a plain dict (it
goes to JSON as it is); these constructors are the only writers of their shapes.
"""

from __future__ import annotations

from typing import Any

Frame = dict[str, Any]


def answer_start(question_id: str, basis: str, pending: list[str]) -> Frame:
    return {"type": "answer.start", "id": question_id, "basis": basis, "pending": pending}


def answer_delta(question_id: str, text: str) -> Frame:
    return {"type": "answer.delta", "id": question_id, "text": text}


def answer_citation(question_id: str, citation: dict[str, Any]) -> Frame:
    """``citation``: ``{finding, url, title}``."""
    return {"type": "answer.citation", "id": question_id, **citation}


def answer_end(
    question_id: str,
    *,
    complete: bool,
    pending: list[str],
    latency_ms: float | None,
    error: dict[str, str] | None = None,
    cancelled: bool = False,
) -> Frame:
    """``partial`` is true when the answer broke off (an ``error`` says why) or was
    cancelled; ``complete`` when the data behind it was complete."""
    frame: Frame = {
        "type": "answer.end",
        "id": question_id,
        "complete": complete,
        "pending": pending,
        "latency_ms": latency_ms,
        "partial": error is not None or cancelled,
    }
    if error is not None:
        frame["error"] = error
    if cancelled:
        frame["cancelled"] = True
    return frame


def answer_revised(revision: dict[str, Any]) -> Frame:
    """``revision``: ``{id, text, citations, reason, pending}`` (as logged)."""
    return {"type": "answer.revised", **revision}


def suggestions(items: list[str]) -> Frame:
    return {"type": "suggestions", "items": items}


def steer_ack(question_id: str | None, ack: dict[str, Any]) -> Frame:
    """``ack``: what the session service acknowledged (applies_at, message, action, target)."""
    return {
        "type": "steer.ack",
        "id": question_id,
        "applies_at": ack["applies_at"],
        "message": ack["message"],
        "action": ack["action"],
        "target": ack["target"],
    }


def error(code: str, message: str, question_id: str | None = None) -> Frame:
    frame: Frame = {"type": "error", "code": code, "message": message}
    if question_id is not None:
        frame["id"] = question_id
    return frame


def pong() -> Frame:
    return {"type": "pong"}


def body(frame: Frame) -> Frame:
    """A frame without its ``type`` (what the log and the HTTP stream's ``data`` carry)."""
    return {k: v for k, v in frame.items() if k != "type"}
