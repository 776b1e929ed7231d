"""Keyring mode against a real Secret Service (gnome-keyring), run inside a private D-Bus session.

    python -m tests.audit.keyring_session WORKDIR

Started by test_keyring.py under `dbus-run-session`; exits non-zero with the failing check.
Prints one JSON line of facts for the test to assert on.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import keyring

from osler.audit import AuditKeyError, AuditStore, KeyProvider, keyring_status
from osler.audit.cipherfile import CipherFile
from tests.audit.sample import record


def entry(db: Path) -> dict:
    raw = keyring.get_password("osler", CipherFile.inspect(db).store_ref)
    return json.loads(raw) if raw else {}


def files_under(*folders: Path) -> list[Path]:
    return [p for f in folders for p in f.rglob("*") if p.is_file()]


def main(work: Path) -> dict:
    facts: dict = {"status": keyring_status().__dict__}
    assert keyring_status().secure, facts
    db = work / "store" / "audit.db"
    headless = {}  # no OSLER_PASSPHRASE: the keyring alone must do

    with AuditStore.open(db, KeyProvider(environ=headless)) as s:
        assert s.key_source == "keyring"
        for i in range(3):
            s.append(record(i))
    first = entry(db)
    assert set(first) >= {"key"} and str(db) not in json.dumps(first)
    key = bytes.fromhex(first["key"])
    for path in files_under(work, Path.home()):
        data = path.read_bytes()
        assert key not in data and first["key"].encode() not in data, f"key on disk: {path}"

    backup = work / "backup.db"
    shutil.copy(db, backup)
    with AuditStore.open(db, KeyProvider(environ=headless), create=False) as s:
        assert s.verify().ok
        s.rekey(to="keyring")
    second = entry(db)
    assert second["key"] != first["key"] and first["key"] in second["retired"]
    with AuditStore.open(backup, KeyProvider(environ=headless), create=False) as s:
        assert s.count() == 3, "a backup from before the rekey must still open"

    passphrase = "keyring-less passphrase"
    with AuditStore.open(db, KeyProvider(environ=headless), create=False) as s:
        s.rekey(passphrase=passphrase)
        assert s.key_source == "passphrase"
    assert entry(db).get("key") is None
    try:
        AuditStore.open(db, KeyProvider(environ=headless), create=False)
        raise AssertionError("opened a passphrase store without the passphrase")
    except AuditKeyError as exc:
        facts["passphrase_needed"] = str(exc)
    with AuditStore.open(db, KeyProvider(environ={"OSLER_PASSPHRASE": passphrase}),
                         create=False) as s:
        assert s.verify().ok
        s.rekey(to="keyring")
    with AuditStore.open(db, KeyProvider(environ=headless), create=False) as s:
        assert s.key_source == "keyring" and s.verify().ok
    window = AuditStore.open(db, KeyProvider(environ=headless), create=False)
    with AuditStore.open(db, KeyProvider(environ=headless), create=False) as s:
        s.rekey(to="keyring")
    assert window.append(record(3)).seq == 4, "an open store must follow a keyring rekey"
    window.close()

    kills = rekeys = 0
    for delay in (0.0, 0.05, 0.1, 0.2):
        proc = subprocess.Popen([sys.executable, "-m", "tests.audit.child", "rekey-keyring",
                                 str(db)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        first_line = proc.stdout.readline()
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate(timeout=30)
        kills += 1
        rekeys += (first_line + out).count("\n")
        with AuditStore.open(db, KeyProvider(environ=headless), create=False) as s:
            report = s.verify()
            assert report.ok and report.count == 4, report.problems
    facts.update(kills=kills, rekeys=rekeys, retired=len(entry(db).get("retired", [])))
    return facts


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]))))
