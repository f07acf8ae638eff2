"""The package's imports point down its layers: no module imports one that imports it back.

Imports under ``if TYPE_CHECKING:`` are for type checkers only and never run;
every other import counts, at the top of a module or inside a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "invitecls"


def _runtime_imports(tree: ast.Module) -> set[str]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for inner in node.body for child in ast.walk(inner))
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("invitecls."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("invitecls."))
    return found


def graph() -> dict[str, set[str]]:
    return {f.stem: _runtime_imports(ast.parse(f.read_text(encoding="utf-8"))) for f in PACKAGE.glob("*.py")}


def test_no_import_circles() -> None:
    imports = graph()

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in imports.get(start, ()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    circles = sorted(m for m in imports if m != "__init__" and reaches(m, m, {m}))
    assert circles == [], f"modules on an import circle: {circles}"


def test_the_lower_layers_do_not_import_the_upper_ones() -> None:
    imports = graph()
    layers = [
        {"_cli", "__main__"},
        {"_triage", "_history", "_review", "_prune", "_output", "dask"},
        {"_training"},
        {"_evaluation"},
        {"_api"},
        {"_model", "_persist"},
    ]
    for depth, layer in enumerate(layers):
        above = set().union(*layers[:depth])
        for module in layer:
            assert not (imports[module] & above), f"{module} imports {imports[module] & above}, a layer above it"


def test_the_graph_sees_imports_inside_functions() -> None:
    # The test's premise: a function-level import is found, a TYPE_CHECKING one is not.
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from invitecls._model import X\n"
        "def f():\n    from invitecls._persist import save\n"
    )
    assert _runtime_imports(tree) == {"_persist"}
