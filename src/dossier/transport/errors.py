"""The one table from our errors to HTTP statuses, and the JSON error body.

Every error leaves as ``{"error": {"code", "message"}}`` with the right status, never a
stack trace. WebSocket ``error`` frames use the same codes.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from dossier import errors

log = logging.getLogger(__name__)

STATUS_OF: dict[type[errors.DossierError], int] = {
    errors.PayloadTooLarge: 413,
    errors.InvalidInput: 400,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.RateLimited: 429,
    errors.Unavailable: 503,
    errors.SourceUnavailable: 502,
    errors.ProviderError: 502,
}

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
    503: "unavailable",
}


def status_of(exc: errors.DossierError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return 500


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    body.update(extra)
    return {"error": body}


def error_response(exc: errors.DossierError) -> JSONResponse:
    status = status_of(exc)
    headers = {}
    if isinstance(exc, errors.RateLimited) and exc.retry_after_s is not None:
        headers["Retry-After"] = str(max(1, round(exc.retry_after_s)))
    if isinstance(exc, errors.Unauthorized):
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(error_body(exc.code, exc.message), status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> tuple[int, str, str, list[dict[str, Any]]]:
    details = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            return 400, "malformed_json", "the request body is not valid JSON", []
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        details.append({"field": loc, "problem": str(err.get("msg", "invalid"))})
    if not details:
        return 422, "invalid_input", "the request is invalid", []
    first = details[0]
    message = f"{first['field'] or 'body'}: {first['problem']}"
    return 422, "invalid_input", message, details


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.DossierError)
    async def _ours(_: Request, exc: errors.DossierError) -> Response:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> Response:
        status, code, message, details = _validation_message(exc)
        extra = {"details": details} if details else {}
        return JSONResponse(error_body(code, message, **extra), status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> Response:
        code = _HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return JSONResponse(
            error_body(code, message), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> Response:
        log.exception("unhandled error", exc_info=exc)
        return JSONResponse(error_body("internal", "internal error"), status_code=500)
