"""The Markdown export: inline [n] after the sentence each source supports, paragraphs
where the page has them, the text kept inert."""

from __future__ import annotations

from dossier.core.export import file_name, with_markers


def test_markers_stand_before_the_full_stop_and_spaces_survive() -> None:
    text = "Acme hires. Talking point: they build *rails*. Done."
    citations = [
        {"finding": "f_a", "at": len("Acme hires.")},
        {"finding": "f_b", "at": len("Acme hires. Talking point: they build *rails*.")},
        {"finding": "f_c", "at": len("Acme hires. Talking point: they build *rails*.")},
        {"finding": "f_unknown", "at": 3},  # not in the source list: no marker
        {"finding": "f_a"},  # an older snapshot without "at": no marker
    ]
    said = with_markers(text, citations, {"f_a": 1, "f_b": 2, "f_c": 3})
    assert said == "Acme hires [1].\n\nTalking point: they build \\*rails\\* [2][3]. Done."


def test_file_name_is_the_company_and_the_day() -> None:
    snapshot = {"account": {"name": "Stripe, Inc."}, "created_at": "2026-12-06T10:00:00Z"}
    assert file_name(snapshot, "md") == "dossier-stripe-2026-12-06.md"
    assert file_name({"account": {"name": "Ünïcode ❤ Co"}}, "json").startswith("dossier-")
