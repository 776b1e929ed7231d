"""Where Osler's shipped files live: resources/ (KB, cases, icons, styles) and models/.

The one place that knows: $OSLER_HOME if set, a PyInstaller bundle, the files a wheel
carries inside the package (osler/_shipped, put there by setup.py), the source tree
(editable install or checkout), or <prefix>/share/osler. $OSLER_RESOURCES overrides
resources/ alone and $OSLER_KB the knowledge-base pack. Per-user data and settings use
platformdirs, not this module.
"""

from __future__ import annotations

import os
import sys
from functools import cache
from pathlib import Path


@cache
def install_root() -> Path:
    """The folder holding resources/ and models/."""
    env = os.environ.get("OSLER_HOME")
    if env:
        return Path(env).expanduser().resolve()
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle)
    here = Path(__file__).resolve()
    packaged = here.parent / "_shipped"
    if (packaged / "resources").is_dir():
        return packaged
    for parent in here.parents:
        if (parent / "resources").is_dir() and (parent / "models").is_dir():
            return parent
    shared = Path(sys.prefix) / "share" / "osler"
    if (shared / "resources").is_dir():
        return shared
    return here.parents[2]


def resources_dir() -> Path:
    env = os.environ.get("OSLER_RESOURCES")
    if env:
        return Path(env).expanduser()
    return install_root() / "resources"


def kb_dir() -> Path:
    """The knowledge-base pack in use: $OSLER_KB, else the shipped resources/kb."""
    env = os.environ.get("OSLER_KB")
    return Path(env).expanduser() if env else resources_dir() / "kb"


def models_dir() -> Path:
    return install_root() / "models"


def default_model_dir() -> Path:
    """The shipped differential model."""
    return models_dir() / "osler-ddx"


def cases_dir() -> Path:
    return resources_dir() / "cases"
