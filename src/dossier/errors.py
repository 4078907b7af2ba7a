"""The dossier error tree, by cause. Imports nothing of ours.

Callers catch only these; foreign errors (httpx, psycopg, SDKs) are translated at the edge
with ``raise ... from exc``. Each error carries a stable machine ``code`` that the
transports map to HTTP statuses / WS error frames in one table (``transport/errors.py``).
A "no job board" 404 from a source is data, not an error.
"""

from __future__ import annotations


class DossierError(Exception):
    """Base of every error dossier raises on purpose."""

    code = "internal"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidInput(DossierError):
    """The caller sent something we cannot accept (bad field, bad id, bad frame)."""

    code = "invalid_input"


class PayloadTooLarge(InvalidInput):
    """A request body or WebSocket frame exceeds its size limit."""

    code = "payload_too_large"


class Unauthorized(DossierError):
    """No or wrong bearer token."""

    code = "unauthorized"


class Forbidden(DossierError):
    """Authenticated, but not allowed (e.g. a foreign WebSocket Origin)."""

    code = "forbidden"


class NotFound(DossierError):
    """The session / workflow does not exist (or is not visible to this caller)."""

    code = "not_found"


class Conflict(DossierError):
    """The request clashes with the current state (e.g. cancel a finished session)."""

    code = "conflict"


class RateLimited(DossierError):
    """Too many requests: from a client to us, or from us to a source."""

    code = "rate_limited"
    cause = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class SourceUnavailable(DossierError):
    """A public source failed: an error status after retries, unless a subclass says more.

    ``cause`` names why in the coverage vocabulary's words (``core/coverage.py
    FailureCause``): what a seller is told ("could not reach SEC EDGAR (network)") and
    whether a failure is worth retrying later both follow from it.
    """

    code = "source_unavailable"
    cause = "http"


class SourceUnreachable(SourceUnavailable):
    """The source could not be reached at all (DNS, refused or reset connection)."""

    code = "source_unreachable"
    cause = "network"


class SourceTimeout(SourceUnavailable):
    """The source did not answer in time."""

    code = "source_timeout"
    cause = "timeout"


class SourceBadAnswer(SourceUnavailable):
    """The source answered something we cannot read (not JSON, wrong shape, too large)."""

    code = "source_bad_answer"
    cause = "garbage"


class ReplayMiss(SourceUnavailable):
    """Replay mode has no recording for this request."""

    code = "replay_miss"
    cause = "not_recorded"


class Stopped(SourceUnavailable):
    """The user stopped the research (or skipped this source): no new request is sent.

    A source error on purpose: a collector that keeps going after one failed request
    treats it like any other, and returns what it already has.
    """

    code = "stopped"
    cause = "skipped"


class BlockedURL(SourceUnavailable):
    """The SSRF guard refused a URL (private, loopback, metadata, non-http)."""

    code = "blocked_url"
    cause = "blocked"


class ProviderError(DossierError):
    """An LLM provider failed."""

    code = "provider_error"


class Unavailable(DossierError):
    """A dependency of ours (database, Redis) is down; try again later."""

    code = "unavailable"
