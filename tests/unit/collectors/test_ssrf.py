"""SSRF guard: only public http(s) hosts get fetched, on every hop."""

from __future__ import annotations

import httpx
import pytest

from dossier.collectors.http import SourceHttp
from dossier.collectors.ssrf import make_guard, system_resolve
from dossier.errors import BlockedURL, SourceUnavailable

PUBLIC_V4 = "93.184.215.14"


class resolver:
    """A fake DNS: known names answer, anything else fails like a resolver would."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        if host not in self.answers:
            raise OSError(f"no such host {host}")
        return self.answers[host]


PUBLIC_DNS = resolver({"example.com": [PUBLIC_V4], "www.stripe.com": ["2606:4700::1111"]})

REFUSED = [
    # loopback, private, CGNAT, link-local, metadata, unspecified, multicast, reserved
    "http://127.0.0.1/",
    "http://127.9.9.9:8080/x",
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.1.1/",
    "http://100.64.1.1/",
    "http://169.254.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/",
    "http://0.0.0.0/",
    "http://[::]/",
    "http://[::1]/",
    "http://224.0.0.1/",
    "http://[ff02::1]/",
    "http://240.0.0.1/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    # IPv6 spellings of IPv4 loopback / private
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:10.0.0.1]/",
    "http://[::127.0.0.1]/",
    "http://[2002:7f00:1::1]/",  # 6to4 of 127.0.0.1
    "http://[2002:c0a8:101::1]/",  # 6to4 of 192.168.1.1
    "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",  # Teredo, client 127.0.0.1
    "http://[64:ff9b::7f00:1]/",  # NAT64 of 127.0.0.1
    # IPv4 spellings the resolver accepts
    "http://2130706433/",
    "http://0x7f.1/",
    "http://0x7f000001/",
    "http://017700000001/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://127.0.1/",
    # names
    "http://localhost/",
    "http://LOCALHOST:8000/",
    "http://localhost./",
    "http://api.localhost/",
    "http://example.com./",
    "http://ｌｏｃａｌｈｏｓｔ/",  # fullwidth letters: IDNA maps them to "localhost"
    "http://127。0。0。1/",  # ideographic full stops are dots to IDNA
    # userinfo and parser confusion
    "http://user:pw@example.com/",
    "http://example.com@127.0.0.1/",
    "http://127.0.0.1\\@example.com/",
    "http://[fe80::1%25eth0]/",
    "http:///no-host",
    "http://exa mple.com/",
    # schemes
    "file:///etc/passwd",
    "gopher://example.com:70/_GET",
    "ftp://example.com/file",
    "data:text/plain,hello",
    "javascript:alert(1)",
    "//example.com/",
]


@pytest.mark.parametrize("url", REFUSED)
async def test_refuses_every_non_public_form(url: str) -> None:
    guard = make_guard(allow_private=False, resolve=PUBLIC_DNS)
    with pytest.raises(BlockedURL):
        await guard(url)


@pytest.mark.parametrize(
    ("url", "answers"),
    [
        ("http://internal.example/", ["10.1.2.3"]),
        ("http://rebind.example/", [PUBLIC_V4, "127.0.0.1"]),  # ANY bad address refuses
        ("http://meta.example/", ["169.254.169.254"]),
        ("http://mapped.example/", ["::ffff:192.168.0.1"]),
        ("http://v6.example/", ["fe80::1%eth0"]),
    ],
)
async def test_refuses_names_that_resolve_to_non_public_addresses(
    url: str, answers: list[str]
) -> None:
    host = url.split("/")[2]
    guard = make_guard(allow_private=False, resolve=resolver({host: answers}))
    with pytest.raises(BlockedURL, match="resolves to"):
        await guard(url)


@pytest.mark.parametrize(
    "url",
    [
        f"http://{PUBLIC_V4}/",
        "https://[2606:4700::1111]/",
        "https://example.com/about?x=1#top",
        "http://EXAMPLE.com:8080/",
        "https://www.stripe.com/",
    ],
)
async def test_accepts_public_hosts(url: str) -> None:
    await make_guard(allow_private=False, resolve=PUBLIC_DNS)(url)


async def test_literals_are_not_sent_to_the_resolver() -> None:
    dns = resolver({})
    await make_guard(allow_private=False, resolve=dns)(f"http://{PUBLIC_V4}/")
    assert dns.asked == []


async def test_allow_private_lets_loopback_and_private_through_but_not_the_rest() -> None:
    dns = resolver({"localhost": ["127.0.0.1", "::1"], "db.internal": ["10.0.0.5"]})
    guard = make_guard(allow_private=True, resolve=dns)
    for url in ("http://127.0.0.1:8000/", "http://localhost/", "http://db.internal/"):
        await guard(url)
    await guard("http://192.168.1.10/")
    for url in (
        "http://169.254.169.254/",
        "http://[fd00:ec2::254]/",
        "http://0x7f.1/",
        "http://0.0.0.0/",
        "file:///etc/passwd",
        "http://user@127.0.0.1/",
    ):
        with pytest.raises(BlockedURL):
            await guard(url)


async def test_unresolvable_host_is_unavailable_not_blocked() -> None:
    guard = make_guard(allow_private=False, resolve=resolver({}))
    with pytest.raises(SourceUnavailable) as caught:
        await guard("https://no-such-host.example/")
    assert not isinstance(caught.value, BlockedURL)


async def test_messages_say_why() -> None:
    guard = make_guard(allow_private=False, resolve=PUBLIC_DNS)
    with pytest.raises(BlockedURL, match="loopback"):
        await guard("http://127.0.0.1/")
    with pytest.raises(BlockedURL, match="only http and https"):
        await guard("file:///etc/passwd")
    with pytest.raises(BlockedURL, match=r"IPv4-mapped form of 127\.0\.0\.1"):
        await guard("http://[::ffff:127.0.0.1]/")
    with pytest.raises(BlockedURL, match="cloud metadata"):
        await guard("http://169.254.169.254/")


async def test_default_resolver_uses_the_event_loop() -> None:
    # a numeric host needs no DNS server, so this stays on the machine
    assert await system_resolve("127.0.0.1", 80) == ["127.0.0.1"]


async def test_redirect_to_loopback_is_refused_through_source_http() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"Location": "http://127.0.0.1/"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        http = SourceHttp(
            client,
            host_intervals_s={},
            guard=make_guard(allow_private=False, resolve=PUBLIC_DNS),
        )
        with pytest.raises(BlockedURL, match=r"127\.0\.0\.1"):
            await http.get("https://example.com/start", guarded=True)
    assert seen == ["https://example.com/start"]  # the loopback hop was never sent


async def test_guarded_fetch_of_a_public_page_goes_through() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/start":
            return httpx.Response(301, headers={"Location": "/about"})
        return httpx.Response(200, text="hello")

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        http = SourceHttp(
            client,
            host_intervals_s={},
            guard=make_guard(allow_private=False, resolve=PUBLIC_DNS),
        )
        response = await http.get("https://example.com/start", guarded=True)
    assert response.status == 200
    assert response.text() == "hello"
