"""The store's own record of its head, kept outside the database file (`audit.db-witness`).

After every append the witness records the entry count and head hash, under an HMAC
keyed from the store secret. A database that no longer contains the witnessed entry was
rolled back to an older copy, truncated, or lost the end of its WAL; `verify` and
`AuditStore.open` report it without an anchor. Rule (crash ordering: the witness is
written after the commit, so it can lag but never lead): the store is consistent with
the witness when it contains the witnessed entry, authentic, as entry #count; the store
may be ahead of the witness (a crash between commit and witness update, or two
processes racing), and is then moved forward. See docs/security.md for what it proves.

The file also keeps a copy of the database file's 16-byte salt with a check value, so
that a damaged salt can be told apart from a wrong key.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from osler.audit.cipherfile import SALT_BYTES

SUFFIX = "-witness"
MAGIC = b"OSLWIT\x00\x01"
SIZE = 256
SLOTS = (64, 160)
SLOT_BYTES = 8 + 32 + 32
_SALT_CHECK = b"osler-audit-witness-salt/1\0"
_SLOT = b"osler-audit-witness/1\0"


def witness_path(db_path: Path) -> Path:
    """Where the witness of the store at DB_PATH lives: beside it, named after it."""
    return db_path.with_name(db_path.name + SUFFIX)


def _salt_check(salt: bytes) -> bytes:
    return hashlib.sha256(_SALT_CHECK + salt).digest()[:8]


@dataclass(frozen=True)
class Witnessed:
    """A head the store has reached: COUNT entries, the last with hash HEAD_HASH."""

    count: int
    head_hash: str


class WitnessUnreadable(Exception):
    """The witness file exists but holds no valid record for this store."""


class Witness:
    """The witness file of one store: two slots written in turn, each with its own HMAC, so
    that a write torn by a power cut leaves the other slot readable."""

    def __init__(self, path: Path, key: bytes, salt: bytes):
        self.path = path
        self._salt = salt
        self._hmac = hmac.new(key, _SLOT + salt, hashlib.sha256)  # copied for each MAC

    def _mac(self, count: int, head_hash: str) -> bytes:
        mac = self._hmac.copy()
        mac.update(count.to_bytes(8, "big") + bytes.fromhex(head_hash))
        return mac.digest()

    def _slots(self, data: bytes) -> list[Witnessed | None]:
        slots: list[Witnessed | None] = []
        for off in SLOTS:
            raw = data[off:off + SLOT_BYTES]
            if len(raw) < SLOT_BYTES:
                slots.append(None)
                continue
            count = struct.unpack(">Q", raw[:8])[0]
            head = raw[8:40].hex()
            ok = hmac.compare_digest(self._mac(count, head), raw[40:72])
            slots.append(Witnessed(count, head) if ok else None)
        return slots

    def read(self) -> Witnessed | None:
        """The furthest valid record; None when there is no witness file at all."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise WitnessUnreadable(f"cannot read: {exc.strerror or exc}") from None
        if data[:8] != MAGIC:
            raise WitnessUnreadable("not an Osler witness file")
        valid = [s for s in self._slots(data) if s is not None]
        if not valid:
            raise WitnessUnreadable("no record in it checks out with this store's key "
                                    "(damaged, or the witness of another store)")
        return max(valid, key=lambda s: s.count)

    def advance(self, count: int, head_hash: str) -> bool:
        """Record COUNT/HEAD_HASH unless the file already records as much; True if written.

        Called after the commit, without fsync: a lost or stale write only leaves the
        witness behind, which the rule accepts.
        """
        try:
            fd = os.open(self.path, os.O_RDWR)
        except FileNotFoundError:
            self.create(count, head_hash)
            return True
        try:
            data = _pread(fd, SIZE, 0)
            if data[:8] != MAGIC or len(data) < SIZE:
                return False  # someone else's file, or damaged: leave it as evidence
            counts = [s.count if s is not None else -1 for s in self._slots(data)]
            if max(counts) >= count:
                return False
            _pwrite(fd, self._slot(count, head_hash), SLOTS[counts.index(min(counts))])
        finally:
            os.close(fd)
        return True

    def _slot(self, count: int, head_hash: str) -> bytes:
        return count.to_bytes(8, "big") + bytes.fromhex(head_hash) + self._mac(count,
                                                                              head_hash)

    def create(self, count: int, head_hash: str, replace: bool = False) -> None:
        """Write a new witness file (fsync'd) recording COUNT/HEAD_HASH in both slots."""
        data = bytearray(SIZE)
        data[:8] = MAGIC
        data[8:8 + SALT_BYTES] = self._salt
        data[24:32] = _salt_check(self._salt)
        for off in SLOTS:
            data[off:off + SLOT_BYTES] = self._slot(count, head_hash)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            if replace:
                os.replace(tmp, self.path)
            else:
                try:
                    os.link(tmp, self.path)  # never replace a witness another process wrote
                except FileExistsError:
                    pass
                except OSError:  # no hard links (FAT): a small race remains
                    if not self.path.exists():
                        os.replace(tmp, self.path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()


def _pread(fd: int, size: int, offset: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(fd, size, offset)
    os.lseek(fd, offset, os.SEEK_SET)  # Windows
    return os.read(fd, size)


def _pwrite(fd: int, data: bytes, offset: int) -> None:
    if hasattr(os, "pwrite"):
        os.pwrite(fd, data, offset)
    else:
        os.lseek(fd, offset, os.SEEK_SET)
        os.write(fd, data)


def recorded_salt(path: Path) -> bytes | None:
    """The database salt recorded in the witness file at PATH when its check value holds."""
    try:
        with path.open("rb") as f:
            head = f.read(32)
    except OSError:
        return None
    if head[:8] != MAGIC or len(head) < 32:
        return None
    salt = head[8:8 + SALT_BYTES]
    return salt if hmac.compare_digest(_salt_check(salt), head[24:32]) else None


def recorded_count(path: Path) -> int | None:
    """The largest entry count in the witness at PATH, unauthenticated (no key needed):
    a hint that a store existed here, for refusing to create a new one over it."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if data[:8] != MAGIC:
        return None
    counts = [struct.unpack(">Q", data[off:off + 8])[0] for off in SLOTS
              if len(data) >= off + 8]
    return max(counts, default=None)
