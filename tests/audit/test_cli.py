"""`osler audit ...` as a user or script runs it: exit codes, one-line errors, JSON, offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from osler.audit.keys import SCRYPT_N
from tests.audit.sample import CLINICIAN, PASSPHRASE, ddx
from tests.audit.tamper import open_raw
from tests.conftest import REPO
from tests.test_offline import BLOCK

pytestmark = pytest.mark.slow


@pytest.fixture
def env(tmp_path):
    """A clean environment: own HOME and TMPDIR, store path and passphrase in env vars."""
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    e = {k: v for k, v in os.environ.items() if not k.startswith("OSLER_")}
    e.update(HOME=str(home), TMPDIR=str(tmp), XDG_DATA_HOME=str(home / "data"),
             OSLER_AUDIT_DB=str(tmp_path / "store" / "audit.db"), OSLER_PASSPHRASE=PASSPHRASE)
    return e


@pytest.fixture
def ddx_file(tmp_path):
    path = tmp_path / "ddx.json"
    path.write_text(json.dumps(ddx()), encoding="utf-8")
    return path


def osler(env, *args, passphrase=PASSPHRASE):
    """Run `osler ARGS` offline (sockets refuse) with stdin not a terminal."""
    e = dict(env)
    if passphrase is None:
        e.pop("OSLER_PASSPHRASE", None)
    else:
        e["OSLER_PASSPHRASE"] = passphrase
    return subprocess.run([sys.executable, "-c", BLOCK, *args], cwd=REPO, env=e,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)


def ok(proc):
    assert proc.returncode == 0, proc.stderr
    assert "network access attempted" not in proc.stderr
    return proc


def bad(proc, *words):
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


def record(env, ddx_file, *extra):
    return osler(env, "audit", "record", "--clinician", CLINICIAN, "--patient", "MRN-7",
                 "--ddx", str(ddx_file), *extra)


def test_record_log_verify_anchor_export(env, ddx_file, tmp_path):
    e = json.loads(ok(record(env, ddx_file, "--action", "reject", "--rank", "1", "--reason",
                             "alternative-more-likely", "--text", "viral", "--json")).stdout)
    assert e["seq"] == 1 and e["action"] == "reject" and e["patient"].startswith("pt-")
    ok(record(env, ddx_file, "--action", "rerank", "--rank", "2", "--new-rank", "1",
              "--reason", "insufficient-evidence"))
    ok(record(env, ddx_file, "--action", "add", "--diagnosis", "Pulmonary embolism",
              "--icd10", "I26.99"))
    log = json.loads(ok(osler(env, "audit", "log", "--json")).stdout)
    assert [x["action"] for x in log["entries"]] == ["reject", "rerank", "add"]
    assert log["store"]["count"] == 3 and log["store"]["key_source"] == "passphrase"
    assert "MRN-7" not in json.dumps(log)
    only = json.loads(ok(osler(env, "audit", "log", "--json", "--patient", "MRN-7",
                               "--action", "add")).stdout)
    assert [x["seq"] for x in only["entries"]] == [3]
    assert "OK: 3 entries" in ok(osler(env, "audit", "verify")).stdout
    report = json.loads(ok(osler(env, "audit", "verify", "--json")).stdout)
    assert report["ok"] is True and report["count"] == 3
    anchor = tmp_path / "usb" / "anchor.json"
    anchor.parent.mkdir()
    ok(osler(env, "audit", "anchor", "-o", str(anchor)))
    bad(osler(env, "audit", "anchor", "-o", str(anchor)), "already exists")
    out = tmp_path / "exports" / "audit.json"
    out.parent.mkdir()
    done = json.loads(ok(osler(env, "audit", "export", "--format", "fhir", "-o", str(out),
                               "--json")).stdout)
    assert done["entries"] == 3
    assert json.loads(out.read_text())["resourceType"] == "Bundle"
    assert sorted(os.listdir(out.parent)) == ["audit.json"]
    assert os.listdir(env["TMPDIR"]) == [], "something was written to the temp folder"
    assert "anchor of" in ok(osler(env, "audit", "verify", "--anchor", str(anchor))).stdout


def test_tampered_store_exits_2_naming_the_entry(env, ddx_file, tmp_path):
    for i in range(3):
        ok(record(env, ddx_file, "--action", "comment", "--text", f"note {i}"))
    db = Path(env["OSLER_AUDIT_DB"])
    conn = open_raw(db, n=SCRYPT_N)  # the CLI uses the default scrypt cost
    conn.execute("UPDATE entries SET body = replace(body, 'note 1', 'note X') WHERE seq = 2")
    conn.close()
    line = bad(osler(env, "audit", "verify"), "entry #2", "modified", str(db))
    assert "NOT intact" in line
    proc = osler(env, "audit", "verify", "--json")
    doc = json.loads(proc.stdout)
    assert proc.returncode == 2 and doc["ok"] is False
    assert doc["problems"][0] == {"seq": 2, "kind": "modified",
                                  "message": doc["problems"][0]["message"]}
    bad(osler(env, "audit", "anchor", "-o", str(tmp_path / "a.json")), "no anchor")


def test_bad_input_is_one_line_and_exit_2(env, ddx_file, tmp_path):
    bad(record(env, ddx_file, "--action", "reject", "--rank", "1"), "reason code")
    bad(record(env, ddx_file, "--action", "reject", "--rank", "1", "--reason", "bored"),
        "unknown reason code")
    bad(record(env, tmp_path / "missing.json", "--action", "accept", "--rank", "1"), "--ddx")
    bad(osler(env, "audit", "log"), "no audit store")
    ok(record(env, ddx_file, "--action", "accept", "--rank", "1"))
    bad(osler(env, "audit", "log", passphrase=None), "OSLER_PASSPHRASE")
    bad(osler(env, "audit", "log", passphrase="a wrong passphrase"), "wrong passphrase")
    bad(osler(env, "audit", "verify", "--anchor", str(tmp_path / "none.json")), "no such file")
    bad(osler(env, "audit", "log", "--since", "yesterday"), "not an ISO date")
    bad(osler(env, "audit", "rekey", "--to-keyring"), "no secure OS keyring")
    bad(osler(env, "audit", "rekey", "--new-passphrase-env", "OSLER_UNSET_VAR"),
        "OSLER_UNSET_VAR")


def test_rekey_to_a_new_passphrase(env, ddx_file):
    ok(record(env, ddx_file, "--action", "accept", "--rank", "1"))
    e = dict(env, NEW_AUDIT_PASS="the replacement passphrase")
    assert "new passphrase" in ok(osler(e, "audit", "rekey", "--new-passphrase-env",
                                        "NEW_AUDIT_PASS")).stdout
    bad(osler(env, "audit", "log"), "wrong passphrase")
    doc = json.loads(ok(osler(env, "audit", "log", "--json",
                              passphrase="the replacement passphrase")).stdout)
    assert len(doc["entries"]) == 1


def test_cli_start_does_not_load_the_store_libraries():
    code = ("import sys, osler.cli as c; c.build_parser(); import osler.errors; "
            "print(sorted(m for m in ('sqlcipher3', 'sqlite_utils', 'cryptography', 'keyring')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO, timeout=60)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_bad_values_in_a_record_are_bad_input_naming_the_argument(env, ddx_file, tmp_path):
    db = Path(env["OSLER_AUDIT_DB"])
    text = ddx_file.read_text(encoding="utf-8")

    def ddx_with(name, old, new):
        path = tmp_path / name
        assert old in text
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return path

    cases = [
        (ddx_with("nan.json", '"present": true', '"present": true, "value": NaN'),
         (), ("--ddx", "NaN")),
        (ddx_with("inf.json", '"probability": 0.55', '"probability": 1e400'),
         (), ("--ddx", "out of range")),
        (ddx_with("inf-finding.json", '"present": true', '"present": true, "value": -1e999'),
         (), ("--ddx", "out of range")),
        (ddx_with("bigint.json", '"probability": 0.55', '"probability": 1' + "0" * 400),
         (), ("--ddx", "out of range")),
        (ddx_with("surrogate.json", '"label": "Fever"', '"label": "Fe\\ud800ver"'),
         (), ("--ddx", "findings[0].label", "Unicode")),
        (ddx_file, ("--text", "bad \udcff byte"), ("--text", "0xff", "UTF-8")),
        (ddx_file, ("--clinician", "dr-\udce9"), ("--clinician", "0xe9")),
        (ddx_file, ("--text", "\udced\udca0\udc80"), ("--text", "UTF-8")),  # an encoded surrogate
    ]
    for path, extra, words in cases:
        args = ["audit", "record", "--clinician", CLINICIAN, "--patient", "MRN-7", "--ddx",
                str(path), "--action", "reject", "--rank", "1", "--reason",
                "alternative-more-likely", *extra]
        if "--clinician" in extra:
            args[3] = extra[1]
            args = args[:-2]
        line = bad(osler(env, *args), *words)
        assert "internal error" not in line
        assert not db.exists(), f"something was written for {words}"
    bad(osler(env, "audit", "log", "--patient", "MRN-\udcff"), "--patient", "0xff")


def test_verify_names_a_damaged_wal_and_the_store_keeps_it(env, ddx_file, tmp_path):
    from osler.audit import AuditStore, KeyProvider
    from tests.audit.sample import record as sample_record

    live = tmp_path / "live" / "audit.db"
    store = AuditStore.open(live, KeyProvider(passphrase=PASSPHRASE, use_keyring=False))
    for i in range(12):
        store.append(sample_record(i))
    backup = tmp_path / "backup"
    backup.mkdir()
    for name in ("audit.db", "audit.db-wal", "audit.db-witness"):
        (backup / name).write_bytes((live.parent / name).read_bytes())
    store.close()
    wal = backup / "audit.db-wal"
    data = bytearray(wal.read_bytes())
    data[32 + 10 * (24 + 4096) + 24 + 777] ^= 0x04
    wal.write_bytes(bytes(data))
    db = str(backup / "audit.db")
    proc = osler(env, "audit", "verify", "--db", db)
    line = bad(proc, str(wal), "damaged", "NOT intact")
    assert "frame 11 of" in line and "damaged-" in proc.stdout
    bad(record(env, ddx_file, "--db", db, "--action", "comment", "--text", "x"), "read-only",
        "damaged-")
    doc = json.loads(ok(osler(env, "audit", "log", "--db", db, "--json")).stdout)
    assert doc["store"]["read_only"] and len(doc["entries"]) < 12
    assert wal.read_bytes() == bytes(data), "the damaged WAL was checkpointed or deleted"
    # recover: the surviving entries become the live store; recording works again
    survived = len(doc["entries"])
    out = ok(osler(env, "audit", "recover", "--db", db)).stdout
    assert f"recovered {survived} entries" in out and "damaged-" in out
    ok(record(env, ddx_file, "--db", db, "--action", "comment", "--text", "x"))
    assert f"OK: {survived + 1} entries" in ok(osler(env, "audit", "verify", "--db", db)).stdout
    bad(osler(env, "audit", "recover", "--db", db), "nothing to recover")


def test_a_rolled_back_store_is_caught_without_an_anchor_and_can_be_accepted(env, ddx_file,
                                                                             tmp_path):
    for i in range(2):
        ok(record(env, ddx_file, "--action", "comment", "--text", f"note {i}"))
    db = Path(env["OSLER_AUDIT_DB"])
    (tmp_path / "old.db").write_bytes(db.read_bytes())
    ok(record(env, ddx_file, "--action", "comment", "--text", "note 2"))
    db.write_bytes((tmp_path / "old.db").read_bytes())
    bad(osler(env, "audit", "verify"), "rollback", "witness", "recorded 3")
    bad(record(env, ddx_file, "--action", "comment", "--text", "note 3"), "read-only",
        "reset-witness")
    assert "the witness now records 2 entries" in ok(osler(env, "audit", "reset-witness")).stdout
    ok(record(env, ddx_file, "--action", "comment", "--text", "note 3"))
    assert "OK: 3 entries" in ok(osler(env, "audit", "verify")).stdout
