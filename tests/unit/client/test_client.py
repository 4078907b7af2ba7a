"""The Python client without a server: its SSE parser, the event stream's automatic resume
(against an httpx.MockTransport that drops, replays and skips), the chat's answer stream
over HTTP, and the mapping of server errors to APIError / ConnectionFailed."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dossier.client import APIError, Client, ConnectionFailed, SSEMessage, SSEParser

# -- the SSE parser


def parse(*chunks: bytes | str) -> tuple[list[SSEMessage], SSEParser]:
    parser = SSEParser()
    out: list[SSEMessage] = []
    for chunk in chunks:
        out += parser.feed(chunk)
    return out, parser


def test_a_frame_gives_its_id_type_and_data() -> None:
    messages, _ = parse('id: 7\nevent: finding\ndata: {"seq":7}\n\n')
    assert messages == [SSEMessage("finding", '{"seq":7}', "7")]


def test_crlf_cr_and_lf_all_end_lines() -> None:
    messages, _ = parse("id: 1\r\ndata: a\r\n\r\nid: 2\rdata: b\r\rid: 3\ndata: c\n\n")
    assert [(m.last_event_id, m.data) for m in messages] == [("1", "a"), ("2", "b"), ("3", "c")]


def test_a_crlf_split_across_chunks_is_one_line_end() -> None:
    # "\r" ends one chunk and "\n" starts the next: one line end, not a blank line that
    # would dispatch the event early (without its data).
    messages, _ = parse("data: one\r", "\ndata: two\r", "\n\r", "\n")
    assert [m.data for m in messages] == ["one\ntwo"]


def test_multiple_data_lines_join_with_newlines() -> None:
    messages, _ = parse("data: first\ndata:second\ndata\ndata:  indented\n\n")
    assert messages[0].data == "first\nsecond\n\n indented"  # one leading space is removed


def test_comments_and_retry_are_not_events() -> None:
    messages, parser = parse(": connected\n\nretry: 2500\n\n: heartbeat\n\nretry: 1x\n\n")
    assert messages == []
    assert parser.comments == 2
    assert parser.retry_ms == 2500  # "1x" is not all digits: ignored


def test_the_last_event_id_persists_and_a_nul_id_is_ignored() -> None:
    messages, parser = parse("id: 5\ndata: a\n\ndata: b\n\nid: 6\x00\ndata: c\n\n")
    assert [m.last_event_id for m in messages] == ["5", "5", "5"]
    assert parser.last_event_id == "5"


def test_an_event_without_data_or_unterminated_is_not_dispatched() -> None:
    messages, _ = parse("event: ping\nid: 3\n\nevent: x\ndata: never ends")
    assert messages == []


def test_a_leading_bom_unknown_fields_and_a_default_type() -> None:
    messages, _ = parse("\ufeffdata: hi\nfoo: bar\n\n")
    assert messages == [SSEMessage("message", "hi", "")]


def test_utf8_split_inside_a_character_is_decoded_whole() -> None:
    raw = "data: Zürich → 東京\n\n".encode()
    messages, _ = parse(*(raw[i : i + 1] for i in range(len(raw))))
    assert messages[0].data == "Zürich → 東京"


STREAM = (
    b": connected\r\n\r\nid: 1\r\nevent: a\r\ndata: x\r\ndata: y\r\n\r\n"
    b"retry: 100\n\nid: 2\revent: b\rdata: {}\r\r: beat\n\nid: 3\ndata:z\n\n"
)


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_any_chunking_parses_like_the_whole_stream(cuts: list[int]) -> None:
    edges = [0, *sorted(cuts), len(STREAM)]
    chunked, _ = parse(*(STREAM[a:b] for a, b in itertools.pairwise(edges)))
    whole, _ = parse(STREAM)
    assert chunked == whole
    assert [(m.last_event_id, m.event, m.data) for m in whole] == [
        ("1", "a", "x\ny"),
        ("2", "b", "{}"),
        ("3", "message", "z"),
    ]


# -- a fake event stream for resume tests

N_EVENTS = 12


def frame(seq: int, crlf: bool = False) -> bytes:
    kind = "session.completed" if seq == N_EVENTS else "finding"
    envelope = {
        "seq": seq,
        "type": kind,
        "ts": "2026-01-01T00:00:00.000Z",
        "session": "s_1",
        "workflow": None,
        "step": None,
        "data": {"n": seq},
    }
    text = f"id: {seq}\nevent: {kind}\ndata: {json.dumps(envelope)}\n\n"
    return (text.replace("\n", "\r\n") if crlf else text).encode()


class Stream(httpx.AsyncByteStream):
    """Bytes in small chunks, then (optionally) a dropped connection."""

    def __init__(self, body: bytes, *, drop: bool, chunk: int = 7) -> None:
        self.body, self.drop, self.chunk = body, drop, chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for i in range(0, len(self.body), self.chunk):
            yield self.body[i : i + self.chunk]
        if self.drop:
            raise httpx.ReadError("connection reset by peer")


Behaviour = Callable[[int], httpx.Response]


def sse(body: bytes, *, drop: bool = False) -> httpx.Response:
    headers = {"content-type": "text/event-stream"}
    return httpx.Response(200, headers=headers, stream=Stream(b": connected\n\n" + body, drop=drop))


class FakeServer:
    """Answers each connection with the next behaviour; records the Last-Event-IDs."""

    def __init__(self, *behaviours: Behaviour) -> None:
        self.behaviours = list(behaviours)
        self.resumed_from: list[str | None] = []
        self.queries: list[str] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.resumed_from.append(request.headers.get("last-event-id"))
        self.queries.append(request.url.query.decode())
        after = int(request.headers.get("last-event-id") or 0)
        return self.behaviours.pop(0)(after)


def events_between(first: int, last: int, *, drop: bool = False, crlf: bool = False) -> Behaviour:
    return lambda after: sse(b"".join(frame(s, crlf) for s in range(first, last + 1)), drop=drop)


def honest(upto: int = N_EVENTS, *, drop: bool = False) -> Behaviour:
    """Replays exactly the events after Last-Event-ID, up to ``upto``."""
    return lambda after: sse(b"".join(frame(s) for s in range(after + 1, upto + 1)), drop=drop)


def client_for(server: FakeServer, **options: Any) -> Client:
    options.setdefault("backoff_s", 0.0)
    return Client("http://dossier.test", transport=httpx.MockTransport(server), **options)


async def collect(client: Client, **kwargs: Any) -> list[int]:
    async with client:
        return [event.seq async for event in client.events("s_1", **kwargs)]


async def test_a_dropped_stream_resumes_from_the_last_seq_without_gaps_or_duplicates() -> None:
    server = FakeServer(honest(4, drop=True), honest(9, drop=True), honest())
    assert await collect(client_for(server)) == list(range(1, N_EVENTS + 1))
    assert server.resumed_from == [None, "4", "9"]


async def test_a_server_that_replays_too_much_yields_no_duplicates() -> None:
    # The second connection ignores Last-Event-ID and sends everything again, in CRLF.
    server = FakeServer(events_between(1, 5, drop=True), events_between(1, N_EVENTS, crlf=True))
    assert await collect(client_for(server)) == list(range(1, N_EVENTS + 1))


async def test_a_gap_reconnects_from_the_last_good_seq() -> None:
    server = FakeServer(events_between(1, 3), events_between(6, N_EVENTS), honest())
    assert await collect(client_for(server)) == list(range(1, N_EVENTS + 1))
    assert server.resumed_from == [None, "3", "3"]


def test_a_bare_id_is_returned_only_when_asked_for() -> None:
    body = "id: 7\n\n: heartbeat\n\nid: 8\nevent: finding\ndata: {}\n\n"
    plain, _ = parse(body)
    assert [(m.event, m.last_event_id) for m in plain] == [("finding", "8")]
    parser = SSEParser(bare_ids=True)
    moves = parser.feed(body)
    # the comment block has no id: it moves nothing
    assert [(m.event, m.data, m.last_event_id) for m in moves] == [
        ("", "", "7"),
        ("finding", "{}", "8"),
    ]


def hiding(*hidden: int) -> Behaviour:
    """Replays the events after Last-Event-ID, with ``hidden`` seqs as bare ids (another
    principal's chat)."""

    def respond(after: int) -> httpx.Response:
        body = b"".join(
            b"id: %d\n\n" % s if s in hidden else frame(s) for s in range(after + 1, N_EVENTS + 1)
        )
        return sse(body)

    return respond


async def test_bare_ids_move_the_stream_past_events_it_may_not_see() -> None:
    server = FakeServer(hiding(3, 4, 9))
    assert await collect(client_for(server)) == [1, 2, 5, 6, 7, 8, 10, 11, 12]
    assert server.resumed_from == [None]  # no gap seen, no reconnect


async def test_a_bare_id_past_a_gap_is_still_a_gap() -> None:
    skipping: Behaviour = lambda after: sse(frame(1) + b"id: 5\n\n" + frame(6))  # noqa: E731
    server = FakeServer(skipping, honest())
    assert await collect(client_for(server)) == list(range(1, N_EVENTS + 1))
    assert server.resumed_from == [None, "1"]


async def test_a_clean_end_before_session_completed_reconnects() -> None:
    server = FakeServer(honest(6), honest())
    assert await collect(client_for(server)) == list(range(1, N_EVENTS + 1))
    assert server.resumed_from == [None, "6"]


async def test_it_stops_after_session_completed_unless_following() -> None:
    server = FakeServer(honest(), honest())  # the second one is never used
    assert await collect(client_for(server), after=8) == [9, 10, 11, 12]
    assert len(server.behaviours) == 1 and server.queries == [""]


async def test_follow_asks_the_server_to_keep_the_stream_open() -> None:
    server = FakeServer(honest())
    async with client_for(server) as client:
        seen = []
        async for event in client.events("s_1", after=10, follow=True):
            seen.append(event.seq)
            if event.type == "session.completed":
                break
    assert seen == [11, 12] and server.queries == ["follow=true"]


async def test_a_204_at_the_end_of_a_finished_stream_ends_at_once() -> None:
    server = FakeServer(lambda after: httpx.Response(204))
    assert await collect(client_for(server), after=N_EVENTS) == []
    assert server.resumed_from == ["12"]


async def test_backoff_doubles_to_its_cap_and_resets_after_progress() -> None:
    refused = lambda after: httpx.Response(503, json={"error": {"code": "unavailable"}})  # noqa: E731
    server = FakeServer(*[refused] * 4, honest(2, drop=True), refused, honest())
    client = client_for(server, backoff_s=0.5, max_backoff_s=1.5)
    delays: list[float] = []

    async def sleep(delay_s: float) -> None:
        delays.append(delay_s)

    client._sleep = sleep
    assert await collect(client) == list(range(1, N_EVENTS + 1))
    assert delays == [0.5, 1.0, 1.5, 1.5, 0.5, 1.0]


async def test_the_retry_field_sets_the_first_delay() -> None:
    server = FakeServer(lambda after: sse(b"retry: 40\n\n" + frame(1), drop=True), honest())
    client = client_for(server, backoff_s=9.0)
    delays: list[float] = []

    async def sleep(delay_s: float) -> None:
        delays.append(delay_s)

    client._sleep = sleep
    assert await collect(client) == list(range(1, N_EVENTS + 1))
    assert delays == [0.04]


async def test_it_gives_up_after_max_reconnects_in_a_row() -> None:
    server = FakeServer(*[honest(0, drop=True)] * 4)
    with pytest.raises(ConnectionFailed) as caught:
        await collect(client_for(server, max_reconnects=3))
    assert caught.value.code == "stream_lost" and caught.value.status is None
    assert "after seq 0" in caught.value.message


async def test_an_unknown_session_is_an_api_error_not_retried() -> None:
    body = {"error": {"code": "not_found", "message": "no session s_1"}}
    server = FakeServer(lambda after: httpx.Response(404, json=body), honest())
    with pytest.raises(APIError) as caught:
        await collect(client_for(server))
    assert (caught.value.status, caught.value.code, caught.value.message) == (
        404,
        "not_found",
        "no session s_1",
    )
    assert len(server.behaviours) == 1


# -- plain requests and error mapping


def test_an_error_body_maps_to_status_code_and_message() -> None:
    body = {"error": {"code": "invalid_input", "message": "account.name: too short"}}
    error = APIError.from_response(httpx.Response(422, json=body))
    assert (error.status, error.code, error.message) == (
        422,
        "invalid_input",
        body["error"]["message"],
    )


def test_an_error_without_our_body_still_says_what_happened() -> None:
    error = APIError.from_response(httpx.Response(502, text="<html>Bad gateway</html>"))
    assert (error.status, error.code, error.message) == (502, "http_502", "Bad Gateway")


async def test_create_session_sends_the_account_and_returns_the_body() -> None:
    sent: list[Any] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        assert request.headers["authorization"] == "Bearer t0k"
        return httpx.Response(202, json={"session_id": "s_1", "status": "running"})

    transport = httpx.MockTransport(handler)
    async with Client("http://dossier.test", token="t0k", transport=transport) as client:
        opened = await client.create_session("Stripe", "stripe.com", ticker="STRP", refresh=True)
    assert opened["session_id"] == "s_1"
    assert sent == [
        {"account": {"name": "Stripe", "ticker": "STRP", "domain": "stripe.com"}, "refresh": True}
    ]


async def test_an_unreachable_server_is_connection_failed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    async with Client("http://dossier.test", transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(ConnectionFailed) as caught:
            await client.snapshot("s_1")
    assert caught.value.code == "unreachable" and "connection refused" in caught.value.message


# -- the chat over HTTP (the fallback when there is no WebSocket)


def answer_stream(*frames: tuple[str, dict[str, Any]]) -> httpx.Response:
    body = ": connected\n\n" + "".join(
        f"event: {kind}\ndata: {json.dumps(data)}\n\n" for kind, data in frames
    )
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)


async def ask(response: httpx.Response, **kwargs: Any) -> list[dict[str, Any]]:
    async def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/sessions/s_1/questions"
        assert json.loads(request.content)["id"] == "q1"
        return response

    async with Client("http://dossier.test", transport=httpx.MockTransport(handler)) as client:
        frames = client.ask("s_1", "Who leads?", question_id="q1", transport="http", **kwargs)
        return [frame async for frame in frames]


async def test_an_answer_streams_until_its_suggestions() -> None:
    frames = await ask(
        answer_stream(
            ("answer.start", {"id": "q1", "basis": "complete", "pending": []}),
            ("answer.delta", {"id": "q1", "text": "Patrick Collison leads."}),
            ("answer.citation", {"id": "q1", "finding": "f_1", "url": None, "title": "P"}),
            ("answer.delta", {"id": "q9", "text": "another question's answer"}),
            ("answer.end", {"id": "q1", "complete": True, "pending": []}),
            ("suggestions", {"items": ["What is new?"]}),
        )
    )
    assert [f["type"] for f in frames] == [
        "answer.start",
        "answer.delta",
        "answer.citation",
        "answer.end",
        "suggestions",
    ]
    assert frames[1]["text"] == "Patrick Collison leads."


async def test_a_pending_answer_waits_for_its_revision() -> None:
    frames = await ask(
        answer_stream(
            ("answer.start", {"id": "q1", "basis": "partial", "pending": ["people"]}),
            ("answer.delta", {"id": "q1", "text": "Nothing yet."}),
            ("answer.end", {"id": "q1", "complete": False, "pending": ["people"]}),
            ("suggestions", {"items": []}),
            ("answer.revised", {"id": "q1", "text": "Patrick.", "citations": [], "reason": "x"}),
        )
    )
    assert frames[-1]["type"] == "answer.revised" and frames[-1]["text"] == "Patrick."


async def test_an_error_frame_is_raised_with_its_status() -> None:
    with pytest.raises(APIError) as caught:
        await ask(
            answer_stream(("error", {"id": "q1", "code": "invalid_input", "message": "empty"}))
        )
    assert (caught.value.status, caught.value.code) == (422, "invalid_input")


async def test_a_stream_that_ends_before_the_answer_is_connection_failed() -> None:
    with pytest.raises(ConnectionFailed):
        await ask(answer_stream(("answer.start", {"id": "q1", "basis": "partial", "pending": []})))
