"""Appending and reading back: what an entry holds, filters, pseudonyms, reopening."""

from __future__ import annotations

import getpass
import os
import socket
import stat
import threading
from datetime import UTC, datetime, timedelta

import pytest

from osler.audit import (
    AuditInputError,
    AuditStore,
    AuditStoreError,
    default_path,
)
from osler.audit.storekeys import GENESIS
from tests.audit.sample import CLINICIAN, PATIENT_ID, ddx, provider, record


def test_entry_holds_everything_the_issue_asks_for(store):
    before = datetime.now(UTC)
    e = store.append(record(action="rerank"))
    assert e.seq == 1 and e.prev_hash == GENESIS and len(e.entry_hash) == 64
    assert before <= datetime.fromisoformat(e.time) <= datetime.now(UTC)
    if os.name == "posix":
        import pwd

        assert e.os_user == pwd.getpwuid(os.getuid()).pw_name
    else:
        assert e.os_user == getpass.getuser()
    assert e.host == socket.gethostname()
    assert e.clinician_id == CLINICIAN
    assert e.action == "rerank"
    assert e.reason == {"system": "urn:osler:override-reason", "code": "insufficient-evidence",
                        "display": "Insufficient evidence for this diagnosis"}
    assert e.reason_text.startswith("Chest film")
    assert e.patient.startswith("pt-") and PATIENT_ID not in e.patient
    assert e.model == ddx()["model"]
    assert e.inputs_fingerprint.startswith("sha256:")
    assert [d["name"] for d in e.differential_shown] == [d["name"] for d in
                                                        ddx()["differential"]]
    assert e.diagnosis["name"] == "Acute bronchitis" and e.decision == {"new_rank": 1}
    assert e.store_id == store.store_id
    assert store.entries() == [e]


def test_entries_chain_and_survive_reopening(db_path):
    with AuditStore.open(db_path, provider()) as s:
        written = [s.append(record(i)) for i in range(5)]
    assert [e.prev_hash for e in written[1:]] == [e.entry_hash for e in written[:-1]]
    with AuditStore.open(db_path, provider(), create=False) as s:
        assert s.entries() == written
        assert s.count() == 5
        report = s.verify()
    assert report.ok and report.count == 5 and report.head_hash == written[-1].entry_hash


def test_filters(store):
    store.append(record(0, action="accept"))
    store.append(record(1, action="reject", patient_id="other-patient"))
    store.append(record(2, action="comment", clinician_id="dr-b"))
    assert [e.seq for e in store.entries(patient_id=PATIENT_ID)] == [1, 3]
    assert [e.seq for e in store.entries(patient_id="other-patient")] == [2]
    assert [e.seq for e in store.entries(clinician_id="dr-b")] == [3]
    assert [e.seq for e in store.entries(action="reject")] == [2]
    assert [e.seq for e in store.entries(limit=2)] == [1, 2]
    now = datetime.now(UTC)
    assert len(store.entries(since=now - timedelta(minutes=5), until=now)) == 3
    assert store.entries(since=(now + timedelta(minutes=1)).isoformat()) == []
    today = store.entries()[0].time[:10]
    assert len(store.entries(since=today, until=today)) == 3  # a date means its whole day
    with pytest.raises(AuditInputError):
        store.entries(action="delete")
    with pytest.raises(AuditInputError):
        store.entries(since="last tuesday")


def test_pseudonyms_are_stable_per_store_and_differ_between_stores(tmp_path, store):
    a = store.append(record(0)).patient
    assert store.append(record(1)).patient == a == store.pseudonym(PATIENT_ID)
    assert store.pseudonym("someone-else") != a
    with AuditStore.open(tmp_path / "other.db", provider()) as other:
        assert other.pseudonym(PATIENT_ID) != a


def test_new_store_is_private_to_the_user(db_path, store):
    if os.name != "posix":
        pytest.skip("POSIX permissions")
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(db_path.parent.stat().st_mode) == 0o700
    assert [p.name for p in db_path.parent.iterdir() if p.name.startswith(".")] == []


def test_read_commands_do_not_create_a_store(tmp_path):
    missing = tmp_path / "none" / "audit.db"
    with pytest.raises(AuditStoreError, match="no audit store"):
        AuditStore.open(missing, provider(), create=False)
    assert not missing.parent.exists()


def test_default_path_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv("OSLER_AUDIT_DB", str(tmp_path / "x.db"))
    assert default_path() == tmp_path / "x.db"
    monkeypatch.delenv("OSLER_AUDIT_DB")
    assert default_path().name == "audit.db" and "osler" in str(default_path())


def test_closed_store_refuses_work(store):
    store.close()
    with pytest.raises(AuditStoreError, match="closed"):
        store.append(record())


def test_append_refuses_non_records(store):
    with pytest.raises(AuditInputError):
        store.append({"action": "accept"})
    assert store.count() == 0


def test_verify_on_a_worker_thread_while_appending(store):
    for i in range(20):
        store.append(record(i))
    reports = []
    worker = threading.Thread(target=lambda: reports.append(store.verify()))
    worker.start()
    for i in range(20, 40):
        store.append(record(i))
    worker.join()
    assert reports[0].ok and reports[0].count >= 20
    assert store.verify().count == 40


def test_verify_reports_progress_and_can_be_cancelled(store):
    for i in range(3):
        store.append(record(i))
    seen = []
    assert store.verify(progress=lambda done, total: seen.append((done, total))).ok
    assert seen[-1] == (3, 3)
    report = store.verify(progress=lambda done, total: False)
    assert report.cancelled and not report.ok


def test_append_batch_is_one_chain_and_all_or_nothing(store):
    store.append(record(0))
    batch = store.append_batch([record(i) for i in range(1, 6)])
    assert [e.seq for e in batch] == [2, 3, 4, 5, 6]
    assert batch[0].prev_hash == store.entries()[0].entry_hash
    with pytest.raises(AuditInputError):
        store.append_batch([record(7), "not a record"])
    assert store.count() == 6 and store.verify().ok
    assert store.append_batch([]) == []
