"""Find the project's `resources/` folder (cases, styles, icons) wherever Osler runs from."""

from __future__ import annotations

import os
import sys
from functools import cache
from pathlib import Path

ENV_VAR = "OSLER_RESOURCES"
DEMO_CASE = "demo-chest-pain.json"


class ResourcesNotFound(RuntimeError):
    """The resources folder is missing: the installation is incomplete."""


def _candidates() -> list[Path]:
    here = Path(__file__).resolve()
    found = []
    if os.environ.get(ENV_VAR):
        found.append(Path(os.environ[ENV_VAR]))
    bundle = getattr(sys, "_MEIPASS", None)  # a PyInstaller build unpacks data here
    if bundle:
        found.append(Path(bundle) / "resources")
    # An editable install or a source checkout: <repo>/app/osler/ui/resources.py.
    found.extend(parent / "resources" for parent in here.parents)
    found.append(Path(sys.prefix) / "share" / "osler" / "resources")
    return found


@cache
def resources_dir() -> Path:
    """The folder holding cases/, styles/ and icons/; OSLER_RESOURCES overrides."""
    for path in _candidates():
        if (path / "cases").is_dir() or (path / "styles").is_dir():
            return path
    raise ResourcesNotFound(
        "Osler's resources folder (cases, styles, icons) was not found; set "
        f"{ENV_VAR} to it or reinstall"
    )


def demo_cases() -> list[Path]:
    """Every demo FHIR bundle shipped in resources/cases/, the main demo first."""
    cases = resources_dir() / "cases"
    found = sorted(p for p in cases.glob("*.json") if p.is_file())
    return sorted(found, key=lambda p: (p.name != DEMO_CASE, p.name))


def demo_case() -> Path:
    """The default demo patient (post-operative chest pain)."""
    return resources_dir() / "cases" / DEMO_CASE


def style_path(theme: str) -> Path:
    """The stylesheet of a theme ('light' or 'dark')."""
    return resources_dir() / "styles" / f"{theme}.qss"


def icon_path(name: str) -> Path:
    """An SVG icon by name (without extension)."""
    return resources_dir() / "icons" / f"{name}.svg"
