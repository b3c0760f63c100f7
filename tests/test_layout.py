"""The tree shows the architecture: no folder of ours is crowded, and no two of our
modules import each other, directly or through others (lazy imports count too)."""

from __future__ import annotations

from pathlib import Path

import grimp

PACKAGES = ("bot", "engine", "storage", "scheduler")
ROOT = Path(__file__).resolve().parent.parent
MOST_MODULES_IN_A_FOLDER = 15


def _import_cycles() -> list[list[str]]:
    graph = grimp.build_graph(*PACKAGES)
    modules = sorted(graph.modules)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's strongly connected components
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in graph.find_modules_directly_imported_by(module):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in modules:
        if module not in index:
            visit(module)
    return cycles


def test_no_two_modules_import_each_other() -> None:
    assert _import_cycles() == []


def test_no_folder_holds_more_than_fifteen_modules() -> None:
    crowded = {}
    for package in PACKAGES:
        for folder in [ROOT / package, *(p for p in (ROOT / package).rglob("*") if p.is_dir())]:
            modules = list(folder.glob("*.py"))
            if len(modules) > MOST_MODULES_IN_A_FOLDER:
                crowded[str(folder.relative_to(ROOT))] = len(modules)
    assert crowded == {}
