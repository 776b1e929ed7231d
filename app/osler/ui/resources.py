"""Find the project's `resources/` folder (cases, styles, icons) wherever Osler runs from."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from osler import locations

ENV_VAR = "OSLER_RESOURCES"
DEMO_CASE = "demo-chest-pain.json"


class ResourcesNotFound(RuntimeError):
    """The resources folder is missing: the installation is incomplete."""


@cache
def resources_dir() -> Path:
    """The folder holding cases/, styles/ and icons/ (found by osler.locations)."""
    path = locations.resources_dir()
    if (path / "cases").is_dir() or (path / "styles").is_dir():
        return path
    raise ResourcesNotFound(
        f"Osler's resources folder (cases, styles, icons) was not found at {path}; set "
        f"{ENV_VAR} or OSLER_HOME, or reinstall"
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
