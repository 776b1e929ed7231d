"""Clinic-server faults against the real llama.cpp server (some through a fault-injecting proxy
in front of it): wrong key, busy (503/429), slow, truncated, not JSON, a stream cut short,
no model loaded, the server killed mid-request, cancel mid-request; the fallback to the
shipped model with its banner until the server answers again; and the CLI's one-line
errors (exit 2) for bad URLs, unreachable hosts and endpoints that are not OpenAI-compatible.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from osler.findings import Finding, Provenance
from osler.reasoning.engines import NaiveBayesEngine
from osler.reasoning.kbmatrix import KBMatrix
from osler.reasoning.server.client import ServerClient
from osler.reasoning.server.config import ServerConfig
from osler.reasoning.server.engine import ServerEngine
from osler.reasoning.server.errors import (
    ServerAuthError,
    ServerBusy,
    ServerCancelled,
    ServerError,
    ServerModelError,
    ServerProtocolError,
    ServerTimeout,
    ServerUnreachable,
)
from osler.reasoning.server.identity import identify
from osler.reasoning.service import DdxService
from osler.session.request import DdxRequest
from osler.session.server_fallback import ServerWithFallback
from tests.clinic_server import LlamaServer, free_port
from tests.conftest import REPO
from tests.fault_proxy import FaultProxy

pytestmark = pytest.mark.slow

FINDINGS = [Finding("shortness-of-breath", "Shortness of breath", True,
                    Provenance("DocumentReference/n1", (10, 29))),
            Finding("chest-pain", "Chest pain", True, Provenance("DocumentReference/n1")),
            Finding("fever", "Fever", False, Provenance("Observation/t1"))]


def cfg(url: str, key: str | None, **kw) -> ServerConfig:
    return ServerConfig.build(url, key, **kw)


def service(kb, url: str, key: str | None, **kw) -> DdxService:
    from osler.findings.extract import FindingExtractor

    m = KBMatrix.from_kb(kb)
    eng = ServerEngine(cfg(url, key, **kw), m, kb, base=NaiveBayesEngine(m, prior_exponent=0.5),
                       propose=False)
    return DdxService(kb, eng, FindingExtractor(kb, semantic=False))


@pytest.fixture
def proxy(clinic_server):
    p = FaultProxy(("127.0.0.1", clinic_server.port))
    yield p
    p.close()


def test_wrong_key_is_a_clear_refusal(clinic_server):
    with pytest.raises(ServerAuthError, match="HTTP 401") as err:
        identify(ServerClient(cfg(clinic_server.url, "not-the-key")))
    assert err.value.fallback is False  # a set-up fault: said, not hidden behind a fallback
    assert "not-the-key" not in str(err.value)
    with pytest.raises(ServerAuthError):
        identify(ServerClient(cfg(clinic_server.url, None)))


@pytest.mark.parametrize("fault, error, words", [
    ("503", ServerBusy, "busy (HTTP 503"),
    ("429", ServerBusy, "busy (HTTP 429"),
    ("truncate", ServerUnreachable, "before answering in full"),
    ("notjson", ServerProtocolError, "not JSON"),
    ("html", ServerProtocolError, "not JSON"),
])
def test_faults_on_scoring_are_clear_and_quick(kb, clinic_server, proxy, fault, error, words):
    svc = service(kb, proxy.url, clinic_server.api_key, timeout=5)
    proxy.set(fault, only="/v1/completions")
    t0 = time.monotonic()
    with pytest.raises(error, match=words.replace("(", r"\(")) as err:
        svc.run_findings(FINDINGS, 58, "male", top=3)
    assert time.monotonic() - t0 < 10
    assert "POST /v1/completions" in str(err.value) and proxy.url in str(err.value)


def test_slow_server_times_out_within_the_timeout(kb, clinic_server, proxy):
    svc = service(kb, proxy.url, clinic_server.api_key, timeout=1)
    proxy.set("slow", only="/v1/completions", delay=3)
    t0 = time.monotonic()
    with pytest.raises(ServerTimeout, match="no answer within 1 s"):
        svc.run_findings(FINDINGS, 58, "male", top=3)
    assert time.monotonic() - t0 < 3


def test_a_stream_cut_short_is_reported_and_the_differential_kept(kb, clinic_server, proxy):
    svc = service(kb, proxy.url, clinic_server.api_key)
    proxy.set("cut_stream")
    tokens: list[str] = []
    diff = svc.run_findings(FINDINGS, 58, "male", top=3, rationale=True,
                            on_token=tokens.append)
    assert diff.diagnoses, "the scored differential survives a rationale that fails"
    assert re.search("before (the answer was complete|answering in full)",
                     diff.rationale.get("error", "")), diff.rationale


def test_no_model_loaded(clinic_server, proxy):
    proxy.set("no_models")
    with pytest.raises(ServerModelError, match="no model loaded"):
        identify(ServerClient(cfg(proxy.url, clinic_server.api_key)))


def test_cancel_mid_request(kb, clinic_server, proxy):
    svc = service(kb, proxy.url, clinic_server.api_key, timeout=30)
    proxy.set("slow", only="/v1/completions", delay=20)
    box: dict[str, object] = {}

    def run() -> None:
        try:
            svc.run_findings(FINDINGS, 58, "male", top=3)
        except Exception as exc:
            box["error"] = exc

    t = threading.Thread(target=run)
    t.start()
    time.sleep(0.5)
    t0 = time.monotonic()
    svc.engine.cancel()
    t.join(10)
    assert not t.is_alive() and time.monotonic() - t0 < 2
    assert isinstance(box.get("error"), ServerCancelled)
    proxy.set("none")  # the next differential runs normally again
    assert svc.run_findings(FINDINGS, 58, "male", top=3).diagnoses


def test_server_killed_mid_request_then_fallback_until_it_answers_again(kb, tiny_models,
                                                                        tmp_path):
    port = free_port()
    server = LlamaServer(tiny_models.gguf, port=port, log=tmp_path / "a.log").start()
    primary = service(kb, server.url, server.api_key, timeout=10)
    fallback = DdxService(kb, NaiveBayesEngine(KBMatrix.from_kb(kb), prior_exponent=0.5),
                          primary.extractor)
    policy = ServerWithFallback(primary, lambda: fallback, retry_every=0)
    text_request = DdxRequest(1, None, top=3,
                              presentation=_presentation("cough, fever and chest pain"))
    try:
        killer = threading.Timer(0.3, server.kill)
        killer.start()
        t0 = time.monotonic()
        out = policy.compute(text_request)
        killer.join()
        assert time.monotonic() - t0 < 15
        assert out.banner and "not answering" in out.banner
        assert out.result.differential.model.kind == "baseline"
        assert out.result.differential.warnings[0] == out.banner
        assert policy.down is not None
        again = policy.compute(text_request)  # still down: still the fallback, still said
        assert again.banner
        server = LlamaServer(tiny_models.gguf, port=port, api_key=server.api_key,
                             log=tmp_path / "b.log").start()
        back = policy.compute(text_request)
        assert back.banner is None and back.result.differential.model.kind == "server"
        assert policy.down is None
    finally:
        server.stop()


def _presentation(text: str):
    from osler.session.presentation import Presentation

    return Presentation(text=text, age=58, sex="male")


# --- the command line: one line, exit 2 ---------------------------------------------------

def osler(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-m", "osler", *args], capture_output=True,
                          text=True, cwd=REPO, timeout=300,
                          env={**os.environ, **(env or {})})


class _NotOpenAI(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html>intranet</html>"
        self.send_response(200 if self.path == "/" else 404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_a) -> None:
        pass


def test_cli_bad_server_urls_are_one_line_exit_2(clinic_server):
    web = ThreadingHTTPServer(("127.0.0.1", 0), _NotOpenAI)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    dead = free_port()
    cases = [
        (["--server", "ftp://127.0.0.1:21"], "not an http(s) URL"),
        (["--server", f"http://127.0.0.1:{dead}"], "connection refused"),
        (["--server", f"http://127.0.0.1:{web.server_address[1]}"], "GET /v1/models"),
        (["--server", "http://10.1.2.3:8080"], "plain HTTP to another machine"),
        (["--server", "https://user:pw@gpu.clinic.lan"], "holds credentials"),
        (["--server-model", "x"], "needs --server"),
        (["--server", clinic_server.url, "--api-key-file", "/nonexistent/key"],
         "--api-key-file"),
    ]
    try:
        for extra, words in cases:
            proc = osler("ddx", "--text", "cough", "--no-semantic", "--no-rare", *extra)
            assert proc.returncode == 2, (extra, proc.stderr)
            lines = proc.stderr.strip().splitlines()
            assert len(lines) == 1 and words in lines[0], (extra, proc.stderr)
            assert lines[0].startswith("osler ddx: error:")
    finally:
        web.shutdown()
    proc = osler("ddx", "--text", "cough", "--no-semantic", "--no-rare",
                 "--server", clinic_server.url, env={"OSLER_SERVER_KEY": "wrong"})
    assert proc.returncode == 2 and "HTTP 401" in proc.stderr and "wrong" not in proc.stderr


def test_errors_are_reasoning_errors_with_their_location():
    err = ServerBusy("the server is busy", "https://gpu:8443", "POST /v1/completions")
    assert isinstance(err, ServerError)
    assert str(err) == "https://gpu:8443: the server is busy (tried POST /v1/completions)"


def test_set_up_faults_are_said_not_hidden_behind_the_fallback():
    class RefusedKey:  # a service whose server refuses this workstation's key
        engine = None

        def run(self, **_kw):
            raise ServerAuthError("the server refused this workstation's API key (HTTP 401)",
                                  "https://gpu.clinic.lan:8443", "POST /v1/completions")

    policy = ServerWithFallback(RefusedKey(), lambda: pytest.fail("no fallback for a bad key"))
    with pytest.raises(ServerAuthError, match="HTTP 401"):
        policy.compute(DdxRequest(1, None, presentation=_presentation("cough")))
    assert policy.down is None
