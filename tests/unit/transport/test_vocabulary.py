"""The page, the CLI and the server use one vocabulary (STYLE.md 21): the page imports it
from a module the server generates from its own definitions, and keeps no copy."""

from __future__ import annotations

import json
import re
from pathlib import Path

from dossier.collectors.base import COLLECTORS, CollectorDeps, build_registry
from dossier.collectors.http import SourceHttp
from dossier.core.coverage import DATA_TYPE_WORDS, STATE_WORDS, CoverageState
from dossier.core.events import EVENT_TYPES
from dossier.core.records import WorkflowKind
from dossier.core.types import DATA_TYPE_OF_KIND
from dossier.settings import Settings
from dossier.transport.vocabulary import vocabulary_module
from dossier.workflows.outcome import DERIVED_LABEL

WEB = Path(__file__).resolve().parents[2] / "src" / "dossier" / "web"
VOCABULARY = ("EVENT_TYPES", "STATE_LABEL", "DATA_TYPE_LABEL", "SOURCE_LABEL", "GROUP_OF_KIND")


def exported(module: str) -> dict[str, object]:
    return {
        name: json.loads(value)
        for name, value in re.findall(r"^export const (\w+) = (.*);$", module, re.M)
    }


def test_the_generated_module_holds_the_servers_definitions() -> None:
    labels = {"greenhouse": "Greenhouse"}
    values = exported(vocabulary_module(labels))
    events = values["EVENT_TYPES"]
    assert isinstance(events, list) and set(events) == EVENT_TYPES
    assert values["WORKFLOW_KINDS"] == [k.value for k in WorkflowKind]
    assert values["STATE_LABEL"] == STATE_WORDS
    assert set(STATE_WORDS) == {state.value for state in CoverageState}
    assert values["DATA_TYPE_LABEL"] == DATA_TYPE_WORDS
    assert values["GROUP_OF_KIND"] == {k.value: t.value for k, t in DATA_TYPE_OF_KIND.items()}
    assert values["SOURCE_LABEL"] == labels


def test_every_collector_has_a_label(settings: Settings) -> None:
    registry = build_registry(CollectorDeps(http=SourceHttp(None), settings=settings))  # type: ignore[arg-type]
    assert set(registry.labels) == set(COLLECTORS)
    assert all(label and label != name for name, label in registry.labels.items())
    assert not set(DERIVED_LABEL) & set(COLLECTORS)


def test_the_page_keeps_no_copy_of_the_vocabulary() -> None:
    for path in WEB.glob("*.js"):
        text = path.read_text(encoding="utf-8")
        for name in (
            "EVENT_TYPES",
            "STATE_LABEL",
            "DATA_TYPE_LABEL",
            "SOURCE_LABEL",
            "GROUP_OF_KIND",
        ):
            assert not re.search(rf"^(export )?const {name} = ", text, re.M), (path.name, name)
        assert '"session.completed", "session.error"' not in text, path.name
