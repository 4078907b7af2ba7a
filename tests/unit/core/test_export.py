"""The Markdown export: inline [n] after the sentence each source supports, paragraphs
where the page has them, the text kept inert."""

from __future__ import annotations

from dossier.core.export import file_name, to_markdown, with_markers


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


def _profile(fid: str, name: str, **fields: object) -> dict[str, object]:
    return {"id": fid, "kind": "company_profile", "title": name, "source": "wikidata",
            "fields": {"name": name, **fields}}  # fmt: skip


def test_the_account_profile_is_a_table_and_ours_is_not_it() -> None:
    snapshot = {
        "account": {"name": "Acme"},
        "findings": [
            _profile("p_ours", "Sentinel", headquarters="Berlin"),
            _profile("p_acme", "Acme", headquarters="Austin | TX", employees=1200),
        ],
        "vendor_findings": ["p_ours"],
    }
    text = to_markdown(snapshot)
    assert "## Profile\n\nFrom Acme.\n\n| Field | Value |\n|---|---|\n" in text
    assert "| Headquarters | Austin \\| TX |" in text and "| Employees | 1,200 |" in text
    assert "Berlin" not in text.split("## Profile", 1)[1].split("\n\n## ", 1)[0]


def test_source_text_never_becomes_a_link() -> None:
    snapshot = {
        "account": {"name": "Acme"},
        "findings": [
            {"id": "n1", "kind": "news_article", "source": "hn", "url": "https://ok.example/a",
             "title": "Visit https://evil.example or www.evil.example, mail boss@evil.example"}
        ],
    }  # fmt: skip
    text = to_markdown(snapshot)
    assert "https\\://evil.example" in text and "www\\.evil.example" in text
    assert "boss\\@evil.example" in text
    assert "<https://ok.example/a>" in text  # the finding's own link stays a link
