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


ONLY_SERVER = """
import socket, sys
class Blocked(OSError):
    pass
ALLOWED = ("127.0.0.1", int(sys.argv[1]))
real_connect, real_create = socket.socket.connect, socket.create_connection
real_getaddrinfo = socket.getaddrinfo
def _refuse(what):
    raise Blocked("network access attempted: " + repr(what)[:200])
def connect(sock, address):
    if sock.family == getattr(socket, "AF_UNIX", None) or tuple(address[:2]) == ALLOWED:
        return real_connect(sock, address)
    _refuse(address)
def connect_ex(sock, address):
    _refuse(address)
def create_connection(address, *a, **k):
    if tuple(address[:2]) == ALLOWED:
        return real_create(address, *a, **k)
    _refuse(address)
def getaddrinfo(host, port, *a, **k):
    if (host, port) == ALLOWED:
        return real_getaddrinfo(host, port, *a, **k)
    _refuse((host, port))
socket.socket.connect = connect
socket.socket.connect_ex = connect_ex
socket.create_connection = create_connection
socket.getaddrinfo = getaddrinfo
from osler.cli import main
sys.exit(main(sys.argv[2:]))
"""


def test_with_a_clinic_server_only_its_loopback_port_is_reached(clinic_server):
    """The offline guarantee with a clinic server: every socket is refused except the
    configured server's own address, and the full differential (rationale included) runs."""
    import json
    import os

    port = str(clinic_server.port)
    env = {**os.environ, "OSLER_SERVER_KEY": clinic_server.api_key}
    base = [sys.executable, "-c", ONLY_SERVER, port, "ddx", "--text",
            "cough and fever for three days", "--age", "40", "--top", "3", "--no-semantic",
            "--json", "--rationale"]
    proc = subprocess.run([*base, "--server", clinic_server.url], capture_output=True,
                          text=True, cwd=REPO, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "network access attempted" not in proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["model"]["kind"] == "server" and doc["model"]["server"] == clinic_server.url
    assert "rationale" in doc and "error" not in doc["rationale"]
    # the guard is real: the same run pointed at another port is refused by it
    other = subprocess.run([*base, "--server", f"http://127.0.0.1:{int(port) + 1}"],
                           capture_output=True, text=True, cwd=REPO, timeout=600, env=env)
    assert other.returncode == 2 and "network access attempted" in other.stderr
