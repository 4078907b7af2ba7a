"""SSRF guard: only public http(s) hosts may be fetched for user-supplied or discovered URLs.

:func:`make_guard` builds the ``guard`` that :class:`~dossier.collectors.http.SourceHttp`
calls on every hop of a ``guarded=True`` request (so a redirect is checked again). It
refuses anything but plain ``http``/``https`` URLs to hosts whose *every* resolved address
is public. The checks work on the parsed host, not on the string, because the tricks are
in the parsing: userinfo (``http://good.com@127.0.0.1``), IPv4 spellings the resolver
accepts but a string check misses (``2130706433``, ``0x7f.1``, ``017700000001``), IPv6
forms that embed an IPv4 address (``::ffff:127.0.0.1``, 6to4, Teredo, NAT64), and names
that resolve to loopback (``localhost``, ``x.localhost``, ``localhost.``).

Limitation: the guard resolves the name, then httpx resolves it again when connecting; a
DNS answer that changes in between (rebinding) is not caught here.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from dossier.errors import BlockedURL, SourceUnreachable

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]
UrlGuard = Callable[[str], Awaitable[None]]

ALLOWED_SCHEMES = frozenset({"http", "https"})
# Cloud instance-metadata endpoints (AWS/GCP/Azure/OpenStack, AWS ECS, Alibaba, AWS IPv6):
# refused even when private fetches are allowed, since they hand out credentials.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: not routable from here
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
# A label the resolver (inet_aton) reads as a number: decimal, octal (leading 0) or hex.
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")
_CANONICAL_QUAD = re.compile(
    r"^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$"
)


async def system_resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host`` (what httpx would connect to)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def make_guard(*, allow_private: bool, resolve: Resolver = system_resolve) -> UrlGuard:
    """A guard for ``SourceHttp(..., guard=...)``.

    Args:
        allow_private: let loopback and private (RFC 1918, ULA, CGNAT) addresses and
            ``localhost`` names through (``DOSSIER_ALLOW_PRIVATE_FETCH``, tests only).
            Metadata, link-local, multicast, reserved and unspecified addresses, odd
            IPv4 spellings and non-http schemes stay refused.
        resolve: async ``(host, port) -> [address, ...]``; injectable so tests need no DNS.

    The guard raises :class:`BlockedURL` (message says why) or, when the host does not
    resolve at all, :class:`SourceUnavailable`.
    """

    async def guard(url: str) -> None:
        host, port = check_url(url, allow_private=allow_private)
        try:
            literal: Address | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            return  # already checked by check_url
        try:
            addresses = await resolve(host, port)
        except OSError as exc:
            raise SourceUnreachable(f"network: cannot resolve {host}: {exc}") from exc
        if not addresses:
            raise SourceUnreachable(f"network: cannot resolve {host}: no addresses")
        for raw in addresses:
            try:
                address = ipaddress.ip_address(raw.split("%", 1)[0])
            except ValueError as exc:
                raise BlockedURL(f"{host} resolved to an unreadable address {raw!r}") from exc
            problem = address_problem(address, allow_private=allow_private)
            if problem:
                raise BlockedURL(f"refusing {host}: it resolves to {address} ({problem})")

    return guard


def check_url(url: str, *, allow_private: bool) -> tuple[str, int]:
    """Checks that need no DNS; returns ``(host, port)`` to resolve. Raises BlockedURL."""
    if any(ch.isspace() or ord(ch) < 32 or ch == "\\" for ch in url):
        raise BlockedURL("refusing a URL with whitespace, control characters or backslashes")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BlockedURL(f"refusing an unparsable URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise BlockedURL(f"refusing scheme {scheme or '(none)'!r}: only http and https")
    if "@" in parts.netloc:
        # userinfo lets "http://good.example@127.0.0.1/" read as good.example to a human
        raise BlockedURL("refusing a URL with user information before the host")
    host = (parts.hostname or "").lower()
    if not host:
        raise BlockedURL("refusing a URL without a host")
    if not host.isascii():
        # check the name the resolver will see: IDNA maps "ｌｏｃａｌｈｏｓｔ" and "127。0。0。1"
        try:
            host = host.encode("idna").decode("ascii").lower()
        except UnicodeError as exc:
            raise BlockedURL(f"refusing an invalid international host name: {exc}") from exc
    if "%" in host:
        raise BlockedURL("refusing an IPv6 zone identifier or percent-encoded host")
    try:
        literal: Address | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        if literal.version == 4 and not _CANONICAL_QUAD.match(host):
            raise BlockedURL(f"refusing non-canonical IPv4 literal {host!r}")
        problem = address_problem(literal, allow_private=allow_private)
        if problem:
            raise BlockedURL(f"refusing {host}: {problem}")
        return host, port or (443 if scheme == "https" else 80)
    if host.endswith("."):
        # "localhost." and "example.com." bypass name lists yet resolve the same
        raise BlockedURL(f"refusing host {host!r} with a trailing dot")
    labels = host.split(".")
    if _NUMERIC_LABEL.match(labels[-1]):
        # the resolver reads "2130706433", "0x7f.1", "0177.0.0.1", "127.1" as IPv4
        raise BlockedURL(f"refusing numeric host {host!r} (an IPv4 address in disguise)")
    if not allow_private and (host in _LOCAL_NAMES or host.endswith(".localhost")):
        raise BlockedURL(f"refusing {host!r}: a loopback name")
    return host, port or (443 if scheme == "https" else 80)


def address_problem(address: Address, *, allow_private: bool) -> str | None:
    """Why ``address`` may not be fetched, or None when it is a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in METADATA_ADDRESSES:
            return "cloud metadata address"
        compatible = int(address) >> 32 == 0 and int(address) > 1
        if compatible:
            return "deprecated IPv4-compatible IPv6 address"
        for label, embedded in _embedded_ipv4(address):
            problem = address_problem(embedded, allow_private=allow_private)
            if problem:
                return f"{label} of {embedded}, {problem}"
    if address in METADATA_ADDRESSES:
        return "cloud metadata address"
    if address.is_unspecified:
        return "unspecified address"
    if address.is_multicast:
        return "multicast address"
    if address.is_link_local:
        return "link-local address"
    if address.is_loopback:
        return None if allow_private else "loopback address"
    if address.is_private or (address.version == 4 and address in _CGNAT):
        return None if allow_private else "private address"
    if address.is_reserved:
        return "reserved address"
    if not address.is_global:
        return "not a globally routable address"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[tuple[str, ipaddress.IPv4Address]]:
    found: list[tuple[str, ipaddress.IPv4Address]] = []
    if address.ipv4_mapped is not None:
        found.append(("IPv4-mapped form", address.ipv4_mapped))
    if address.sixtofour is not None:
        found.append(("6to4 form", address.sixtofour))
    if address.teredo is not None:
        server, client = address.teredo
        found += [("Teredo server", server), ("Teredo client", client)]
    if address in _NAT64:
        found.append(("NAT64 form", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)))
    return found
