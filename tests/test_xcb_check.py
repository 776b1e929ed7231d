"""Linux start-up: the missing libraries of Qt's xcb plugin, named from `ldd` output."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from osler.selfcheck import OK, WARN, check_display
from osler.xcb_check import (
    XcbReport,
    debian_package,
    fedora_package,
    inspect_xcb,
    install_advice,
    missing_libraries,
    report_for,
    will_use_xcb,
)

LDD_PLUGIN = """\
\tlinux-vdso.so.1 (0x00007ffd4c1f2000)
\tlibQt6XcbQpa.so.6 => /opt/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f1223f04000)
\tlibxkbcommon-x11.so.0 => not found
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f1223e1a000)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibEGL.so.1 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f122201e000)
"""
LDD_QPA = """\
\tlibxcb-icccm.so.4 => not found
\tlibxcb-render-util.so.0 => not found
\tlibfoo-bar2.so.7 => not found
\tlibdbus-1.so.3 => /lib/x86_64-linux-gnu/libdbus-1.so.3 (0x00007f12231b5000)
"""


def test_not_found_lines_are_collected_once_in_order():
    assert missing_libraries(LDD_PLUGIN + LDD_QPA) == [
        "libxkbcommon-x11.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libEGL.so.1",
        "libxcb-render-util.so.0", "libfoo-bar2.so.7"]
    assert missing_libraries("\tlibc.so.6 => /lib/libc.so.6 (0x1)\n") == []


def test_sonames_map_to_debian_and_fedora_packages():
    assert debian_package("libxcb-icccm.so.4") == "libxcb-icccm4"
    assert debian_package("libxcb-keysyms.so.1") == "libxcb-keysyms1"
    assert debian_package("libxkbcommon-x11.so.0") == "libxkbcommon-x11-0"
    assert debian_package("libEGL.so.1") == "libegl1"
    assert debian_package("libfoo-bar2.so.7") == "libfoo-bar2-7"  # Debian's naming rule
    assert debian_package("libnew.so.3") == "libnew3"
    assert fedora_package("libxcb-icccm.so.4") == "xcb-util-wm"
    assert fedora_package("libxcb-render-util.so.0") == "xcb-util-renderutil"
    assert fedora_package("libEGL.so.1") == "mesa-libEGL"
    assert fedora_package("libnew.so.3") == "'libnew.so.3()(64bit)'"  # dnf resolves it


def test_the_message_names_every_library_and_both_install_commands():
    report = report_for(LDD_PLUGIN + LDD_QPA, Path("/opt/libqxcb.so"))
    text = install_advice(report)
    for soname in report.missing:
        assert soname in text
    assert ("sudo apt-get install libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 libegl1 "
            "libxcb-render-util0 libfoo-bar2-7") in text
    assert "sudo dnf install libxkbcommon-x11 xcb-util-wm xcb-util-keysyms mesa-libEGL " in text
    assert install_advice(report_for(LDD_QPA.splitlines()[-1])) == ""


def test_inspect_runs_ldd_on_the_plugin_and_its_qpa_library(tmp_path):
    qt = tmp_path / "Qt"
    plugin = qt / "plugins" / "platforms" / "libqxcb.so"
    plugin.parent.mkdir(parents=True)
    plugin.write_bytes(b"")
    (qt / "lib").mkdir()
    (qt / "lib" / "libQt6XcbQpa.so.6").write_bytes(b"")
    calls: list[list[str]] = []

    def fake_ldd(args):
        calls.append(list(args))
        return LDD_PLUGIN if args[-1].endswith("libqxcb.so") else LDD_QPA

    report = inspect_xcb(plugin, run=fake_ldd)
    assert [c[-1] for c in calls] == [str(plugin), str(qt / "lib" / "libQt6XcbQpa.so.6")]
    assert "libxcb-render-util.so.0" in report.missing and not report.ok

    def broken(_args):
        raise OSError("no ldd")

    assert inspect_xcb(plugin, run=broken).problem == "ldd failed: OSError"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ldd is Linux only")
def test_inspect_on_this_machine_never_raises():
    report = inspect_xcb()
    assert report.ok or report.missing or report.problem


@pytest.mark.parametrize(("env", "expected"), [
    ({"DISPLAY": ":0"}, True),
    ({}, False),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, False),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"}, True),
    ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}, False),
])
def test_the_check_runs_only_when_qt_will_use_xcb(env, expected):
    assert will_use_xcb(env, platform="linux") is expected
    assert will_use_xcb(env, platform="darwin") is False


def test_selfcheck_shows_the_display_check_on_linux_only():
    missing = report_for(LDD_PLUGIN, Path("/opt/libqxcb.so"))
    check = check_display(missing, platform="linux")
    assert check.status == WARN and check.name == "Display"
    assert "libxcb-icccm.so.4" in check.detail and "sudo apt-get install" in check.detail
    assert "libxcb-keysyms1" in check.detail and "sudo dnf install" in check.detail
    assert check.data["debian"][:3] == ["libxkbcommon-x11-0", "libxcb-icccm4", "libxcb-keysyms1"]
    assert check_display(XcbReport(Path("/opt/libqxcb.so")), platform="linux").status == OK
    assert check_display(missing, platform="win32") is None


def test_gui_start_names_the_missing_libraries(monkeypatch, capsys):
    from osler.ui import app

    monkeypatch.setattr("osler.xcb_check.will_use_xcb", lambda _env=None: True)
    monkeypatch.setattr("osler.xcb_check.inspect_xcb",
                        lambda: report_for(LDD_PLUGIN, Path("/opt/libqxcb.so")))
    assert app.main([]) == 1  # before Qt starts (and aborts without naming them)
    err = capsys.readouterr().err
    assert "libxcb-icccm.so.4" in err and "sudo apt-get install" in err
    assert "libxcb-keysyms1" in err and "sudo dnf install" in err
    monkeypatch.setattr("osler.xcb_check.will_use_xcb", lambda _env=None: False)
    assert app.display_problem() is None
