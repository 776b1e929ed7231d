"""The tamperer's tools: the store file opened with the key in a plain SQLCipher connection.

This is what an insider who knows the passphrase can do with any SQLCipher browser; it
goes around AuditStore on purpose.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlcipher3 import dbapi2 as sqlcipher

from osler.audit.cipherfile import raw_key_pragma
from osler.audit.keys import derive_passphrase_key
from osler.audit.storekeys import StoreKeys
from osler.audit.witness import Witness, witness_path
from tests.audit.sample import FAST_SCRYPT_N, PASSPHRASE


def raw_key(db_path: Path, passphrase: str = PASSPHRASE, n: int = FAST_SCRYPT_N
            ) -> tuple[bytes, bytes]:
    """The database key and salt of a passphrase-mode store (N: the scrypt cost it used)."""
    salt = db_path.read_bytes()[:16]
    return derive_passphrase_key(passphrase, salt, n), salt


def open_raw(db_path: Path, passphrase: str = PASSPHRASE, n: int = FAST_SCRYPT_N
             ) -> sqlcipher.Connection:
    key, salt = raw_key(db_path, passphrase, n)
    conn = sqlcipher.connect(str(db_path), isolation_level=None)
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute(f"PRAGMA key = {raw_key_pragma(key, salt)}")
    return conn


def sql(db_path: Path, *statements: str, params: tuple = ()) -> None:
    """Run STATEMENTS in one transaction on the raw database, then close it."""
    conn = open_raw(db_path)
    try:
        conn.execute("BEGIN")
        for s in statements:
            conn.execute(s, params if "?" in s else ())
        conn.execute("COMMIT")
    finally:
        conn.close()


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def store_keys(db_path: Path) -> StoreKeys:
    """The store's chain/witness keys, read from its secret with the database key."""
    conn = open_raw(db_path)
    try:
        secret = conn.execute("SELECT value FROM meta WHERE name = 'secret'").fetchone()[0]
    finally:
        conn.close()
    return StoreKeys.from_secret(bytes.fromhex(secret))


def forge_witness(db_path: Path, count: int, head_hash: str) -> None:
    """Rewrite the witness file as a key holder can: it is keyed from the store secret."""
    salt = db_path.read_bytes()[:16]
    Witness(witness_path(db_path), store_keys(db_path).witness_key, salt).create(
        count, head_hash, replace=True)
