"""Each kind of tampering is detected and named by entry number and kind."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from osler.audit import Anchor, AuditAnchorError, AuditIntegrityError, AuditStore
from osler.audit.cipherfile import PAGE_SIZE
from osler.audit.storekeys import GENESIS, StoreKeys
from osler.audit.witness import witness_path
from tests.audit.sample import provider, record
from tests.audit.tamper import forge_witness, open_raw, sql, store_keys


@pytest.fixture
def five(db_path):
    """A closed store with five entries; returns its path."""
    with AuditStore.open(db_path, provider()) as s:
        for i in range(5):
            s.append(record(i))
    return db_path


def verify(db_path, anchor=None):
    with AuditStore.open(db_path, provider(), create=False) as s:
        return s.verify(anchor)


def kinds(report):
    return [(p.seq, p.kind) for p in report.problems]


def test_intact_store_verifies(five):
    report = verify(five)
    assert report.ok and report.count == 5 and report.problems == []


def test_modified_body(five):
    sql(five, "UPDATE entries SET body = replace(body, 'alternative-more-likely', "
              "'patient-declined') WHERE seq = 3")
    report = verify(five)
    assert not report.ok
    assert kinds(report) == [(3, "modified")]
    assert "entry #3" in str(report.problems[0])


def test_modified_body_with_its_hash_recomputed_without_the_key(five):
    conn = open_raw(five)
    body = conn.execute("SELECT body FROM entries WHERE seq = 2").fetchone()[0]
    forged = body.replace("dr-grace-hopper", "dr-someone-else")
    conn.execute("UPDATE entries SET body = ?, entry_hash = ? WHERE seq = 2",
                 (forged, hashlib.sha256(forged.encode()).hexdigest()))
    conn.close()
    assert kinds(verify(five)) == [(2, "modified")]


def test_deleted_entry(five):
    sql(five, "DELETE FROM entries WHERE seq = 3")
    assert kinds(verify(five)) == [(3, "deleted")]


def test_deleted_entry_with_the_rest_renumbered(five):
    sql(five, "DELETE FROM entries WHERE seq = 2",
        "UPDATE entries SET seq = -seq WHERE seq > 2",
        "UPDATE entries SET seq = -seq - 1 WHERE seq < 0")
    assert kinds(verify(five)) == [(2, "deleted")]


def test_reordered_entries(five):
    conn = open_raw(five)
    rows = {r[0]: r[1:] for r in conn.execute("SELECT seq, body, prev_hash, entry_hash "
                                              "FROM entries")}
    conn.execute("BEGIN")
    for seq, src in ((2, 3), (3, 2)):
        conn.execute("UPDATE entries SET body = ?, prev_hash = ?, entry_hash = ? WHERE seq = ?",
                     (*rows[src], seq))
    conn.execute("COMMIT")
    conn.close()
    report = verify(five)
    assert [k for _, k in kinds(report)] == ["reordered"]
    assert report.problems[0].seq in (2, 3)
    assert "moved to position" in report.problems[0].message


def test_forged_entry_inserted_in_the_middle(five):
    conn = open_raw(five)
    body, prev = conn.execute("SELECT body, prev_hash FROM entries WHERE seq = 3").fetchone()
    conn.close()
    forged = body.replace("Chest film", "Forged note")
    sql(five, "UPDATE entries SET seq = -seq WHERE seq >= 3",
        "UPDATE entries SET seq = -seq + 1 WHERE seq < 0",
        "INSERT INTO entries (seq, body, prev_hash, entry_hash) VALUES (3, ?, ?, ?)",
        params=(forged, prev, "ab" * 32))
    assert kinds(verify(five)) == [(3, "inserted")]


def test_forged_entry_appended(five):
    sql(five, "INSERT INTO entries (seq, body, prev_hash, entry_hash) VALUES (6, ?, ?, ?)",
        params=(json.dumps({"seq": 6}), "cd" * 32, "ef" * 32))
    assert kinds(verify(five)) == [(6, "inserted")]


def test_replayed_copy_of_an_entry_inserted(five):
    sql(five, "INSERT INTO entries (seq, body, prev_hash, entry_hash) "
              "SELECT 6, body, prev_hash, entry_hash FROM entries WHERE seq = 4")
    report = verify(five)
    assert kinds(report) == [(6, "inserted")]
    assert "copy of entry #4" in report.problems[0].message


def test_truncated_end(five):
    sql(five, "DELETE FROM entries WHERE seq >= 4")
    report = verify(five)
    assert kinds(report) == [(4, "truncated")]
    assert "#4–#5" in report.problems[0].message


def test_head_record_altered_to_hide_truncation(five):
    conn = open_raw(five)
    h3 = conn.execute("SELECT entry_hash FROM entries WHERE seq = 3").fetchone()[0]
    conn.close()
    sql(five, "DELETE FROM entries WHERE seq >= 4", "UPDATE head SET count = 3, hash = ?",
        params=(h3,))
    report = verify(five)
    assert (None, "modified") in kinds(report)
    assert "head record" in report.problems[0].message


def test_several_problems_are_all_named(five):
    sql(five, "DELETE FROM entries WHERE seq = 2",
        "UPDATE entries SET body = body || ' ' WHERE seq = 4")
    assert kinds(verify(five)) == [(4, "modified"), (2, "deleted")]


def test_rollback_to_an_older_file_is_caught_by_the_witness(db_path, tmp_path):
    old = tmp_path / "old-copy.db"
    with AuditStore.open(db_path, provider()) as s:
        for i in range(3):
            s.append(record(i))
    shutil.copy(db_path, old)
    with AuditStore.open(db_path, provider()) as s:
        for i in range(3, 6):
            s.append(record(i))
    shutil.copy(old, db_path)
    report = verify(db_path)
    assert kinds(report) == [(4, "rollback")]
    assert "witness" in report.problems[0].message and "recorded 6" in str(report.problems[0])


def test_rollback_of_file_and_witness_is_caught_only_by_a_later_anchor(db_path, tmp_path):
    old = tmp_path / "old-copy.db"
    witness = witness_path(db_path)
    with AuditStore.open(db_path, provider()) as s:
        for i in range(3):
            s.append(record(i))
    shutil.copy(db_path, old)
    shutil.copy(witness, tmp_path / "old-witness")
    with AuditStore.open(db_path, provider()) as s:
        for i in range(3, 6):
            s.append(record(i))
        anchor = s.anchor()
    anchor_file = anchor.save(tmp_path / "anchor.json")
    shutil.copy(old, db_path)
    shutil.copy(tmp_path / "old-witness", witness)
    assert verify(db_path).ok  # both rolled back: a consistent store of its time, see docs
    report = verify(db_path, Anchor.load(anchor_file))
    assert kinds(report) == [(4, "rollback")]
    assert "recorded 6" in report.problems[0].message


def test_truncation_by_a_key_holder_is_caught_by_the_witness(five):
    keys = store_keys(five)
    conn = open_raw(five)
    h3 = conn.execute("SELECT entry_hash FROM entries WHERE seq = 3").fetchone()[0]
    conn.close()
    sql(five, "DELETE FROM entries WHERE seq >= 4",
        "UPDATE head SET count = 3, hash = ?, mac = ?", params=(h3, keys.head_mac(3, h3)))
    report = verify(five)
    assert kinds(report) == [(4, "rollback")]
    with AuditStore.open(five, provider()) as s:
        assert s.read_only and "witness" in s.read_only
        with pytest.raises(AuditIntegrityError, match="read-only"):
            s.append(record(9))
    assert kinds(verify(five)) == [(4, "rollback")], "the refused append changed nothing"


def test_truncation_by_a_key_holder_who_also_forges_the_witness_needs_an_anchor(five):
    with AuditStore.open(five, provider()) as s:
        anchor = s.anchor()
    keys = store_keys(five)
    conn = open_raw(five)
    h3 = conn.execute("SELECT entry_hash FROM entries WHERE seq = 3").fetchone()[0]
    conn.close()
    sql(five, "DELETE FROM entries WHERE seq >= 4",
        "UPDATE head SET count = 3, hash = ?, mac = ?", params=(h3, keys.head_mac(3, h3)))
    forge_witness(five, 3, h3)
    assert verify(five).ok  # the documented limit of the witness
    assert kinds(verify(five, anchor)) == [(4, "rollback")]


def test_history_rewritten_with_the_key_is_caught_only_by_an_anchor(five):
    with AuditStore.open(five, provider()) as s:
        anchor = s.anchor()
    conn = open_raw(five)
    secret = bytes.fromhex(conn.execute("SELECT value FROM meta WHERE name = 'secret'")
                           .fetchone()[0])
    keys = StoreKeys.from_secret(secret)
    rows = conn.execute("SELECT seq, body FROM entries ORDER BY seq").fetchall()
    conn.execute("BEGIN")
    prev = GENESIS
    for seq, body in rows:
        if seq == 2:
            body = body.replace("reject", "accept")
        h = keys.entry_hash(seq, prev, body)
        conn.execute("UPDATE entries SET body = ?, prev_hash = ?, entry_hash = ? WHERE seq = ?",
                     (body, prev, h, seq))
        prev = h
    conn.execute("UPDATE head SET hash = ?, mac = ?", (prev, keys.head_mac(len(rows), prev)))
    conn.execute("COMMIT")
    conn.close()
    assert kinds(verify(five)) == [(5, "modified")]  # the witness saw the old #5...
    assert "witness" in verify(five).problems[0].message
    forge_witness(five, len(rows), prev)
    assert verify(five).ok  # ...but a key holder can rewrite the witness too: see docs
    report = verify(five, anchor)
    assert kinds(report) == [(5, "modified")]
    assert "rewritten" in report.problems[0].message


def test_pages_replayed_from_an_old_copy_without_the_key(db_path):
    """SQLCipher cannot tell an old page from a current one; structure check and chain can."""
    with AuditStore.open(db_path, provider()) as s:
        for i in range(12):
            s.append(record(i))
    old = db_path.read_bytes()
    with AuditStore.open(db_path, provider()) as s:
        for i in range(12, 14):
            s.append(record(i))
    current = db_path.read_bytes()

    def page(data, p):
        return data[p * PAGE_SIZE:(p + 1) * PAGE_SIZE]

    changed = [p for p in range(len(old) // PAGE_SIZE) if page(old, p) != page(current, p)]
    assert len(changed) >= 2
    chain_only = 0
    for p in changed:
        db_path.write_bytes(current[:p * PAGE_SIZE] + page(old, p)
                            + current[(p + 1) * PAGE_SIZE:])
        report = verify(db_path)
        assert not report.ok, f"replayed page {p + 1} went unnoticed"
        chain_only += all(x.kind != "corrupt" for x in report.problems)
    assert chain_only >= 1, "no replay was caught by the hash chain alone"


def test_altered_anchor_file_is_detected(five, tmp_path):
    with AuditStore.open(five, provider()) as s:
        path = s.anchor().save(tmp_path / "a.json")
    doc = json.loads(path.read_text())
    doc["count"] = 2
    path.write_text(json.dumps(doc))
    report = verify(five, Anchor.load(path))
    assert kinds(report) == [(None, "anchor")]
    assert "signature" in report.problems[0].message


def test_anchor_of_another_store_is_refused(five, tmp_path):
    with AuditStore.open(tmp_path / "other.db", provider()) as other:
        other.append(record())
        foreign = other.anchor()
    report = verify(five, foreign)
    assert kinds(report) == [(None, "anchor")] and "another audit store" in str(report.problems[0])


def test_anchor_files_are_checked_and_never_overwritten(five, tmp_path):
    with AuditStore.open(five, provider()) as s:
        anchor = s.anchor()
    path = anchor.save(tmp_path / "a.json")
    assert Anchor.load(path) == anchor and anchor.signature_valid()
    with pytest.raises(AuditAnchorError, match="already exists"):
        anchor.save(path)
    anchor.save(path, overwrite=True)
    for text, field in (("{", None), ('{"format": "x"}', "format"),
                        (json.dumps({**anchor.to_json(), "count": "5"}), "count")):
        path.write_text(text)
        with pytest.raises(AuditAnchorError) as info:
            Anchor.load(path)
        assert str(path) in str(info.value)
        if field:
            assert info.value.field == field
    with pytest.raises(AuditAnchorError, match="no such file"):
        Anchor.load(tmp_path / "missing.json")


def test_no_anchor_is_signed_over_a_tampered_store(five):
    sql(five, "DELETE FROM entries WHERE seq = 2")
    with AuditStore.open(five, provider()) as s, pytest.raises(AuditIntegrityError,
                                                               match="no anchor"):
        s.anchor()


def test_unreadable_entry_body_is_reported_not_crashed(five):
    sql(five, "UPDATE entries SET body = 'not json' WHERE seq = 5")
    assert kinds(verify(five)) == [(5, "modified")]
    with AuditStore.open(five, provider()) as s, pytest.raises(AuditIntegrityError,
                                                               match="entry #5"):
        s.entries()
