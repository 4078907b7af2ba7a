"""Issue 12: a bounded fuzz of every HTTP route (hypothesis, derandomized): hostile paths,
queries, headers and bodies get a 4xx with the API's error shape, never a 5xx, nothing is
logged as an error, and the server is healthy afterwards."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from starlette.routing import BaseRoute

from dossier.app import create_app
from dossier.settings import Settings
from tests.fuzz_server import FUZZ, FuzzServer, fuzz_server

# -- what hostile input is made of
WEIRD = st.characters(categories=["Cc", "Cf", "Cs", "Zs", "So", "Mn"])
TEXT = st.text(max_size=60) | st.text(WEIRD, max_size=12)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
NAME = st.sampled_from(["Stripe", "Acme Corp", "!!!", "   ", "Ev\u0000il", "\u200f"]) | TEXT
DOMAIN = (
    st.sampled_from(
        ["127.0.0.1:8899", "localhost", "http://[::1]/", "stripe.com", "a..b", "10.0.0.1"]
    )
    | TEXT
)
ID = st.sampled_from(["s_0000", "..", "%2e%2e", "a" * 300, "%00"]) | TEXT


def encoded(text: str) -> str:
    """Percent-encoded as a hostile client would send it (a lone surrogate becomes bytes
    that are not UTF-8)."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def query(keys: list[str]) -> st.SearchStrategy[str]:
    pair = st.tuples(st.sampled_from([*keys, "x", ""]), TEXT | st.integers().map(str))
    return st.lists(pair, max_size=4).map(
        lambda pairs: "&".join(f"{encoded(k)}={encoded(v)}" for k, v in pairs)
    )


def body(near_valid: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[bytes, str]]:
    as_json = (near_valid | JSON).map(lambda v: json.dumps(v).encode())
    raw = st.binary(max_size=300) | st.just(b"[" * 30_000 + b"]" * 30_000)
    content_type = st.sampled_from(
        ["application/json", "text/plain", "application/x-www-form-urlencoded", ""]
    )
    return st.tuples(as_json | raw, content_type) | st.tuples(as_json, st.just("application/json"))


ACCOUNT = st.fixed_dictionaries(
    {"name": NAME},
    optional={"domain": DOMAIN, "cik": TEXT, "ticker": TEXT, "boards": JSON},
)
VENDOR = st.fixed_dictionaries(
    {}, optional={"name": NAME, "domain": DOMAIN, "description": TEXT, "sells_to": JSON}
)
CREATE = st.fixed_dictionaries(
    {"account": ACCOUNT | JSON}, optional={"vendor": VENDOR | JSON, "refresh": JSON}
)
STEER = st.fixed_dictionaries(
    {},
    optional={
        "action": st.sampled_from(["focus", "skip", "stop_and_summarize"]) | TEXT,
        "target": st.sampled_from(["news", "jobs", "sec"]) | TEXT | JSON,
        "id": TEXT | JSON,
    },
)
MCP_CALL = st.fixed_dictionaries(
    {"jsonrpc": st.just("2.0") | TEXT, "method": st.sampled_from(
        ["initialize", "tools/list", "tools/call", "resources/read", "prompts/get"]) | TEXT},
    optional={"id": st.integers() | TEXT, "params": JSON},
)  # fmt: skip
QUESTION = st.fixed_dictionaries(
    {"content": st.sampled_from(["Overview?", "   ", "x" * 2100]) | TEXT | JSON},
    optional={"id": ID | JSON, "wait_for_revision": st.just(False) | JSON},
)


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as the app declares it
    query_keys: tuple[str, ...] = ()
    body: st.SearchStrategy[Any] | None = None
    stream: bool = False
    # issue 12's repros, tried first: (query string, JSON body)
    known: tuple[tuple[str, Any], ...] = ()
    send_as: str | None = None  # the method the fuzz uses, when not the declared one

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


HOSTILE_VENDORS = [
    {"domain": "127.0.0.1:8899"},
    {"name": "!!!"},
    {"name": "Ev\u0000il"},
    {"name": "   "},
]
HOSTILE_ACCOUNTS = ["%00", "%20", "!!!", "%E2%80%8F", "%E2%80%8B", "%ff%fe", "%F0%9F%98%80"]

ROUTES = [
    Route(
        "POST",
        "/api/sessions",
        body=CREATE,
        known=tuple(("", {"account": {"name": "Stripe"}, "vendor": v}) for v in HOSTILE_VENDORS),
    ),
    Route(
        "GET",
        "/api/sessions",
        ("account", "limit"),
        known=tuple((f"account={a}", None) for a in HOSTILE_ACCOUNTS),
    ),
    Route("GET", "/api/sessions/{session_id}"),
    Route("GET", "/api/sessions/{session_id}/export", ("format",)),
    Route("POST", "/api/sessions/{session_id}/cancel"),
    Route("POST", "/api/sessions/{session_id}/steer", body=STEER),
    Route(
        "POST",
        "/api/sessions/{session_id}/questions",
        body=QUESTION,
        known=(("", {"content": "   "}), ("", {"content": "Who \ud800?"})),
    ),
    Route("GET", "/api/sessions/{session_id}/events", ("last_event_id", "follow"), stream=True),
    Route("GET", "/api/workflows/{wf_id}"),
    Route("GET", "/api/workflows/{workflow_id}/progress", ("last_event_id", "follow"), stream=True),
    Route("GET", "/api/info"),
    Route("GET", "/healthz"),
    Route("GET", "/readyz"),
    Route("GET", "/metrics"),
    Route("GET", "/"),
    Route("GET", "/static/vocabulary.js"),
    Route("GET", "/static"),
    Route("GET", "/openapi.json"),
    Route("GET", "/docs"),
    Route("GET", "/docs/oauth2-redirect"),
    Route("GET", "/redoc"),
    # the MCP endpoint answers every method; hostile JSON-RPC is POSTed (a GET opens its
    # idle notification stream): never a 5xx
    Route("GET", "/mcp", body=MCP_CALL, send_as="POST"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzServer]:
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path_factory.mktemp("fuzz-http") / "data",
        sources="replay",
        gc_tuning=False,
        vendor_name="Acme Analytics",
        session_rate_per_min=60,  # bounded work: valid examples start researches
        question_rate_per_min=100_000,
    )
    with fuzz_server(settings) as running:
        yield running


def test_every_route_is_fuzzed(tmp_path: Path) -> None:
    """A new route joins the table (and so the fuzz), or this fails."""

    def declared(routes: list[BaseRoute]) -> set[str]:
        found: set[str] = set()
        for route in routes:
            included = getattr(route, "original_router", None)  # include_router (no prefix)
            if included is not None:
                found |= declared(included.routes)
                continue
            methods = getattr(route, "methods", None) or {"GET"}
            found |= {f"{m} {getattr(route, 'path', '')}" for m in methods if m != "HEAD"}
        return found

    app = create_app(Settings(_env_file=None, data_dir=tmp_path))
    chat = "GET /ws/sessions/{session_id}/chat"  # fuzzed in test_security_fuzz_ws.py
    assert declared(app.routes) - {chat} == {str(r) for r in ROUTES}


def path_of(route: Route, fuzz: FuzzServer, ident: str | None) -> str:
    real = {"session_id": fuzz.session_id, "wf_id": fuzz.workflow_ids[0]}
    real["workflow_id"] = fuzz.workflow_ids[-1]
    path = route.path
    for name, value in real.items():
        path = path.replace("{" + name + "}", value if ident is None else encoded(ident))
    if path == "/static":
        path = "/static/" + (encoded(ident) if ident is not None else "index.html")
    return path


def check(response: httpx.Response, route: Route) -> None:
    assert response.status_code < 500, (str(route), response.status_code, response.text[:300])
    # the page is HTML; /mcp's transport errors are the SDK's (plain text or JSON-RPC)
    if response.status_code >= 400 and route.path not in ("/", "/mcp"):
        error = response.json()["error"]
        assert error["code"] and error["message"], response.text


def exchange(http: httpx.Client, request: httpx.Request, route: Route) -> None:
    response = http.send(request, stream=True)
    try:
        if route.stream and response.status_code == 200:
            next(response.iter_bytes(), b"")  # the stream opened; leave it
        else:
            response.read()
        check(response, route)
    finally:
        response.close()


# The server's thread draws on `random` while hypothesis generates: not our strategies.
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_hostile_requests_get_a_4xx_and_leave_the_server_healthy(
    server: FuzzServer, route: Route
) -> None:
    server.errors.take()  # only what this test provokes counts
    bodies = body(route.body) if route.body is not None else st.none()
    events_header = st.none() | TEXT.filter(lambda t: t.isprintable() and t.isascii())

    @FUZZ
    @given(
        ident=st.none() | ID,
        query_string=query(list(route.query_keys)),
        sent=bodies,
        last_event_id=events_header,
    )
    def send(
        ident: str | None,
        query_string: str,
        sent: tuple[bytes, str] | None,
        last_event_id: str | None,
    ) -> None:
        url = path_of(route, server, ident) + ("?" + query_string if query_string else "")
        headers = {"Last-Event-ID": last_event_id} if last_event_id is not None else {}
        content = None
        if sent is not None:
            content, headers["Content-Type"] = sent
        headers.setdefault("Accept", "application/json, text/event-stream")
        method = route.send_as or route.method
        request = http.build_request(method, url, content=content, headers=headers)
        exchange(http, request, route)

    for query_string, known in route.known:
        sent = None if known is None else (json.dumps(known).encode(), "application/json")
        send = example(ident=None, query_string=query_string, sent=sent, last_event_id=None)(send)
    with server.client() as http:  # one keep-alive connection, as long as the server keeps it
        send()
    server.assert_healthy()


@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
def test_hostile_hosts_and_headers_on_any_route(server: FuzzServer) -> None:
    header_text = st.text(
        st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
        max_size=60,
    )
    headers = st.dictionaries(
        st.sampled_from(
            ["Host", "Origin", "Authorization", "X-Forwarded-For", "Accept", "Cookie", "Range"]
        ),
        st.sampled_from(["evil.example:8811", "localhost", "[::1]", "Bearer x", "*"]) | header_text,
        max_size=4,
    )

    server.errors.take()

    @FUZZ
    @given(route=st.sampled_from(ROUTES), sent=headers, ident=st.none() | ID)
    def send(route: Route, sent: dict[str, str], ident: str | None) -> None:
        raw = {name.encode(): value.encode("latin-1") for name, value in sent.items()}
        exchange(
            http,
            http.build_request(route.method, path_of(route, server, ident), headers=raw),
            route,
        )

    with server.client() as http:
        send()
    server.assert_healthy()
