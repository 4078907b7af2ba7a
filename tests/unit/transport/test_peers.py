"""The Host allow-list, the Origin check and proxy trust (``transport/peers.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from dossier.settings import Settings
from dossier.transport.peers import HostPolicy, split_host, uvicorn_proxy_options


def _settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, **kw)  # type: ignore[arg-type]


def _scope(host: str | None, origin: str | None = None, scheme: str = "ws") -> dict[str, object]:
    headers = []
    if host is not None:
        headers.append((b"host", host.encode("latin-1")))
    if origin is not None:
        headers.append((b"origin", origin.encode("latin-1")))
    return {"type": "websocket", "scheme": scheme, "headers": headers}


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("127.0.0.1:8000", ("127.0.0.1", 8000)),
        ("LocalHost.", ("localhost", None)),
        ("[::1]:8811", ("::1", 8811)),
        ("[::1]", ("::1", None)),
        ("::1", ("::1", None)),
        ("evil.example:8811", ("evil.example", 8811)),
        ("localhost:evil", None),
        ("[::1", None),
        ("[::1]x", None),
        (":8000", None),
        ("", None),
    ],
)
def test_split_host(raw: str, parsed: tuple[str, int | None] | None) -> None:
    assert split_host(raw) == parsed


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "127.0.0.1:8000", "localhost:1", "LOCALHOST", "[::1]:8000", "::1", None],
)
def test_without_a_token_loopback_names_are_served(tmp_path: Path, host: str | None) -> None:
    assert HostPolicy.of(_settings(tmp_path)).host_allowed(_scope(host))


@pytest.mark.parametrize(
    "host",
    [
        "evil.example:8811",
        "evil.example",
        "127.0.0.1.evil.example",
        "localhost.evil.example:8000",
        "10.0.0.5:8000",
        "",
        "localhost:evil",
        "dossier.lan",
    ],
)
def test_without_a_token_other_hosts_are_refused(tmp_path: Path, host: str) -> None:
    assert not HostPolicy.of(_settings(tmp_path)).host_allowed(_scope(host))


def test_the_configured_host_and_extra_names_are_served(tmp_path: Path) -> None:
    policy = HostPolicy.of(
        _settings(tmp_path, host="127.0.0.2", allowed_hosts="dossier.lan, Box.Local.")
    )
    for host in ("127.0.0.2:8000", "dossier.lan:8000", "box.local", "localhost"):
        assert policy.host_allowed(_scope(host)), host
    assert not policy.host_allowed(_scope("evil.example"))


def test_with_a_token_any_host_is_served(tmp_path: Path) -> None:
    policy = HostPolicy.of(_settings(tmp_path, api_token="sekrit"))
    assert policy.host_allowed(_scope("dossier.example.com"))


@pytest.mark.parametrize(
    ("host", "origin", "allowed"),
    [
        ("127.0.0.1:8000", None, True),  # not a browser
        ("127.0.0.1:8000", "http://127.0.0.1:8000", True),
        ("127.0.0.1:8000", "http://localhost:8000", True),  # a loopback page, same port
        ("localhost:8000", "http://[::1]:8000/", True),
        ("localhost:80", "http://localhost", True),
        ("localhost:8000", "http://localhost:3000", False),  # another local site
        # a rebinding page sends its own name as Host *and* Origin: the Host check refuses
        # the request; the Origin check, by itself, no longer trusts the Host header
        ("evil.example:8000", "http://evil.example:8000", False),
        ("127.0.0.1:8000", "http://evil.example:8000", False),
        ("127.0.0.1:8000", "null", False),
        ("127.0.0.1:8000", "file://", False),
        ("127.0.0.1:8000", "http://127.0.0.1:99999", False),
    ],
)
def test_origin_is_checked_against_the_allow_list(
    tmp_path: Path, host: str, origin: str | None, allowed: bool
) -> None:
    policy = HostPolicy.of(_settings(tmp_path))
    assert policy.origin_allowed(_scope(host, origin)) is allowed


def test_configured_origins_are_allowed(tmp_path: Path) -> None:
    policy = HostPolicy.of(_settings(tmp_path, allowed_origins="https://app.example/"))
    assert policy.origin_allowed(_scope("127.0.0.1:8000", "https://app.example"))
    assert not policy.origin_allowed(_scope("127.0.0.1:8000", "https://other.example"))


def test_with_a_token_the_servers_own_name_is_an_allowed_origin(tmp_path: Path) -> None:
    policy = HostPolicy.of(_settings(tmp_path, api_token="sekrit"))
    own = _scope("dossier.example.com", "https://dossier.example.com", scheme="wss")
    assert policy.origin_allowed(own)
    assert not policy.origin_allowed(
        _scope("dossier.example.com", "https://evil.example", scheme="wss")
    )


def test_proxy_headers_are_believed_only_from_configured_proxies(tmp_path: Path) -> None:
    assert uvicorn_proxy_options(_settings(tmp_path)) == {"proxy_headers": False}
    trusted = _settings(tmp_path, trusted_proxies="127.0.0.1, 10.0.0.0/8")
    assert uvicorn_proxy_options(trusted) == {
        "proxy_headers": True,
        "forwarded_allow_ips": ["127.0.0.1", "10.0.0.0/8"],
    }
    with pytest.raises(ValidationError):
        _settings(tmp_path, trusted_proxies="not-an-address")


def test_list_settings_read_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOSSIER_ALLOWED_HOSTS", "dossier.lan,box.local")
    monkeypatch.setenv("DOSSIER_ALLOWED_ORIGINS", "https://a.example/,https://b.example")
    monkeypatch.setenv("DOSSIER_TRUSTED_PROXIES", '["10.1.2.3"]')
    settings = _settings(tmp_path)
    assert settings.allowed_hosts == ("dossier.lan", "box.local")
    assert settings.allowed_origins == ("https://a.example", "https://b.example")
    assert settings.trusted_proxies == ("10.1.2.3",)
