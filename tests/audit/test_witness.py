"""The witness file: rollback, truncation and lost WAL frames are caught without an anchor;
a crash between commit and witness update never makes a good store look tampered."""

from __future__ import annotations

import shutil

import pytest

from osler.audit import AuditIntegrityError, AuditStore, KeyProvider
from osler.audit.storekeys import GENESIS
from osler.audit.witness import SLOTS, Witness, Witnessed, witness_path
from tests.audit.sample import FakeSecureKeyring, provider, record
from tests.audit.tamper import sql, store_keys


def witnessed(db_path) -> Witnessed | None:
    keys = store_keys(db_path)
    return Witness(witness_path(db_path), keys.witness_key, db_path.read_bytes()[:16]).read()


def verify(db_path):
    with AuditStore.open(db_path, provider(), create=False) as s:
        return s.verify()


def kinds(report):
    return [(p.seq, p.kind) for p in report.problems]


def test_a_new_store_has_a_witness_that_follows_every_append(db_path, store):
    assert witnessed(db_path) == Witnessed(0, GENESIS)
    for i in range(3):
        e = store.append(record(i))
        assert witnessed(db_path) == Witnessed(e.seq, e.entry_hash)
    batch = store.append_batch([record(10), record(11)])
    assert witnessed(db_path) == Witnessed(5, batch[-1].entry_hash)


def test_a_crash_between_commit_and_witness_update_is_accepted(db_path, monkeypatch):
    """The witness lags by a whole transaction (here a batch of three): not tampering."""
    with AuditStore.open(db_path, provider()) as s:
        s.append(record(0))
        monkeypatch.setattr(Witness, "advance", lambda *a: False)  # "killed" right after commit
        last = s.append_batch([record(1), record(2), record(3)])[-1]
    monkeypatch.undo()
    assert witnessed(db_path).count == 1
    with AuditStore.open(db_path, provider()) as s:
        assert not s.read_only
        assert s.verify().ok
    assert witnessed(db_path) == Witnessed(4, last.entry_hash), "opening moves it forward"


def test_rollback_is_caught_on_open_and_appends_are_refused_until_reset(db_path, tmp_path):
    with AuditStore.open(db_path, provider()) as s:
        for i in range(3):
            s.append(record(i))
    shutil.copy(db_path, tmp_path / "backup.db")
    with AuditStore.open(db_path, provider()) as s:
        for i in range(3, 5):
            s.append(record(i))
    shutil.copy(tmp_path / "backup.db", db_path)  # "restore last week's backup"
    with AuditStore.open(db_path, provider()) as s:
        assert s.read_only and "recorded 5" in s.read_only and "reset-witness" in s.read_only
        with pytest.raises(AuditIntegrityError, match=r"not recorded.*read-only"):
            s.append(record(9))
        assert kinds(s.verify()) == [(4, "rollback")]
        assert len(s.entries()) == 3  # reading still works
        done = s.reset_witness()
        assert "3 entries" in done and "replaced-" in done
        assert s.read_only is None and s.append(record(9)).seq == 4
        assert s.verify().ok
    (kept,) = db_path.parent.glob("audit.db-witness.replaced-*")
    assert kept.stat().st_size == witness_path(db_path).stat().st_size


def test_lost_wal_frames_are_caught_by_the_witness(db_path, tmp_path):
    """A backup that copied the database but not its WAL (or lost the WAL's end)."""
    store = AuditStore.open(db_path, provider())
    for i in range(6):
        store.append(record(i))
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(db_path, copy / "audit.db")
    shutil.copy(witness_path(db_path), copy / "audit.db-witness")
    store.close()
    report = verify(copy / "audit.db")
    assert kinds(report)[0][1] == "rollback" and "WAL" in report.problems[0].message


def test_truncation_with_the_head_record_intact_is_named_once(db_path, store):
    for i in range(5):
        store.append(record(i))
    store.close()
    sql(db_path, "DELETE FROM entries WHERE seq >= 4")
    assert kinds(verify(db_path)) == [(4, "truncated")]  # the witness adds nothing new


def test_a_deleted_witness_is_reported(db_path, store):
    store.append(record(0))
    store.close()
    witness_path(db_path).unlink()
    with AuditStore.open(db_path, provider()) as s:
        assert s.read_only and "missing" in s.read_only
        report = s.verify()
    assert kinds(report) == [(None, "witness")] and "missing" in report.problems[0].message
    assert not witness_path(db_path).exists(), "a missing witness must not be re-created"


def test_an_empty_store_gets_its_witness_back_silently(db_path, store):
    store.close()
    witness_path(db_path).unlink()  # e.g. a crash right after the store was placed
    with AuditStore.open(db_path, provider()) as s:
        assert not s.read_only and s.verify().ok
    assert witnessed(db_path) == Witnessed(0, GENESIS)


def test_the_witness_of_another_store_is_reported(db_path, store, tmp_path):
    store.append(record(0))
    store.close()
    with AuditStore.open(tmp_path / "other" / "audit.db", provider()) as other:
        other.append(record(0))
    shutil.copy(tmp_path / "other" / "audit.db-witness", witness_path(db_path))
    report = verify(db_path)
    assert kinds(report) == [(None, "witness")] and "unusable" in report.problems[0].message


def test_one_torn_slot_leaves_the_other(db_path, store):
    for i in range(3):
        store.append(record(i))
    store.close()
    data = bytearray(witness_path(db_path).read_bytes())
    newest = max(SLOTS, key=lambda off: int.from_bytes(data[off:off + 8], "big"))
    data[newest:newest + 40] = bytes(40)  # a write cut off by a power cut
    witness_path(db_path).write_bytes(bytes(data))
    assert witnessed(db_path).count == 2  # the other slot: one append behind, accepted
    with AuditStore.open(db_path, provider()) as s:
        assert not s.read_only and s.verify().ok


def test_a_store_made_before_the_witness_existed_gets_one(db_path, store):
    for i in range(2):
        store.append(record(i))
    store.close()
    witness_path(db_path).unlink()
    sql(db_path, "DELETE FROM meta WHERE name = 'witness'")
    with AuditStore.open(db_path, provider()) as s:
        assert not s.read_only and s.verify().ok
        head = s.verify().head_hash
    assert witnessed(db_path) == Witnessed(2, head)
    witness_path(db_path).unlink()  # from now on, deleting it is noticed
    assert kinds(verify(db_path)) == [(None, "witness")]


def test_a_deleted_store_is_not_silently_replaced(db_path, store):
    store.append(record(0))
    store.close()
    db_path.unlink()
    with pytest.raises(AuditIntegrityError, match=r"witness .* shows that one with 1 entries"):
        AuditStore.open(db_path, provider())
    assert not db_path.exists()


def test_the_witness_works_in_keyring_mode(tmp_path):
    backend = FakeSecureKeyring()
    db = tmp_path / "audit.db"

    def kp():
        return KeyProvider(backend=backend, environ={})

    with AuditStore.open(db, kp()) as s:
        assert s.key_source == "keyring"
        s.append(record(0))
    shutil.copy(db, tmp_path / "old.db")
    with AuditStore.open(db, kp()) as s:
        s.append(record(1))
    shutil.copy(tmp_path / "old.db", db)
    with AuditStore.open(db, kp()) as s:
        assert s.read_only and kinds(s.verify()) == [(2, "rollback")]


def test_reset_is_refused_when_the_chain_itself_does_not_verify(db_path, store):
    for i in range(3):
        store.append(record(i))
    store.close()
    sql(db_path, "UPDATE entries SET body = body || ' ' WHERE seq = 2")
    witness_path(db_path).unlink()
    with AuditStore.open(db_path, provider()) as s:
        with pytest.raises(AuditIntegrityError, match=r"does not verify.*entry #2"):
            s.reset_witness()
        assert s.read_only
    assert not witness_path(db_path).exists()
