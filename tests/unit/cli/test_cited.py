"""Cited text in the terminal: markers where the sources support the text."""

from __future__ import annotations

from dossier.cli.cited import CitedText


def test_labelled_sentences_start_paragraphs_even_after_a_marker() -> None:
    cited = CitedText()
    cited.add("Quick take: Acme, payments.")
    cited.cite({"finding": "f_1", "title": "Acme"})
    cited.add(" Entry point: Jane Doe (CFO). Discovery")  # streamed in arbitrary chunks
    cited.add(" question 1 (suggested): Who signs?")
    plain = cited.text(paragraphs=True).plain
    assert plain == (
        "Quick take: Acme, payments.[1]\n\nEntry point: Jane Doe (CFO).\n\n"
        "Discovery question 1 (suggested): Who signs?"
    )
    assert "\n" not in cited.text().plain  # answers stay one block
