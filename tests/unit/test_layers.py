"""The import graph follows the layers of STYLE.md: a unit test fails on any upward import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "dossier"

LAYER = {
    "settings": 0,
    "errors": 0,
    "metrics": 0,
    "logs": 0,
    "core": 1,
    "collectors": 2,
    "providers": 2,
    "cache": 2,
    "eventlog": 2,
    "workflows": 3,
    "transport": 4,
    "app": 5,
}
OUTSIDE = {"cli", "client", "__main__", "__init__", "web", "fixtures"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("dossier."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("dossier.")}
    return found


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        top = path.relative_to(SRC).parts[0].removesuffix(".py")
        if top not in OUTSIDE:
            out.append((top, path))
    return out


@pytest.mark.parametrize(("top", "path"), _modules(), ids=lambda v: str(v).split("dossier/")[-1])
def test_no_module_imports_a_higher_layer(top: str, path: Path) -> None:
    mine = LAYER[top]
    for imported in _imports(path):
        if imported in OUTSIDE or imported == top:
            continue
        theirs = LAYER[imported]
        assert theirs < mine or (theirs == mine == 0), f"{path.name}: {top} imports {imported}"


def test_only_workflows_import_dbos() -> None:
    for top, path in _modules():
        if top in ("workflows", "app"):
            continue
        assert "from dbos" not in path.read_text() and "import dbos" not in path.read_text(), path
