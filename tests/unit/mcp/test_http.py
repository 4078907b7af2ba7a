"""/mcp's transport rules, from the settings."""

from __future__ import annotations

from pydantic import SecretStr

from dossier.mcp.http import transport_security
from dossier.settings import Settings


def test_on_loopback_the_host_and_origin_must_be_loopback(settings: Settings) -> None:
    rules = transport_security(settings)
    assert rules.enable_dns_rebinding_protection
    assert "127.0.0.1:*" in rules.allowed_hosts and "http://localhost:*" in rules.allowed_origins


def test_off_loopback_the_token_is_the_guard(settings: Settings) -> None:
    public = settings.model_copy(update={"host": "0.0.0.0", "api_token": SecretStr("t")})
    assert not transport_security(public).enable_dns_rebinding_protection
