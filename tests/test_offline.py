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


def test_ddx_with_semantic_extraction_offline():
    """The sentence model (MiniLM) and the differential load from local files only."""
    proc = run_offline("ddx", "--text", "crushing chest pain radiating to the left arm, "
                       "sweaty, denies fever", "--age", "61", "--sex", "male",
                       "--engine", "naive-bayes", "--json")
    assert proc.returncode == 0, proc.stderr
    assert "network access attempted" not in proc.stderr
    import json

    doc = json.loads(proc.stdout)
    assert doc["differential"] and doc["findings"]


def test_local_llm_ddx_offline(tmp_path):
    """Bring-your-own LLM folder (a tiny random Llama the test builds): nf4 on CPU, offline."""
    from tests.reasoning.llm_fixtures import build_tiny_llm

    folder = build_tiny_llm(tmp_path / "tiny-llama")
    proc = run_offline("ddx", "--text", "cough and fever for three days", "--age", "40",
                       "--model", str(folder), "--quantization", "nf4", "--top", "3",
                       "--no-semantic", "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "network access attempted" not in proc.stderr
    import json

    doc = json.loads(proc.stdout)
    assert doc["model"]["kind"] == "llm" and doc["model"]["quantization"] == "nf4"
