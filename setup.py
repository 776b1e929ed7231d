"""Puts Osler's shipped files into the wheel, so that a wheel install needs nothing else.

The knowledge-base pack, the shipped model (with its SHA256SUMS), the demo and teaching
cases, icons and styles live at the top of the repository (resources/, models/osler-ddx/)
where the recipes and docs point. A wheel copies them into the package as
osler/_shipped/ (found by osler.locations); an editable install reads them in place.
Everything else about the build is in pyproject.toml."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = {  # source folder -> folder under osler/_shipped; build-only files left out
    "resources": ("resources", ("build_kb.py", "curation", "make_cases.py", "__pycache__")),
    "models/osler-ddx": ("models/osler-ddx", ("__pycache__",)),
}


class BuildWithShippedFiles(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads resources/ and models/ in place
        target = Path(self.build_lib) / "osler" / "_shipped"
        for source, (dest, skip) in SHIPPED.items():
            out = target / dest
            if out.exists():
                shutil.rmtree(out)
            shutil.copytree(ROOT / source, out, ignore=shutil.ignore_patterns(*skip))


setup(cmdclass={"build_py": BuildWithShippedFiles})
