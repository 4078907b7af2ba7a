"""The import graph follows the layers of STYLE.md: a unit test fails on any upward import."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "dossier"

LAYER = {
    "settings": 0,
    "errors": 0,
    "metrics": 0,
    "logs": 0,
    "outage": 0,
    "core": 1,
    "collectors": 2,
    "providers": 2,
    "cache": 2,
    "eventlog": 2,
    "workflows": 3,
    "transport": 4,
    "mcp": 5,  # another transport, over the services (and the HTTP ones' auth and deps)
    "app": 6,
}
OUTSIDE = {"cli", "client", "__main__", "__init__", "web", "fixtures"}


# "dossier.transport.sse" or "dossier.collectors.hn:HackerNewsCollector" in a string: a
# registry entry or an import_module() argument is an import too
_DOTTED = re.compile(r"^dossier\.([a-z_]+)(?:\.[a-z_]+)*(?::\w+)?$")


def _imports_of(source: str, module: tuple[str, ...]) -> set[str]:
    """The top-level dossier packages ``source`` (the module ``module``, e.g. ``("dossier",
    "core", "chat")``) imports, in every form: ``import dossier.x``, ``from dossier.x
    import y``, ``from dossier import x``, relative imports, and dotted paths in strings."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            name = node.module or ""
            if node.level:  # relative: from the module's package, up level - 1
                base = module[: len(module) - node.level]
                name = ".".join((*base, *([name] if name else [])))
            if name == "dossier":  # a subpackage, or a name of dossier/__init__.py
                found |= {
                    a.name if a.name in LAYER.keys() | OUTSIDE else "__init__" for a in node.names
                }
            elif name.startswith("dossier."):
                found.add(name.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("dossier.")}
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            match = _DOTTED.match(node.value)
            if match and match.group(1) in LAYER.keys() | OUTSIDE:
                found.add(match.group(1))
    return found


def _imports(path: Path) -> set[str]:
    # (for a package's __init__.py, "from . import x" is that package's x: same rule)
    module = path.relative_to(SRC.parent).with_suffix("").parts
    return _imports_of(path.read_text(encoding="utf-8"), module)


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


@pytest.mark.parametrize(
    "source",
    [
        "import dossier.transport.sse",
        "from dossier.transport.sse import EventStream",
        "from dossier import transport",
        "from ..transport import sse",
        "from ..transport.sse import EventStream",
        "import importlib\nimportlib.import_module('dossier.transport.sse')",
        "TABLE = {'sse': 'dossier.transport.sse:EventStream'}",
    ],
)
def test_every_import_form_is_seen(source: str) -> None:
    assert "transport" in _imports_of(source, ("dossier", "core", "chat"))


def test_names_that_only_look_like_modules_are_not_imports() -> None:
    source = "NAME = 'dossier.research_session'\nfrom . import words"
    assert _imports_of(source, ("dossier", "core", "chat")) == {"core"}
