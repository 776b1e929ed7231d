"""The self-check on real parts: a tiny model trained here, the project KB, a real audit store."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import sys
from pathlib import Path

import pytest

from osler.audit import AuditStore, KeyProvider, KeyringStatus
from osler.cli import main
from osler.selfcheck import (
    FAIL,
    OK,
    WARN,
    Check,
    NetworkAttempt,
    SocketGuard,
    check_audit,
    check_gpu,
    check_kb,
    check_keyring,
    check_model_files,
    check_model_run,
    check_packages,
    overall,
    run_selfcheck,
)
from tests.audit.sample import FAST_SCRYPT_N, PASSPHRASE, provider
from tests.reasoning.conftest import tiny_kb

DEMO = Path(__file__).resolve().parents[1] / "resources" / "cases" / "demo-chest-pain.json"


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """A very small model trained on the tiny test KB (as tests/reasoning does)."""
    from osler.reasoning.training import TrainConfig, train

    out = tmp_path_factory.mktemp("selfcheck-models") / "tiny-ddx"
    cfg = TrainConfig(model_id="tiny-ddx", version="0.0.1", hidden=64, layers=1, steps=250,
                      batch=128, lr=3e-3, calibration_cases=2000, eval_cases=1000, threads=1,
                      dropout=0.0)
    train(tiny_kb(), out, cfg, progress=lambda _m: None)
    return out


@pytest.fixture
def no_passphrase(monkeypatch):
    monkeypatch.delenv("OSLER_PASSPHRASE", raising=False)


def test_status_is_one_of_three_and_overall_is_the_worst():
    with pytest.raises(ValueError, match="status"):
        Check("x", "fine", "")
    assert overall([Check("a", OK, ""), Check("b", WARN, "")]) == WARN
    assert overall([Check("a", OK, ""), Check("b", FAIL, ""), Check("c", WARN, "")]) == FAIL
    assert overall([Check("a", OK, "")]) == OK


def test_socket_guard_records_and_refuses_network_but_not_local_ipc(tmp_path):
    real = socket.socket.connect
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(tmp_path / "ipc.sock"))
    server.listen(1)
    guard = SocketGuard()
    with guard.active():
        with pytest.raises(NetworkAttempt):
            socket.create_connection(("192.0.2.1", 9), timeout=0.1)
        with pytest.raises(NetworkAttempt), socket.socket() as s:
            s.connect(("192.0.2.1", 9))
        with pytest.raises(NetworkAttempt):
            socket.getaddrinfo("example.org", 443)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as local:
            local.connect(str(tmp_path / "ipc.sock"))  # the keyring's D-Bus is local IPC
    server.close()
    assert len(guard.attempts) == 3
    assert "192.0.2.1" in guard.attempts[0] and "example.org" in guard.attempts[2]
    assert socket.socket.connect is real, "the guard must restore the socket functions"


def test_model_run_with_a_tiny_model_is_ok_and_offline(tiny_model):
    model, offline = check_model_run(tiny_model, tiny_kb(), DEMO, engine="model")
    assert model.status == OK, model.detail
    assert model.data["id"] == "tiny-ddx" and model.data["kind"] == "shipped"
    assert model.data["differential_ms"] > 0
    assert "demo-chest-pain.json" in model.detail
    assert offline.status == OK, offline.detail
    assert offline.data["socket_attempts"] == []
    assert all(v == "1" for v in offline.data["env"].values())


def test_a_network_attempt_during_the_differential_fails_the_offline_check(
        tiny_model, monkeypatch):
    import osler.findings.reading as reading  # the module the differential reads through

    real = reading.findings_from_record

    def phoning_home(*args, **kwargs):
        with contextlib.suppress(OSError):  # like a library whose telemetry fails quietly
            socket.create_connection(("telemetry.example.invalid", 443), timeout=0.1)
        return real(*args, **kwargs)

    monkeypatch.setattr(reading, "findings_from_record", phoning_home)
    model, offline = check_model_run(tiny_model, tiny_kb(), DEMO, engine="model")
    assert model.status == OK
    assert offline.status == FAIL
    assert "telemetry.example.invalid" in offline.detail


def test_tampered_weights_fail_the_checksum_and_model_checks(tiny_model, tmp_path):
    copy = tmp_path / "tampered"
    shutil.copytree(tiny_model, copy)
    weights = copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    files = check_model_files(copy)
    assert files.status == FAIL
    assert "model.safetensors" in files.detail and "checksum mismatch" in files.detail
    model, _ = check_model_run(copy, tiny_kb(), DEMO, engine="model")
    assert model.status == FAIL and "checksum mismatch" in model.detail
    assert check_model_files(tiny_model).status == OK


def test_missing_shipped_model_is_a_warning_not_a_failure(tmp_path):
    check = check_model_files(tmp_path / "osler-ddx")
    assert check.status == WARN and "not installed" in check.detail


def test_knowledge_base_pack_is_validated_from_its_files(tmp_path):
    check, kb = check_kb()
    assert check.status == OK and kb is not None and check.data["conditions"] > 100
    broken = tmp_path / "kb"
    shutil.copytree(Path(check.data["path"]), broken)
    with (broken / "findings.json").open("a", encoding="utf-8") as f:
        f.write(" ")
    bad, kb = check_kb(broken)
    assert bad.status == FAIL and kb is None
    assert "findings.json" in bad.detail and "sha256" in bad.detail


def test_keyring_secure_or_passphrase_mode():
    secure = check_keyring(KeyringStatus(True, "keyring.backends.SecretService.Keyring", "ok"))
    assert secure.status == OK and not secure.data["passphrase_mode"]
    headless = check_keyring(KeyringStatus(False, "keyring.backends.fail.Keyring", "headless"))
    assert headless.status == WARN and headless.data["passphrase_mode"]
    assert "passphrase" in headless.detail


def test_packages_check_names_what_is_missing():
    check = check_packages(("numpy", "osler-no-such-package"))
    assert check.status == FAIL and "osler-no-such-package" in check.detail
    assert check_packages(("numpy",)).status == OK


def test_gpu_check_reports_what_torch_sees():
    check = check_gpu()
    assert check.status in (OK, WARN)
    assert "torch" in check.detail
    assert check.data["cuda_available"] in (True, False)


def test_audit_check_never_creates_a_store_unless_asked(tmp_path, no_passphrase):
    path = tmp_path / "audit" / "audit.db"
    check = check_audit(path)
    assert check.status == OK and "none yet" in check.detail
    assert not path.exists(), "the self-check created a store without being asked"

    created = check_audit(path, provider(), create=True)
    assert created.status == OK and "created" in created.detail and path.exists()
    assert created.data["count"] == 0

    opened = check_audit(path, provider())
    assert opened.status == OK and "0 entries" in opened.detail

    wrong = KeyProvider(passphrase="not the passphrase", use_keyring=False,
                        scrypt_n=FAST_SCRYPT_N)
    bad = check_audit(path, wrong)
    assert bad.status == FAIL and str(path) in bad.detail


def test_audit_check_on_a_locked_store_without_passphrase(tmp_path, no_passphrase):
    path = tmp_path / "audit.db"
    AuditStore.open(path, provider()).close()
    check = check_audit(path)  # made in passphrase mode; no passphrase given now
    assert check.data.get("locked") is True
    assert check.status == OK and "opens with the passphrase" in check.detail


def test_audit_check_names_a_file_that_is_not_a_store(tmp_path):
    plain = tmp_path / "audit.db"
    import sqlite3

    sqlite3.connect(plain).execute("CREATE TABLE t (x)").connection.close()
    check = check_audit(plain, provider())
    assert check.status == FAIL and "unencrypted" in check.detail


def test_run_selfcheck_lists_every_check_in_order(tmp_path, monkeypatch):
    monkeypatch.setenv("OSLER_PASSPHRASE", PASSPHRASE)
    steps: list[str] = []
    checks = run_selfcheck(audit_path=tmp_path / "a.db", engine="naive-bayes", gpu=False,
                           progress=lambda m, _f: steps.append(m))
    names = [c.name for c in checks]
    display = ["Display"] if sys.platform.startswith("linux") else []  # Qt's X11 libraries
    assert names == ["Python", "Packages", *display, "Keyring", "Knowledge base",
                     "Rare-disease data", "Model checksums", "Model", "Offline",
                     "Audit trail"]
    assert checks[names.index("Rare-disease data")].status == OK
    assert steps[0] == "Python and packages" and steps[-1] == "done"
    model = checks[names.index("Model")]
    assert model.status == WARN and model.data["kind"] == "baseline"
    assert checks[names.index("Offline")].status == OK


def test_cli_selfcheck_json_and_exit_status(tmp_path, capsys, tiny_model, no_passphrase):
    db = tmp_path / "audit.db"
    rc = main(["selfcheck", "--json", "--no-gpu", "--db", str(db)])
    out = capsys.readouterr()
    doc = json.loads(out.out)
    assert rc == 0 and doc["ok"] is True and doc["status"] in (OK, WARN)
    assert {c["name"] for c in doc["checks"]} >= {"Keyring", "Model checksums", "Offline",
                                                   "Audit trail"}
    assert not db.exists()

    copy = tmp_path / "tampered"
    shutil.copytree(tiny_model, copy)
    (copy / "tokenizer.json").write_text("{}", encoding="utf-8")
    rc = main(["selfcheck", "--no-gpu", "--db", str(db), "--model", str(copy)])
    out = capsys.readouterr()
    assert rc == 1
    assert "[FAIL] Model checksums" in out.out and "tokenizer.json" in out.out
    assert out.err.strip().count("\n") == 0 and "failed" in out.err

    rc = main(["selfcheck", "--model", str(tmp_path / "missing")])
    err = capsys.readouterr().err
    assert rc == 2 and "--model" in err and err.strip().count("\n") == 0


def test_ddx_bench_measures_a_model_and_skips_without_one(tiny_model, tmp_path, capsys):
    """The benchmark's plumbing (its timings are for bench runs, never asserted here)."""
    from bench.ddx_bench import main as bench_main
    from bench.ddx_bench import run as bench_run

    r = bench_run(tiny_model, 3, DEMO, threads=1)
    assert r["model"]["id"] == "tiny-ddx" and r["findings"] == 24
    assert r["model_runs_per_differential"] == 27
    assert r["differential_ms"] > 0 and r["naive_bayes_differential_ms"] > 0
    assert r["ratio_vs_naive_bayes"] > 0 and r["load_s"] > 0
    assert bench_main(["--model", str(tmp_path / "none")]) == 0
    assert "skipped" in capsys.readouterr().out


def test_a_cpu_only_install_without_torch_is_a_warning_not_a_failure(monkeypatch):
    from osler.selfcheck import WARN, check_gpu, check_packages

    monkeypatch.setitem(sys.modules, "torch", None)  # import torch -> ModuleNotFoundError
    gpu = check_gpu()
    assert gpu.status == WARN and "NumPy" in gpu.detail
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    packages = check_packages()
    assert packages.status == OK and packages.data["frozen"]
