"""Events read back from the log: the header is read off the envelope's start and data is
parsed on demand; an envelope with unusual strings takes the full parse. Either way the
event is the one that was logged."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dossier.core.events import Event, NewEvent

names = st.one_of(st.none(), st.text(max_size=20))


def same(a: Event, b: Event) -> None:
    assert a.to_dict() == b.to_dict()
    assert a.frame == b.frame


@given(
    type_=st.text(min_size=1, max_size=20),
    workflow=names,
    step=names,
    data=st.dictionaries(
        st.text(max_size=8), st.one_of(st.integers(-(2**53), 2**53), st.text(max_size=8))
    ),
)
def test_any_logged_event_reads_back_the_same(
    type_: str, workflow: str | None, step: str | None, data: dict[str, object]
) -> None:
    built = Event.build(7, "s_1", NewEvent(type_, data, workflow=workflow, step=step))
    same(Event.from_envelope(built.envelope), built)


def test_the_usual_envelope_is_read_without_parsing_its_data() -> None:
    built = Event.build(3, "s_1", NewEvent("finding", {"id": "f1"}, workflow="w", step="x"))
    read = Event.from_envelope(built.envelope)
    assert read._data is None  # parsed when asked for
    assert read.data == {"id": "f1"} and read.seq == 3 and read.workflow == "w"


def test_a_field_with_a_quote_takes_the_full_parse() -> None:
    built = Event.build(4, "s_1", NewEvent("finding", {}, step='say "hi"'))
    read = Event.from_envelope(built.envelope)
    assert read.step == 'say "hi"'


@pytest.mark.parametrize("bad", ["", "[]", '{"type":"x"}', "not json"])
def test_anything_else_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        Event.from_envelope(bad)
