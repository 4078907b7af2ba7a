"""A joined principal sees the research and only their own chat (snapshot, stream frames,
suggestions); a reused question id never overwrites an answer in the fold."""

from __future__ import annotations

from dossier.core.events import Event, EventType, NewEvent
from dossier.core.privacy import Viewer, frames_for
from dossier.core.snapshot import SnapshotBuilder
from dossier.core.suggestions import suggest

ALICE, BOB = "p_alice", "p_bob"


def logged(*events: NewEvent) -> list[Event]:
    return [Event.build(seq, "s_1", new) for seq, new in enumerate(events, start=1)]


def question(qid: str, content: str, asker: str | None) -> NewEvent:
    data = {"id": qid, "content": content}
    return NewEvent(EventType.CHAT_QUESTION, data | ({"asker": asker} if asker else {}))


def answer(qid: str, text: str, asker: str | None) -> NewEvent:
    data = {"id": qid, "text": text}
    return NewEvent(EventType.ANSWER_END, data | ({"asker": asker} if asker else {}))


def a_session() -> list[Event]:
    return logged(
        NewEvent(EventType.SESSION_CREATED, {"account": {"name": "NVIDIA"}}),
        question("qa", "Is our deal with them at risk?", ALICE),
        answer("qa", "Alice's answer.", ALICE),
        NewEvent(EventType.FINDING, {"nonsense": True}),
        question("qb", "Who is the CEO?", BOB),
        answer("qb", "Bob's answer.", BOB),
        NewEvent(EventType.ANSWER_REVISED, {"id": "qa", "text": "revised", "asker": ALICE}),
    )


def test_each_principal_sees_only_their_own_turns_in_the_snapshot() -> None:
    builder = SnapshotBuilder("s_1")
    builder.apply_all(a_session())
    alice = builder.to_json(Viewer(ALICE, owner=True))
    bob = builder.to_json(Viewer(BOB, owner=False))
    assert [t["id"] for t in alice["chat"]] == ["qa"]
    assert alice["chat"][0]["revisions"][0]["text"] == "revised"
    assert [t["id"] for t in bob["chat"]] == ["qb"]
    assert "deal with them" not in str(bob)
    assert alice["last_seq"] == bob["last_seq"] == 7  # one log, one seq
    assert [t["id"] for t in builder.to_json()["chat"]] == ["qa", "qb"]  # one principal: all


def test_chat_from_before_askers_were_named_is_the_owners() -> None:
    builder = SnapshotBuilder("s_1")
    builder.apply_all(logged(question("old", "An old question", None), answer("old", "x", None)))
    assert [t["id"] for t in builder.to_json(Viewer(ALICE, owner=True))["chat"]] == ["old"]
    assert builder.to_json(Viewer(BOB, owner=False))["chat"] == []


def test_a_reused_id_neither_takes_the_turn_nor_overwrites_its_answer() -> None:
    builder = SnapshotBuilder("s_1")
    builder.apply_all(
        logged(
            question("q1", "Mine", ALICE),
            answer("q1", "the first answer", ALICE),
            question("q1", "Theirs", BOB),  # an older log could hold these
            answer("q1", "an answer of someone else", BOB),
            answer("q1", "a second answer", ALICE),
        )
    )
    turn = builder.chat["q1"]
    assert turn.question == "Mine" and turn.asker == ALICE
    assert turn.answer is not None and turn.answer["text"] == "the first answer"
    assert builder.turns_by == {ALICE: 1}


def test_the_stream_sends_a_bare_id_for_each_event_the_viewer_may_not_see() -> None:
    events = a_session()
    bob = frames_for(Viewer(BOB, owner=False), events).decode()
    assert "deal with them" not in bob and "Alice's answer" not in bob
    assert "id: 2\n\n" in bob and "id: 3\n\n" in bob and "id: 7\n\n" in bob
    assert "Who is the CEO?" in bob and "Bob's answer." in bob
    # every seq is there, as an event or a bare id: a client checking for gaps sees none
    ids = [int(line[4:]) for line in bob.splitlines() if line.startswith("id: ")]
    assert ids == list(range(1, 8))
    everything = b"".join(e.frame for e in events)
    assert frames_for(None, events) == everything
    assert frames_for(Viewer(ALICE, owner=True), events[3:4]) == events[3].frame


def test_suggestions_follow_what_this_viewer_asked_not_what_others_did() -> None:
    builder = SnapshotBuilder("s_1")
    builder.apply_all(
        logged(
            NewEvent(EventType.SESSION_CREATED, {"vendor": {"description": "fraud analytics"}}),
            question("qa", "How does our offer fit them?", ALICE),
        )
    )
    fit = "How does our offer fit them?"
    assert fit not in suggest(builder, Viewer(ALICE, owner=True))
    assert fit in suggest(builder, Viewer(BOB, owner=False))
    assert fit not in suggest(builder)
