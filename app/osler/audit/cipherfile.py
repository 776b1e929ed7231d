"""What can be learnt from a SQLCipher 4 file without decrypting it: salt, size, page checks.

Used to name the problem precisely (truncated, plaintext, damaged vs wrong key) and to find
a store's keyring entry by its random file salt instead of by its path.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from pathlib import Path

from osler.audit.errors import AuditIntegrityError, AuditStoreError

PAGE_SIZE = 4096
SALT_BYTES = 16
IV_BYTES = 16
HMAC_BYTES = 64
RESERVE = IV_BYTES + HMAC_BYTES
SQLITE_MAGIC = b"SQLite format 3\x00"


def raw_key_pragma(key: bytes, salt: bytes) -> str:
    """The `PRAGMA key`/`rekey` argument for a raw 256-bit key and an explicit 128-bit salt."""
    if len(key) != 32 or len(salt) != SALT_BYTES:
        raise ValueError("raw key must be 32 bytes and salt 16 bytes")
    return f"\"x'{key.hex()}{salt.hex()}'\""


@dataclass(frozen=True)
class CipherFile:
    """An existing store file as bytes on disk: its size and its plaintext 16-byte salt."""

    path: Path
    size: int
    salt: bytes

    @classmethod
    def inspect(cls, path: Path) -> CipherFile:
        """Read the header; AuditStoreError/AuditIntegrityError when it cannot be one of ours."""
        try:
            if not path.is_file():
                raise AuditStoreError("not a file" if path.exists() else "no audit store here",
                                      path)
            size = path.stat().st_size
            with path.open("rb") as f:
                head = f.read(SALT_BYTES)
        except OSError as exc:
            raise AuditStoreError(f"cannot read: {exc.strerror or exc}", path) from None
        if size == 0:
            raise AuditIntegrityError("empty file (not an Osler audit store)", path)
        if head == SQLITE_MAGIC:
            raise AuditStoreError("plain, unencrypted SQLite database (not an Osler audit store)",
                                  path)
        if size % PAGE_SIZE:
            raise AuditIntegrityError(
                f"damaged or truncated: {size} bytes is not a whole number of "
                f"{PAGE_SIZE}-byte pages", path)
        return cls(path=path, size=size, salt=head)

    @property
    def store_ref(self) -> str:
        """Stable, non-secret name of this database for the keyring (its salt, not its path)."""
        return "audit-db-" + self.salt.hex()

    def pages_verified(self, key: bytes, limit: int = 16) -> tuple[int, int]:
        """(pages whose HMAC checks with KEY, pages checked) among the first LIMIT pages."""
        hmac_key = hashlib.pbkdf2_hmac("sha512", key, bytes(b ^ 0x3A for b in self.salt), 2, 32)
        good = checked = 0
        try:
            with self.path.open("rb") as f:
                for pgno in range(1, min(limit, self.size // PAGE_SIZE) + 1):
                    page = f.read(PAGE_SIZE)
                    if len(page) < PAGE_SIZE:
                        break
                    start = SALT_BYTES if pgno == 1 else 0
                    data = page[start:PAGE_SIZE - HMAC_BYTES]
                    mac = hmac.new(hmac_key, data + pgno.to_bytes(4, "little"),
                                   hashlib.sha512).digest()
                    checked += 1
                    good += hmac.compare_digest(mac, page[PAGE_SIZE - HMAC_BYTES:])
        except OSError:
            pass
        return good, checked
