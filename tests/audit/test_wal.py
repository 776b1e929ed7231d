"""A damaged WAL (e.g. in a backup copied while the store was open) is reported, not dropped.

SQLite's recovery stops at the first bad frame and treats it as the end of the log; its
next checkpoint then deletes the WAL. These tests flip bits in a WAL written by a real
store and check that verify names the damage and that opening keeps the files.
"""

from __future__ import annotations

import random
import shutil
import struct

import pytest

from osler.audit import AuditIntegrityError, AuditStore
from tests.audit.sample import provider, record

FRAME = 24 + 4096


def backup_while_open(db_path, dest, n=12):
    """A store with N uncheckpointed appends, copied (db, WAL, witness) as a backup would."""
    store = AuditStore.open(db_path, provider())
    for i in range(n):
        store.append(record(i))
    dest.mkdir()
    for p in db_path.parent.iterdir():
        if p.name in ("audit.db", "audit.db-wal", "audit.db-witness"):
            shutil.copy(p, dest / p.name)
    store.close()
    return dest / "audit.db"


def frames(wal_path):
    data = wal_path.read_bytes()
    assert struct.unpack(">I", data[8:12])[0] == 4096
    return (len(data) - 32) // FRAME


def flip(path, offset, bit=0):
    data = bytearray(path.read_bytes())
    data[offset] ^= 1 << bit
    path.write_bytes(bytes(data))
    return bytes(data)


def damaged_copies(folder):
    return sorted(p for p in folder.iterdir() if p.name.startswith("audit.db.damaged-"))


def test_our_checksums_agree_with_sqlcipher_on_a_real_wal(db_path, tmp_path):
    from osler.audit.walfile import inspect_wal

    db = backup_while_open(db_path, tmp_path / "copy")
    report = inspect_wal(db.with_name("audit.db-wal"))
    assert report.frames >= 12 and report.first_invalid is None and not report.damaged
    with AuditStore.open(db, provider(), create=False) as s:
        assert s.verify().ok and s.count() == 12 and not s.read_only


def test_a_bit_flipped_in_a_middle_frame_is_reported_and_the_wal_kept(db_path, tmp_path):
    db = backup_while_open(db_path, tmp_path / "copy")
    wal = db.with_name("audit.db-wal")
    n = frames(wal)
    middle = n // 2
    flipped = flip(wal, 32 + (middle - 1) * FRAME + 24 + 1000, 3)  # in the page data
    with AuditStore.open(db, provider(), create=False) as s:
        report = s.verify()
        assert not report.ok
        first = report.problems[0]
        assert first.kind == "corrupt" and str(wal) in first.message
        assert f"frame {middle} of {n}" in first.message
        assert "rollback" in {p.kind for p in report.problems}  # the witness agrees
        with pytest.raises(AuditIntegrityError, match="read-only") as info:
            s.append(record(99))
        assert "damaged-" in str(info.value)
    assert wal.read_bytes() == flipped, "the damaged WAL was checkpointed or changed"
    (kept,) = damaged_copies(db.parent)
    assert (kept / "audit.db-wal").read_bytes() == flipped
    assert (kept / "audit.db").read_bytes() == db.read_bytes()
    with AuditStore.open(db, provider(), create=False) as s:  # again: the same copy serves
        assert not s.verify().ok
    assert damaged_copies(db.parent) == [kept]
    assert not (kept / "read-only-view").exists()


def test_a_damaged_wal_header_is_reported(db_path, tmp_path):
    db = backup_while_open(db_path, tmp_path / "copy")
    wal = db.with_name("audit.db-wal")
    flip(wal, 12, 0)  # the checkpoint sequence number, covered by the header checksum
    with AuditStore.open(db, provider(), create=False) as s:
        report = s.verify()
    assert not report.ok and "WAL header is damaged" in report.problems[0].message


def test_a_bit_flipped_in_the_last_frame_is_caught_with_the_witness(db_path, tmp_path):
    db = backup_while_open(db_path, tmp_path / "copy")
    wal = db.with_name("audit.db-wal")
    flipped = flip(wal, 32 + (frames(wal) - 1) * FRAME + 24 + 2000)
    with AuditStore.open(db, provider(), create=False) as s:
        report = s.verify()
        assert s.read_only
    assert report.problems[0].kind == "corrupt"
    assert "witness shows" in report.problems[0].message
    assert wal.read_bytes() == flipped and len(damaged_copies(db.parent)) == 1


def test_a_transaction_cut_short_by_a_crash_is_not_damage(db_path, tmp_path):
    """The last transaction's frames are torn and the witness does not know it (the append
    never returned): a crash, which SQLite rightly drops; the store opens as usual."""
    witness = db_path.with_name("audit.db-witness")
    with AuditStore.open(db_path, provider()) as s:
        for i in range(11):
            s.append(record(i))
        before_last = witness.read_bytes()
        s.append(record(11))
        copy = tmp_path / "copy"
        copy.mkdir()
        for name in ("audit.db", "audit.db-wal"):
            shutil.copy(db_path.with_name(name), copy / name)
    (copy / "audit.db-witness").write_bytes(before_last)
    wal = copy / "audit.db-wal"
    flip(wal, 32 + (frames(wal) - 1) * FRAME + 24 + 2000)
    with AuditStore.open(copy / "audit.db", provider(), create=False) as s:
        report = s.verify()
        assert not s.read_only
        assert report.ok and report.count == 11
        s.append(record(12))
    assert damaged_copies(copy) == [], "the precautionary copy was not removed"


def test_stale_frames_from_before_a_wal_restart_are_not_damage(db_path):
    with AuditStore.open(db_path, provider()) as s:
        for i in range(30):
            s.append(record(i))
        s._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")  # the next writer restarts the WAL
        for i in range(3):
            s.append(record(30 + i))
        wal = db_path.with_name("audit.db-wal")
        data = wal.read_bytes()
        salt = data[16:24]
        stale = [i for i in range(frames(wal))
                 if data[32 + i * FRAME + 8:32 + i * FRAME + 16] != salt]
        assert stale, "expected frames left over from before the restart"
        flip(wal, 32 + stale[len(stale) // 2] * FRAME + 24 + 100)
        report = s.verify()
        assert report.ok, report.problems


@pytest.mark.slow
def test_random_bit_flips_in_the_wal(db_path, tmp_path):
    """Most single-bit flips anywhere in the WAL are detected; print the figure (docs/audit.md)."""
    db = backup_while_open(db_path, tmp_path / "src")
    originals = {p.name: p.read_bytes() for p in db.parent.iterdir() if p.is_file()}
    wal = originals["audit.db-wal"]
    rng = random.Random(2026)
    n, detected, kept = 40, 0, 0
    for k in range(n):
        case = tmp_path / f"flip{k}"
        case.mkdir()
        for name, data in originals.items():
            (case / name).write_bytes(data)
        flipped = flip(case / "audit.db-wal", rng.randrange(len(wal)), rng.randrange(8))
        with AuditStore.open(case / "audit.db", provider(), create=False) as s:
            report = s.verify()
        detected += not report.ok
        kept += (not report.ok and (case / "audit.db-wal").read_bytes() == flipped
                 and len(damaged_copies(case)) == 1)
    print(f"WAL bit flips detected: {detected} of {n}; WAL kept with a copy aside: {kept}")
    assert detected == n and kept == n


def test_recover_makes_the_surviving_entries_the_live_store(db_path, tmp_path):
    """`osler audit recover`: the transactions before the damage become the live store,
    appends work again, the damaged files stay as found, and the old witness is kept."""
    db = backup_while_open(db_path, tmp_path / "copy")
    wal = db.with_name("audit.db-wal")
    n = frames(wal)
    flipped = flip(wal, 32 + (n // 2 - 1) * FRAME + 24 + 1000, 3)
    with AuditStore.open(db, provider(), create=False) as s:
        survivors = [e.entry_hash for e in s.entries()]
        assert s.read_only and 0 < len(survivors) < 12
        done = s.recover()
    assert f"recovered {len(survivors)} entries" in done and "damaged-" in done
    assert not wal.exists()
    (kept,) = damaged_copies(db.parent)
    assert (kept / "audit.db-wal").read_bytes() == flipped  # the evidence, as found
    assert list(db.parent.glob("audit.db-witness.replaced-*"))
    with AuditStore.open(db, provider(), create=False) as s:
        assert s.read_only is None and s.verify().ok
        assert [e.entry_hash for e in s.entries()] == survivors
        assert s.append(record(99)).seq == len(survivors) + 1
        assert s.verify().ok


def test_recover_is_refused_when_there_is_nothing_to_recover_or_the_store_is_in_use(
        db_path, tmp_path):
    import subprocess
    import sys

    from osler.audit import AuditStoreError

    db = backup_while_open(db_path, tmp_path / "good")
    with AuditStore.open(db, provider(), create=False) as s, \
            pytest.raises(AuditStoreError, match="nothing to recover"):
        s.recover()
    db = backup_while_open(tmp_path / "b" / "audit.db", tmp_path / "bad")
    wal = db.with_name("audit.db-wal")
    before = flip(wal, 32 + (frames(wal) // 2 - 1) * FRAME + 24 + 1000, 3)
    shm = db.with_name("audit.db-shm")
    shm.write_bytes(b"\0" * 32768)
    # Another process holding SQLite's shared "DMS" lock on the -shm: the store is open.
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, sys, time\n"
        f"fd = os.open({str(shm)!r}, os.O_RDWR)\n"
        "fcntl.lockf(fd, fcntl.LOCK_SH, 1, 128)\n"
        "print('held', flush=True)\n"
        "time.sleep(60)\n")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with AuditStore.open(db, provider(), create=False) as s, \
                pytest.raises(AuditStoreError, match="another program has the store open"):
            s.recover()
    finally:
        holder.kill()
        holder.wait()
    assert wal.read_bytes() == before  # nothing replaced
