"""The page, the CLI and the server use one vocabulary (STYLE.md 21): a state, a data type
or a source the page does not name would be shown raw, or not at all."""

from __future__ import annotations

import re
from pathlib import Path

from dossier.collectors.base import COLLECTORS, CollectorDeps, build_registry
from dossier.collectors.http import SourceHttp
from dossier.core.coverage import DATA_TYPE_WORDS, STATE_WORDS, CoverageState
from dossier.settings import Settings
from dossier.workflows.outcome import DERIVED_LABEL

WEB = Path(__file__).resolve().parents[2] / "src" / "dossier" / "web"


def js_object(file: str, name: str) -> dict[str, str]:
    """A flat ``const NAME = { key: "value", … }`` from one of the page's modules."""
    text = (WEB / file).read_text(encoding="utf-8")
    match = re.search(rf"const {name} = \{{(.*?)\n\}};", text, re.S)
    assert match, f"{file} has no {name}"
    return dict(re.findall(r'^\s*(\w+): "([^"]*)",?$', match.group(1), re.M))


def test_the_page_names_every_coverage_state_as_the_server_does() -> None:
    page = js_object("findings.js", "STATE_LABEL")
    assert page == STATE_WORDS
    assert set(page) == {state.value for state in CoverageState}


def test_the_page_names_every_data_type_as_the_server_does() -> None:
    assert js_object("dom.js", "DATA_TYPE_LABEL") == dict(DATA_TYPE_WORDS)


def test_the_page_names_every_source_as_its_collector_does(settings: Settings) -> None:
    registry = build_registry(CollectorDeps(http=SourceHttp(None), settings=settings))  # type: ignore[arg-type]
    assert set(registry.names) == set(COLLECTORS)
    assert js_object("dom.js", "SOURCE_LABEL") == {**registry.labels, **DERIVED_LABEL}
