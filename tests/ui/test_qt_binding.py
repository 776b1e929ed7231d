"""The installed Qt binding must not corrupt the interpreter (a crash at exit breaks CI)."""

from __future__ import annotations

import gc
import sys

import pytest


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12")
def test_void_qt_calls_keep_none_alive(qapp):
    """PySide6 6.12.0 decrefs None on every void call; on 3.11 the app dies after ~5,000."""
    import PySide6
    from PySide6.QtWidgets import QLabel

    label = QLabel()
    gc.collect()
    before = sys.getrefcount(None)
    for _ in range(200):
        label.setText("x")
    gc.collect()
    lost = before - sys.getrefcount(None)
    assert lost < 50, (
        f"PySide6 {PySide6.__version__} loses a reference to None per call ({lost} in 200); "
        "install another version (pyproject excludes 6.12.0)")
