"""Where an SSE stream resumes: Last-Event-ID from the header (browsers) or the query
(clients that cannot set headers), refused when it is not a sequence number."""

from __future__ import annotations

import pytest
from starlette.types import Scope

from dossier.errors import InvalidInput
from dossier.transport.sse import parse_last_event_id


def scope(header: str | None = None, query: str = "") -> Scope:
    headers = [(b"last-event-id", header.encode())] if header is not None else []
    return {"type": "http", "headers": headers, "query_string": query.encode()}


@pytest.mark.parametrize(
    ("header", "query", "expected"),
    [
        (None, "", 0),
        ("42", "", 42),
        (" 7 ", "", 7),
        (None, "last_event_id=9", 9),
        ("5", "last_event_id=9", 5),  # the header wins: it is what a browser resends
        ("", "", 0),
    ],
)
def test_the_resume_point(header: str | None, query: str, expected: int) -> None:
    assert parse_last_event_id(scope(header, query)) == expected


@pytest.mark.parametrize("bad", ["-1", "abc", "1e3", "9" * 19, "1.5"])
def test_anything_but_a_sequence_number_is_refused(bad: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_last_event_id(scope(bad))
    assert caught.value.code == "invalid_last_event_id"
