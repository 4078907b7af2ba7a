from __future__ import annotations

import functools
from collections.abc import AsyncGenerator, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dossier.core.ports import CitationMark, ProviderChunk, TextDelta
from dossier.core.types import Citation, FindingKind
from dossier.errors import ProviderError
from dossier.providers.citations import CitationParser, cite_stream
from tests.fakes import FIXED_TIME, make_finding

finding = functools.partial(make_finding, at=FIXED_TIME)  # prompts must be reproducible

NEWS = finding(FindingKind.NEWS_ARTICLE, "Acme raises $25M Series B")
JOB = finding(FindingKind.JOB_POSTING, "Senior Data Engineer")
UNKNOWN = "f_ffffffffffffffff"
NEWS_CITATION = Citation(finding=NEWS.id, url=NEWS.url, title=NEWS.title)


def _run(pieces: Sequence[str]) -> list[ProviderChunk]:
    parser = CitationParser([NEWS, JOB])
    chunks: list[ProviderChunk] = []
    for piece in pieces:
        chunks += parser.feed(piece)
    return chunks + parser.flush()


def _text(chunks: Sequence[ProviderChunk]) -> str:
    return "".join(c.text for c in chunks if isinstance(c, TextDelta))


def _cited(chunks: Sequence[ProviderChunk]) -> list[str]:
    return [c.citation.finding for c in chunks if isinstance(c, CitationMark)]


def test_marker_is_removed_and_becomes_a_citation_of_the_finding() -> None:
    chunks = _run([f"Acme raised $25M [{NEWS.id}]. Next."])

    assert chunks == [
        TextDelta("Acme raised $25M"),
        CitationMark(NEWS_CITATION),
        TextDelta(". Next."),
    ]


def test_marker_split_at_every_position_gives_the_same_result() -> None:
    text = f"They hire engineers. [{JOB.id}] And raised money [{NEWS.id}, {UNKNOWN}]."
    whole = _run([text])
    assert _text(whole) == "They hire engineers. And raised money."
    assert _cited(whole) == [JOB.id, NEWS.id]
    for cut in range(1, len(text)):
        split = _run([text[:cut], text[cut:]])
        assert _text(split) == _text(whole), cut
        assert _cited(split) == _cited(whole), cut
    assert _text(_run(list(text))) == _text(whole)


def test_text_before_a_split_marker_is_emitted_without_waiting_for_it() -> None:
    parser = CitationParser([NEWS])

    assert parser.feed(f"Funding news [{NEWS.id[:5]}") == [TextDelta("Funding news")]
    assert parser.feed(NEWS.id[5:] + "] done") == [
        CitationMark(NEWS_CITATION),
        TextDelta(" done"),
    ]


def test_unknown_and_malformed_ids_are_dropped_not_shown() -> None:
    chunks = _run([f"A [{UNKNOWN}]. B [f_12]. C [F_{NEWS.id[2:].upper()}]."])

    assert _text(chunks) == "A. B. C."
    # an upper-case copy of a known id still counts: models sometimes change case
    assert _cited(chunks) == [NEWS.id]


def test_brackets_that_are_not_markers_pass_through_unchanged() -> None:
    text = "See [1], [footnote], [f_ab cd], a[b]c, [ , f] and x["

    assert _text(_run([text])) == text
    assert _text(_run(list(text))) == text
    assert _cited(_run([text])) == []


def test_each_finding_is_cited_at_most_once_per_answer() -> None:
    chunks = _run([f"One [{NEWS.id}]. Two [{NEWS.id}][{JOB.id}]. Three [{JOB.id}, {NEWS.id}]."])

    assert _text(chunks) == "One. Two. Three."
    assert _cited(chunks) == [NEWS.id, JOB.id]


def test_a_marker_cut_off_by_the_end_of_the_stream_is_dropped() -> None:
    assert _text(_run(["Done [f_0123"])) == "Done"
    # too short to be a marker yet: it is text
    assert _text(_run(["Done [f"])) == "Done [f"
    assert _text(_run(["Trailing space "])) == "Trailing space "


def test_a_very_long_bracket_is_released_as_text() -> None:
    text = "[f_" + "a" * 400 + " tail"
    assert _text(_run([text])) == text


@given(st.lists(st.text(alphabet="ab [],f_0\n\t", max_size=12), max_size=12))
def test_text_without_complete_markers_is_never_altered(pieces: list[str]) -> None:
    text = "".join(pieces)
    # any f_ token between brackets could be (malformed) marker; the rest must survive as is
    if "[f_" in text.replace(" ", "").replace("\t", ""):
        return
    assert _text(_run(pieces)) == text


@given(st.lists(st.integers(min_value=1, max_value=len(NEWS.id) + 40), max_size=8))
def test_any_chunking_of_a_cited_answer_gives_the_same_text(cuts: list[int]) -> None:
    text = f"Acme [{NEWS.id}] hires [ {JOB.id} ; {NEWS.id} ] in [2025]."
    points = sorted({min(c, len(text)) for c in cuts})
    pieces = [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]

    chunks = _run(pieces)
    assert _text(chunks) == "Acme hires in [2025]."
    assert _cited(chunks) == [NEWS.id, JOB.id]


async def test_cite_stream_yields_held_text_before_a_mid_stream_error() -> None:
    async def texts() -> AsyncGenerator[str, None]:
        yield "Acme hires "
        yield "[f_01"
        raise ProviderError("dropped")

    seen: list[ProviderChunk] = []
    with pytest.raises(ProviderError, match="dropped"):
        async for chunk in cite_stream(texts(), CitationParser([NEWS])):
            seen.append(chunk)
    # the cut-off marker and the space it absorbed are gone, the rest was shown
    assert seen == [TextDelta("Acme hires")]


async def test_cite_stream_error_before_any_text_yields_nothing() -> None:
    async def texts() -> AsyncGenerator[str, None]:
        yield "  "
        raise ProviderError("refused")

    seen: list[ProviderChunk] = []
    with pytest.raises(ProviderError):
        async for chunk in cite_stream(texts(), CitationParser([NEWS])):
            seen.append(chunk)
    # nothing shown means the fallback rule still sees "before the first token"
    assert seen == []
