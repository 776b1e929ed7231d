"""The window with its differential, what-if and an audit entry, with every socket blocked."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO

SCRIPT = r"""
import os, socket, sys, time
def _refuse(*a, **k):
    raise OSError("network access attempted: " + repr(a)[:200])
_unix = socket.socket.connect
def _connect(sock, address):
    if sock.family == socket.AF_UNIX:  # local IPC (D-Bus) is not the network
        return _unix(sock, address)
    _refuse(address)
socket.socket.connect = _connect
socket.socket.connect_ex = _refuse
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
app = QApplication([])
from osler.ui.ddx_controller import attach_differential
from osler.ui.main_window import MainWindow
from osler.ui.model_worker import ModelRequest
from osler.ui.resources import demo_case
from osler.ui.settings import AppSettings
settings = AppSettings(QSettings(sys.argv[1], QSettings.Format.IniFormat))
settings.set_clinician_id("dr-offline")
w = MainWindow(settings=settings)
w.show()
c = attach_differential(w, model=ModelRequest("shipped"))  # semantic extraction on
shown, appended = [], []
c.differentialShown.connect(shown.append)
c.auditAppended.connect(appended.append)
c.auditFailed.connect(lambda op, m, t: (print(op, m, file=sys.stderr), sys.exit(4)))
def wait(cond, what):
    deadline = time.time() + 120
    while not cond() and time.time() < deadline:
        app.processEvents(); time.sleep(0.01)
    if not cond():
        print("timed out:", what, file=sys.stderr); sys.exit(3)
w.open_path(demo_case())
wait(lambda: shown, "differential")
c.toggle_finding("raised-d-dimer")
wait(lambda: len(shown) > 1, "what-if")
c.reset_whatif()
wait(lambda: len(shown) > 2, "reset")
c.accept(1)
wait(lambda: appended, "audit entry")
w.close()
print("ok", shown[0].differential.diagnoses[0].name, appended[0].action)
"""


def test_differential_and_audit_work_with_sockets_blocked(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", OSLER_AUDIT_DB=str(tmp_path / "a.db"),
               OSLER_PASSPHRASE="correct horse battery staple")
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "s.ini")], cwd=REPO,
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "network access attempted" not in proc.stderr
    out = proc.stdout.strip()
    assert out.startswith("ok ") and out.endswith(" accept"), out
