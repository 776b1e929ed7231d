"""The window never reaches the network: open the demo and plot a trend with sockets blocked."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO

SCRIPT = r"""
import socket, sys, time
def _refuse(*a, **k):
    raise OSError("network access attempted: " + repr(a)[:200])
socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
app = QApplication([])
from osler.ui.main_window import MainWindow
from osler.ui.resources import demo_case
from osler.ui.settings import AppSettings
w = MainWindow(settings=AppSettings(QSettings(sys.argv[1], QSettings.Format.IniFormat)))
w.show()
done = []
w.recordLoaded.connect(done.append)
w.recordFailed.connect(lambda m: (print(m, file=sys.stderr), sys.exit(3)))
w.open_path(demo_case())
deadline = time.time() + 60
while not done and time.time() < deadline:
    app.processEvents(); time.sleep(0.01)
lab = next(e for e in w.current if e.kind.value == "lab")
w.timeline_view.select_event(lab.id)
assert w.trend.series, "no trend"
w.close()
print("ok", len(w.current))
"""


def test_window_opens_a_record_and_plots_offline(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "s.ini")], cwd=REPO,
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "network access attempted" not in proc.stderr
    assert proc.stdout.strip() == "ok 20"
