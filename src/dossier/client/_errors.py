"""The client's errors: one small tree, by cause. Foreign errors (httpx, websockets) are
translated where they happen, so callers catch only these."""

from __future__ import annotations

from typing import Any

import httpx

# WebSocket ``error`` frames carry no status; the same codes map to these on HTTP.
_STATUS_OF_CODE = {
    "invalid_input": 422,
    "bad_request": 400,
    "malformed_json": 400,
    "payload_too_large": 413,
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "rate_limited": 429,
    "unavailable": 503,
}


class ClientError(Exception):
    """Base of every error the client raises.

    Attributes:
        status: the HTTP status when the server answered (``None`` for network failures).
        code: a stable machine code (the server's ``error.code``, or the client's own).
        message: one human-readable line.
    """

    def __init__(self, message: str, *, code: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


class APIError(ClientError):
    """The server answered with an error (``{"error": {"code", "message"}}``)."""

    @classmethod
    def from_response(cls, response: httpx.Response) -> APIError:
        """From an error response whose body has been read."""
        code, message = f"http_{response.status_code}", response.reason_phrase or "error"
        try:
            body = response.json()
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            code = str(error.get("code") or code)
            message = str(error.get("message") or message)
        return cls(message, code=code, status=response.status_code)

    @classmethod
    def from_frame(cls, frame: dict[str, Any]) -> APIError:
        """From a chat ``error`` frame (WebSocket or the HTTP answer stream)."""
        code = str(frame.get("code") or "error")
        return cls(str(frame.get("message") or code), code=code, status=_STATUS_OF_CODE.get(code))


class ConnectionFailed(ClientError):
    """The server could not be reached, or a stream was lost and could not be resumed."""
