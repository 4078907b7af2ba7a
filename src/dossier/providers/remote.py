"""What the SDK-backed providers (``openai``, ``anthropic``) share: where the endpoint is,
which key to send, how long to wait, and error text that is safe to show.

Imports no SDK: each provider maps its own SDK's errors, then passes the text through
:func:`redact`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx2
from pydantic import SecretStr

from dossier.errors import ProviderError

# Connecting takes milliseconds when the endpoint is up; waiting the full provider timeout
# (twice, with the retry) would keep the builtin fallback from answering for minutes.
CONNECT_TIMEOUT_S = 5.0
# Local servers and self-hosted gateways ignore the key, but the SDKs refuse to run without.
KEYLESS_PLACEHOLDER = "unused"
MESSAGE_MAX_CHARS = 300
_KEY_LIKE = re.compile(r"sk-[A-Za-z0-9_\-*.]{3,}")


@dataclass(frozen=True)
class Endpoint:
    provider: str
    base_url: str
    custom: bool  # a base URL was configured (a local server may need no key)
    api_key: SecretStr | None
    timeout_s: float
    missing_key: str  # what to say when a key is needed and not set

    def key(self) -> str:
        if self.api_key is not None and self.api_key.get_secret_value():
            return self.api_key.get_secret_value()
        if self.custom:
            return KEYLESS_PLACEHOLDER
        raise ProviderError(f"{self.provider}: {self.missing_key}")

    def timeouts(self) -> httpx2.Timeout:
        """``timeout_s`` for every wait (headers, each read: a stalled stream fails),
        except connecting, which is capped at ``CONNECT_TIMEOUT_S``."""
        return httpx2.Timeout(self.timeout_s, connect=self.connect_timeout_s)

    @property
    def connect_timeout_s(self) -> float:
        return min(CONNECT_TIMEOUT_S, self.timeout_s)

    def host(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)


def redact(text: str, key: str) -> str:
    """Server messages may echo (part of) the key: 'Incorrect API key provided: sk-…'."""
    if len(key) >= 4:
        text = text.replace(key, "***")
    text = _KEY_LIKE.sub("sk-***", text)
    return text if len(text) <= MESSAGE_MAX_CHARS else text[: MESSAGE_MAX_CHARS - 1] + "…"
