from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from dossier.core.events import (
    EVENT_TYPES,
    Event,
    EventType,
    NewEvent,
    encode_sse,
    encode_sse_comment,
    encode_sse_message,
)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text()
    | st.floats(allow_nan=False, allow_infinity=False)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


def parse_frame(frame: bytes) -> dict[str, str]:
    """A minimal SSE parser following the spec's line rules (CR, LF and CRLF split lines)."""
    text = frame.decode("utf-8")
    assert text.endswith("\n\n")
    fields: dict[str, str] = {}
    lines = text[:-2].replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for line in lines:
        name, _, value = line.partition(":")
        fields.setdefault(name, "")
        fields[name] += value.removeprefix(" ")
    return fields


@given(
    seq=st.integers(min_value=1, max_value=2**53),
    etype=st.sampled_from(sorted(EVENT_TYPES)),
    data=st.dictionaries(st.text(), json_values, max_size=5),
    step=st.none() | st.text(max_size=20),
)
def test_a_frame_round_trips_any_payload_as_one_data_line(
    seq: int, etype: str, data: dict[str, object], step: str | None
) -> None:
    event = Event.build(seq, "s_1", NewEvent(type=etype, data=data, step=step))
    fields = parse_frame(encode_sse(event))
    assert set(fields) == {"id", "event", "data"}
    assert fields["id"] == str(seq)
    assert fields["event"] == etype
    envelope = json.loads(fields["data"])
    assert envelope["seq"] == seq
    assert envelope["type"] == etype
    assert envelope["data"] == data
    assert envelope["step"] == step


@given(text=st.text())
def test_a_comment_never_breaks_out_of_its_line(text: str) -> None:
    frame = encode_sse_comment(text).decode()
    body = frame[:-2]
    assert "\n" not in body.replace("\r\n", "")
    assert body.startswith(": ")


def test_envelope_round_trips_through_storage() -> None:
    event = Event.build(
        7, "s_x", NewEvent(type="finding", data={"a": [1, "ü"]}, workflow="w", step="s")
    )
    again = Event.from_envelope(event.envelope)
    assert again.to_dict() == event.to_dict()
    assert again.frame == event.frame


def test_timestamps_are_utc_with_milliseconds() -> None:
    event = NewEvent(type="finding")
    assert event.ts.endswith("Z")
    assert len(event.ts) == len("2026-11-24T10:00:00.123Z")


def test_a_message_frame_carries_its_type_and_json() -> None:
    fields = parse_frame(encode_sse_message("answer.delta", {"id": "q1", "text": "hi\nthere"}))
    assert fields["event"] == "answer.delta"
    assert json.loads(fields["data"]) == {"id": "q1", "text": "hi\nthere"}


def test_no_event_type_is_the_reserved_error_name() -> None:
    assert "error" not in EVENT_TYPES
    assert EventType.FINDING in EVENT_TYPES and len(EVENT_TYPES) == 26
