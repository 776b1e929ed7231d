"""Linux: the system libraries Qt's X11 (xcb) platform plugin cannot find, and their packages.

Without them Qt aborts at start with "could not load the Qt platform plugin 'xcb'", naming
at best one library (and not libxcb-icccm4 or libxcb-keysyms1, the usual culprits). Reading
the plugin's dependencies with `ldd` names every missing one, in about 30 ms, so
`osler-gui` can say exactly what to install before Qt starts, and `osler selfcheck` too.
No Qt here: the plugin is found on disk, not loaded.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# soname -> (Debian/Ubuntu package, Fedora/RHEL package)
PACKAGES: dict[str, tuple[str, str]] = {
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxcb-xinerama.so.0": ("libxcb-xinerama0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb-glx.so.0": ("libxcb-glx0", "libxcb"),
    "libxcb-xinput.so.0": ("libxcb-xinput0", "libxcb"),
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libX11.so.6": ("libx11-6", "libX11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libEGL.so.1": ("libegl1", "mesa-libEGL"),
    "libGL.so.1": ("libgl1", "mesa-libGL"),
    "libOpenGL.so.0": ("libopengl0", "libglvnd-opengl"),
    "libGLX.so.0": ("libglx0", "libglvnd-glx"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libgthread-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libz.so.1": ("zlib1g", "zlib"),
    "libICE.so.6": ("libice6", "libICE"),
    "libSM.so.6": ("libsm6", "libSM"),
}
_NOT_FOUND = re.compile(r"^\s*(\S+)\s*=>\s*not found\s*$")


@dataclass(frozen=True, slots=True)
class XcbReport:
    """What `ldd` says about the xcb plugin: its path, the sonames it cannot find, or why it
    could not be inspected (problem)."""

    plugin: Path | None
    missing: tuple[str, ...] = ()
    problem: str | None = None
    debian: tuple[str, ...] = field(default=())
    fedora: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.problem is None and not self.missing


def missing_libraries(ldd_output: str) -> list[str]:
    """The sonames `ldd` reports as "not found", in order, each once."""
    seen: list[str] = []
    for line in ldd_output.splitlines():
        m = _NOT_FOUND.match(line)
        if m and m.group(1) not in seen:
            seen.append(m.group(1))
    return seen


def debian_package(soname: str) -> str:
    """The Debian/Ubuntu package with SONAME; unknown ones by Debian's naming rule
    (libfoo-bar.so.3 -> libfoo-bar3; a name ending in a digit takes a hyphen)."""
    if soname in PACKAGES:
        return PACKAGES[soname][0]
    m = re.match(r"^(lib[^/]+?)\.so\.(\d+)", soname)
    if not m:
        return soname
    stem, major = m.group(1).lower(), m.group(2)
    return f"{stem}-{major}" if stem[-1].isdigit() else f"{stem}{major}"


def fedora_package(soname: str) -> str:
    """The Fedora/RHEL package with SONAME; unknown ones by what dnf resolves itself."""
    if soname in PACKAGES:
        return PACKAGES[soname][1]
    return f"'{soname}()(64bit)'"


def report_for(ldd_output: str, plugin: Path | None = None) -> XcbReport:
    """The report for `ldd` output (testable without a broken machine)."""
    missing = missing_libraries(ldd_output)
    debian = tuple(dict.fromkeys(debian_package(s) for s in missing))
    fedora = tuple(dict.fromkeys(fedora_package(s) for s in missing))
    return XcbReport(plugin, tuple(missing), None, debian, fedora)


def apt_command(report: XcbReport) -> str:
    return f"sudo apt-get install {' '.join(report.debian)}"


def dnf_command(report: XcbReport) -> str:
    return f"sudo dnf install {' '.join(report.fedora)}"


def install_advice(report: XcbReport) -> str:
    """What is missing and the commands that install it (several lines)."""
    if not report.missing:
        return ""
    return (f"Qt's X11 platform plugin needs system libraries that are not installed: "
            f"{', '.join(report.missing)}.\n"
            f"Debian/Ubuntu:  {apt_command(report)}\n"
            f"Fedora/RHEL:    {dnf_command(report)}")


def xcb_plugin(qt_root: Path | None = None) -> Path | None:
    """PySide6's plugins/platforms/libqxcb.so, found without importing Qt."""
    if qt_root is None:
        spec = importlib.util.find_spec("PySide6")
        if spec is None or not spec.submodule_search_locations:
            return None
        qt_root = Path(next(iter(spec.submodule_search_locations))) / "Qt"
    plugin = qt_root / "plugins" / "platforms" / "libqxcb.so"
    return plugin if plugin.is_file() else None


Runner = Callable[[Sequence[str]], str]


def _run_ldd(args: Sequence[str]) -> str:
    done = subprocess.run(list(args), capture_output=True, text=True, timeout=10, check=False)
    return done.stdout + done.stderr


def inspect_xcb(plugin: Path | None = None, run: Runner = _run_ldd) -> XcbReport:
    """`ldd` on the xcb plugin and the libQt6XcbQpa it links; never raises."""
    plugin = plugin or xcb_plugin()
    if plugin is None:
        return XcbReport(None, problem="PySide6's xcb platform plugin is not installed")
    if shutil.which("ldd") is None and run is _run_ldd:
        return XcbReport(plugin, problem="ldd is not available to inspect the plugin")
    targets = [plugin]
    qpa = sorted((plugin.parents[2] / "lib").glob("libQt6XcbQpa.so*"))
    targets += qpa[:1]
    try:
        text = "\n".join(run(["ldd", str(t)]) for t in targets)
    except (OSError, subprocess.SubprocessError) as exc:
        return XcbReport(plugin, problem=f"ldd failed: {type(exc).__name__}")
    return report_for(text, plugin)


def will_use_xcb(environ: Mapping[str, str] | None = None,
                 platform: str = sys.platform) -> bool:
    """True when Qt is about to pick its X11 plugin (Linux, a DISPLAY, no other platform
    asked for, not a Wayland session Qt would prefer)."""
    env = os.environ if environ is None else environ
    if not platform.startswith("linux") or not env.get("DISPLAY"):
        return False
    asked = env.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if asked:
        return asked == "xcb"
    return not (env.get("WAYLAND_DISPLAY") and env.get("XDG_SESSION_TYPE") == "wayland")
