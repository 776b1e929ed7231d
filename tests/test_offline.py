"""Osler never reaches the network: commands run with every socket blocked."""

import subprocess
import sys

from tests.conftest import REPO

BLOCK = """
import socket, sys
class Blocked(OSError):
    pass
def _refuse(*a, **k):
    raise Blocked("network access attempted: " + repr(a)[:200])
socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
from osler.cli import main
sys.exit(main(sys.argv[1:]))
"""


def run_offline(*args: str) -> subprocess.CompletedProcess:
    """Run `osler ARGS` in a child process whose sockets refuse to connect."""
    return subprocess.run([sys.executable, "-c", BLOCK, *args], capture_output=True, text=True,
                          cwd=REPO, timeout=600)


def test_import_and_timeline_offline(small_bundle_path):
    for cmd in ("import", "timeline"):
        proc = run_offline(cmd, str(small_bundle_path), "--json")
        assert proc.returncode == 0, proc.stderr
        assert "network access attempted" not in proc.stderr
