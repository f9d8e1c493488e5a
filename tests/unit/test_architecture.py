"""The architecture as a test: no import cycles among quartier modules, size limits, who-is-looking explicit.

``lint-imports`` checks the layer contracts in pyproject.toml; this file checks what contracts cannot say.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80
WHOLE_MARK = "must stay whole"  # a module whose top comment says why it may be longer / keep a long function


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for start in sorted(graph.modules):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, it = work[-1]
            advanced = False
            for nxt in it:
                if not nxt.startswith("quartier"):
                    continue
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph.find_modules_directly_imported_by(nxt)))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    comp.append(m)
                    if m == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def test_no_import_cycle_among_quartier_modules():
    graph = grimp.build_graph("quartier")
    # a package's __init__ re-exporting its own modules is not a cycle of meaning: drop package -> child edges
    for mod in list(graph.modules):
        for child in graph.find_children(mod):
            if graph.direct_import_exists(importer=mod, imported=child):
                graph.remove_import(importer=mod, imported=child)
    assert _cycles(graph) == []


def test_cycle_finder_finds_a_cycle():
    g = grimp.ImportGraph()
    for m in ("quartier", "quartier.a", "quartier.b", "quartier.c"):
        g.add_module(m)
    g.add_import(importer="quartier.a", imported="quartier.b")
    g.add_import(importer="quartier.b", imported="quartier.a")
    g.add_import(importer="quartier.c", imported="quartier.a")
    assert _cycles(g) == [["quartier.a", "quartier.b"]]


def _sources():
    return sorted(ROOT.joinpath("quartier").rglob("*.py"))


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_module_and_function_size(path: Path):
    text = path.read_text(encoding="utf-8")
    head = text[:1500]
    whole = WHOLE_MARK in head
    lines = text.count("\n") + 1
    assert lines <= MAX_MODULE_LINES or whole, f"{path.name}: {lines} Zeilen (> {MAX_MODULE_LINES})"
    long = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            n = node.end_lineno - node.lineno + 1
            if n > MAX_FUNCTION_LINES:
                long.append(f"{node.name} ({n})")
    assert not long or whole, f"{path.name}: Funktionen über {MAX_FUNCTION_LINES} Zeilen: {long}"


def test_core_never_imports_streamlit():
    graph = grimp.build_graph("quartier", include_external_packages=True)
    bad = sorted(m for m in graph.find_modules_that_directly_import("streamlit")
                 if not m.startswith("quartier.ui"))
    assert bad == []
