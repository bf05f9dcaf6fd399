"""The layer's shape (issue #12): no file over 450 lines, and its modules import each other without a
cycle (no circle closed by an import inside a function)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support import REPOSITORY

LAYER = REPOSITORY / "layers" / "receivables" / "receivables"
MAX_LINES = 450


def _module(path: Path) -> str:
    parts = path.relative_to(LAYER.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every receivables module imported anywhere in the file, except for type checking only."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for stmt in block.body
        for node in ast.walk(stmt)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("receivables"):
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("receivables")}
    return found


def test_no_layer_file_is_longer_than_450_lines() -> None:
    long = {
        str(path.relative_to(LAYER)): n
        for path in LAYER.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_the_layer_modules_import_each_other_without_a_cycle() -> None:
    modules = {_module(path): path for path in LAYER.rglob("*.py")}
    graph = {
        name: {m for m in _imports(path) if m in modules and m != name} for name, path in modules.items()
    }
    done: set[str] = set()

    def visit(name: str, trail: tuple[str, ...]) -> None:
        assert name not in trail, " → ".join((*trail[trail.index(name) :], name))
        if name in done:
            return
        for imported in graph[name]:
            visit(imported, (*trail, name))
        done.add(name)

    for name in sorted(graph):
        visit(name, ())
