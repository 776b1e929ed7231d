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
    "reasoning": {"findings", "knowledge", "record"},
    "audit": {"record"},
    "teaching": {"record", "fhir", "knowledge", "findings", "reasoning", "audit"},
}
LEAVES = ("errors", "locations")  # modules every package may use: they import nothing heavy
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
