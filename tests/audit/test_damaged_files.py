"""Damaged or foreign files give a clear error naming the file and are never modified."""

from __future__ import annotations

import os
import sqlite3

import pytest

from osler.audit import AuditIntegrityError, AuditKeyError, AuditStore, AuditStoreError
from osler.audit.cipherfile import PAGE_SIZE
from tests.audit.sample import provider, record


def snapshot(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir()}


@pytest.fixture
def filled(db_path):
    with AuditStore.open(db_path, provider()) as s:
        for i in range(10):
            s.append(record(i))
    return db_path


def open_fails(path, kind):
    before = snapshot(path.parent)
    with pytest.raises(kind) as info:
        AuditStore.open(path, provider(), create=True)
    assert str(path) in str(info.value)
    assert snapshot(path.parent) == before, "the file was modified"
    assert "\n" not in str(info.value)
    return info.value


def test_truncated_file(filled):
    filled.write_bytes(filled.read_bytes()[:PAGE_SIZE * 2 + 100])
    err = open_fails(filled, AuditIntegrityError)
    assert "truncated" in str(err)


def test_truncated_at_a_page_boundary(filled):
    data = filled.read_bytes()
    filled.write_bytes(data[:len(data) - 2 * PAGE_SIZE])
    before = snapshot(filled.parent)
    try:
        with AuditStore.open(filled, provider()) as s:
            report = s.verify()
        assert not report.ok
    except AuditStoreError as exc:
        assert str(filled) in str(exc)
    assert snapshot(filled.parent) == before


def test_random_bytes(db_path):
    db_path.parent.mkdir()
    db_path.write_bytes(os.urandom(PAGE_SIZE * 3))
    err = open_fails(db_path, AuditStoreError)
    assert "not an Osler audit store" in str(err)


def test_random_bytes_of_an_odd_size(db_path):
    db_path.parent.mkdir()
    db_path.write_bytes(os.urandom(5000))
    open_fails(db_path, AuditIntegrityError)


def test_empty_file(db_path):
    db_path.parent.mkdir()
    db_path.write_bytes(b"")
    open_fails(db_path, AuditIntegrityError)


def test_plain_sqlite_database(db_path):
    db_path.parent.mkdir()
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    err = open_fails(db_path, AuditStoreError)
    assert "unencrypted" in str(err)


def test_a_folder_in_the_way(db_path):
    db_path.mkdir(parents=True)
    with pytest.raises(AuditStoreError, match="not a file"):
        AuditStore.open(db_path, provider())


def test_damaged_first_page_with_the_right_key_is_not_called_a_wrong_key(filled):
    data = bytearray(filled.read_bytes())
    data[200:232] = os.urandom(32)
    filled.write_bytes(bytes(data))
    err = open_fails(filled, AuditIntegrityError)
    assert "damaged" in str(err)
    assert not isinstance(err, AuditKeyError)


def test_damaged_later_page_is_reported_by_verify(filled):
    data = bytearray(filled.read_bytes())
    pages = len(data) // PAGE_SIZE
    assert pages >= 4
    at = (pages - 1) * PAGE_SIZE + 500
    data[at:at + 64] = os.urandom(64)
    filled.write_bytes(bytes(data))
    before = snapshot(filled.parent)
    with AuditStore.open(filled, provider()) as s:
        report = s.verify()
    assert not report.ok
    assert "corrupt" in {p.kind for p in report.problems}
    assert snapshot(filled.parent)["audit.db"] == before["audit.db"]


def test_a_flipped_salt_bit_is_reported_as_damage_not_a_wrong_key(filled):
    data = bytearray(filled.read_bytes())
    data[5] ^= 0x08  # the 16-byte salt is the file's only plaintext
    filled.write_bytes(bytes(data))
    err = open_fails(filled, AuditIntegrityError)
    assert not isinstance(err, AuditKeyError)
    assert "salt" in str(err) and "1 bits differ" in str(err) and "the key is right" in str(err)


def test_a_wrong_passphrase_on_an_intact_salt_is_still_a_wrong_key(filled):
    with pytest.raises(AuditKeyError, match="wrong passphrase"):
        AuditStore.open(filled, provider("not the passphrase at all"))


def test_a_flipped_salt_bit_with_a_wrong_passphrase_is_a_wrong_key(filled):
    data = bytearray(filled.read_bytes())
    data[0] ^= 0x01
    filled.write_bytes(bytes(data))
    with pytest.raises(AuditKeyError, match="wrong passphrase"):
        AuditStore.open(filled, provider("not the passphrase at all"))


def test_a_flipped_salt_bit_in_keyring_mode_is_damage(tmp_path):
    from osler.audit import KeyProvider
    from tests.audit.sample import FakeSecureKeyring

    backend = FakeSecureKeyring()
    db = tmp_path / "audit.db"
    with AuditStore.open(db, KeyProvider(backend=backend, environ={})) as s:
        s.append(record(0))
    data = bytearray(db.read_bytes())
    data[15] ^= 0x80
    db.write_bytes(bytes(data))
    with pytest.raises(AuditIntegrityError, match="salt") as info:
        AuditStore.open(db, KeyProvider(backend=backend, environ={}))
    assert "the key in the OS keyring" in str(info.value)
