"""The dependency rules of DESIGN.md, checked on the source."""

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "app" / "osler"

ALLOWED = {
    "record": set(),
    "fhir": {"record"},
    "knowledge": {"record"},
    "findings": {"record", "knowledge"},
    "reasoning": {"findings", "knowledge", "record", "rare"},
    "rare": {"findings", "knowledge", "record"},
    "audit": {"record"},
    "teaching": {"record", "fhir", "knowledge", "findings", "reasoning", "audit"},
    "session": {"record", "findings", "knowledge", "reasoning", "rare"},
}
# Modules every package may use: they import nothing heavy.
LEAVES = ("errors", "locations", "cancel")
QT = ("PySide6", "pyqtgraph", "shiboken6")
HEAVY = ("torch", "transformers", "bitsandbytes", "accelerate")
# Modules that *are* torch code; they are themselves only ever imported lazily.
HEAVY_MODULES = {"reasoning/ddx_model.py"}


def imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, node
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node


def module_level(node, tree_body) -> bool:
    return node in tree_body


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_follow_the_rules(package):
    for path in (PKG / package).rglob("*.py"):
        for name, _ in imports(path):
            parts = name.split(".")
            if parts[0] == "osler" and len(parts) > 1 and parts[1] != package:
                assert parts[1] in ALLOWED[package] or parts[1] in LEAVES, (
                    f"{path.relative_to(PKG)} imports osler.{parts[1]}")
            assert not name.startswith(QT), f"{path.relative_to(PKG)} imports Qt"


def test_only_ui_imports_qt_and_only_reasoning_imports_torch_lazily():
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = set()
        for node in tree.body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                top.add(id(node))
        for name, node in imports(path):
            if name.startswith(QT):
                assert rel.parts[0] == "ui", f"{rel} imports {name}"
            if name.startswith(HEAVY):
                assert rel.parts[0] == "reasoning", f"{rel} imports {name}"
                assert id(node) not in top or rel.as_posix() in HEAVY_MODULES, (
                    f"{rel} imports {name} at module level")


def test_cli_and_domain_packages_start_without_torch_or_qt():
    import subprocess
    import sys

    code = ("import sys, osler.cli, osler.reasoning.service, osler.reasoning.explain, "
            "osler.reasoning.engines, osler.reasoning.llm.engine, osler.findings, "
            "osler.knowledge, osler.fhir, osler.audit; "
            "heavy = [m for m in ('torch', 'transformers', 'PySide6') if m in sys.modules]; "
            "print(heavy); sys.exit(1 if heavy else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Every osler module -> the osler modules it imports, at module level or inside a
    function (a lazy import is still a dependency). A package's own __init__ is not counted
    as a dependency of its submodules: Python always runs it first."""
    modules = {_module_name(p): p for p in PKG.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        ancestors = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
        deps: set[str] = set()
        for target, node in imports(path):
            candidates = [target]
            if isinstance(node, ast.ImportFrom):
                subs = [f"{target}.{a.name}" for a in node.names]
                candidates = [s for s in subs if s in modules] or [target]
            deps |= {c for c in candidates if c in modules and c != name
                     and c not in ancestors}
        graph[name] = deps
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    cycles.append(sorted(group))
    return cycles


def test_the_cycle_finder_finds_a_cycle():
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert import_cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize(("one", "other"), [
    ("osler.ui.app", "osler.ui.main_window"),
    ("osler.reasoning.service", "osler.reasoning.llm.engine"),
])
def test_no_import_cycle_between(one, other):
    """Modules that once imported each other (lazily) now share a third module instead."""
    graph = import_graph()
    assert not (other in graph[one] and one in graph[other]), f"{one} <-> {other}"


def test_no_import_cycles_anywhere():
    """No two osler modules depend on each other, even through lazy imports."""
    assert import_cycles(import_graph()) == []
