"""Nothing readable on disk: no patient name or id, clinician id, reason text, key or secret."""

from __future__ import annotations

from osler.audit import AuditStore
from tests.audit.sample import (
    CLINICIAN,
    PASSPHRASE,
    PATIENT_ID,
    PATIENT_NAME,
    REASON_TEXT,
    provider,
    record,
)
from tests.audit.tamper import open_raw, raw_key


def on_disk(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def assert_absent(files: dict[str, bytes], needles: list[bytes]) -> None:
    assert files
    for name, data in files.items():
        low = data.lower()
        for needle in needles:
            assert needle.lower() not in low, f"{needle!r} found in {name}"


def test_store_files_hold_no_plaintext_while_open_and_after_close(db_path):
    store = AuditStore.open(db_path, provider())
    for i in range(40):
        store.append(record(i, action=("accept", "reject", "rerank", "add", "comment")[i % 5]))
    needles = [s.encode("utf-8") for s in (
        PATIENT_NAME, PATIENT_ID, CLINICIAN, REASON_TEXT[:24], "Community-acquired pneumonia",
        "alternative-more-likely", "osler-test", '"action"', "entries", "CREATE TABLE")]
    needles += [PATIENT_NAME.encode("utf-16-le"), PASSPHRASE.encode("utf-8")]
    files = on_disk(db_path.parent)
    assert any(name.endswith("-wal") and data for name, data in files.items()), \
        "expected committed entries in the WAL while the store is open"
    assert_absent(files, needles)
    store.close()
    files = on_disk(db_path.parent)
    assert sorted(files) == ["audit.db", "audit.db-witness"]
    assert_absent(files, needles)

    key, _salt = raw_key(db_path)
    conn = open_raw(db_path)
    secret = bytes.fromhex(conn.execute("SELECT value FROM meta WHERE name = 'secret'")
                           .fetchone()[0])
    conn.close()
    assert_absent(files, [key, key.hex().encode(), secret, secret.hex().encode()])


def test_creation_leaves_no_temporary_files(db_path):
    AuditStore.open(db_path, provider()).close()
    assert sorted(p.name for p in db_path.parent.iterdir()) == ["audit.db", "audit.db-witness"]
