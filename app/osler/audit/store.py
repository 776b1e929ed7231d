"""The encrypted, append-only store of clinician overrides (SQLCipher through sqlite-utils).

Durability: WAL with synchronous=FULL, so every committed entry has been fsync'd; appends
run in BEGIN IMMEDIATE transactions, so concurrent writers (two windows, a script) queue
instead of losing entries. A store that cannot be opened is never modified or deleted.

Before SQLite sees a store, `open` inspects its WAL: a damaged WAL (committed frames that
SQLite's recovery would drop) is copied aside and the store is opened read-only from a
copy, so nothing is checkpointed or deleted. A witness file beside the database
(`witness.py`) records the head after every append, so that rollback, truncation and
lost WAL frames are caught without an anchor.
"""

from __future__ import annotations

import contextlib
import dataclasses
import getpass
import glob
import hmac
import os
import secrets
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlcipher3 import dbapi2 as sqlcipher

from osler import __version__
from osler.audit.anchor import Anchor, check_against
from osler.audit.chain import (
    Cancelled,
    Head,
    Problem,
    Progress,
    VerifyReport,
    classify,
    fast_check,
)
from osler.audit.cipherfile import SALT_BYTES, CipherFile, raw_key_pragma
from osler.audit.entry import ENTRY_VERSION, AuditEntry
from osler.audit.errors import (
    AuditError,
    AuditInputError,
    AuditIntegrityError,
    AuditKeyError,
    AuditStoreError,
)
from osler.audit.keys import SCRYPT_P, SCRYPT_R, KeyProvider, Source, StoreKey
from osler.audit.override import Action, OverrideRecord, canonical_json
from osler.audit.storekeys import GENESIS, StoreKeys
from osler.audit.walfile import WalReport, inspect_wal
from osler.audit.witness import (
    Witness,
    Witnessed,
    WitnessUnreadable,
    recorded_count,
    recorded_salt,
    witness_path,
)

DB_ENV = "OSLER_AUDIT_DB"
FORMAT = "osler-audit/1"
BUSY_TIMEOUT_S = 30.0
SQLITE_NOTADB = 26
CREATING = ".creating-"
ABANDONED_AFTER_S = 600.0
"""A `.audit.db.creating-*` file nobody holds a lock on is removed once its creator is gone,
or after this long when that cannot be told (pid reused, no flock on this system)."""
RESET_HINT = ("after checking, `osler audit reset-witness` accepts the store as it is "
              "(the old witness is kept)")


def default_path() -> Path:
    """$OSLER_AUDIT_DB, else audit.db in the per-user data folder (platformdirs)."""
    env = os.environ.get(DB_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("osler", appauthor=False)) / "audit.db"


class _WrongKey(Exception):
    """SQLCipher could not decrypt page 1 with this key."""


class _StaleKey(AuditIntegrityError):
    """The file no longer decrypts with the key this connection holds (rekeyed elsewhere?)."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def os_user() -> str:
    """The account running Osler: from the user database on POSIX (not $USER), else getpass."""
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        pass
    try:
        return getpass.getuser()
    except Exception:
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def _connect(path: Path, key: bytes, salt: bytes) -> sqlcipher.Connection:
    """An unlocked connection with Osler's pragmas; _WrongKey if the key does not fit."""
    try:
        conn = sqlcipher.connect(str(path), isolation_level=None, timeout=BUSY_TIMEOUT_S,
                                 check_same_thread=False)
    except sqlcipher.Error as exc:
        raise AuditStoreError(f"cannot open: {exc}", path) from None
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")  # no SQLCipher chatter on stderr
        conn.execute(f"PRAGMA key = {raw_key_pragma(key, salt)}")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        for pragma in ("temp_store = MEMORY", "synchronous = FULL", "fullfsync = ON",
                       "checkpoint_fullfsync = ON", "trusted_schema = OFF"):
            conn.execute(f"PRAGMA {pragma}")
    except sqlcipher.DatabaseError as exc:
        conn.close()
        if getattr(exc, "sqlite_errorcode", None) == SQLITE_NOTADB:
            raise _WrongKey from None
        if isinstance(exc, sqlcipher.OperationalError):  # locked, no permission, I/O error
            raise AuditStoreError(f"cannot open: {exc}", path) from None
        raise AuditIntegrityError(f"damaged database: {exc}", path) from None
    return conn


def _fsync_dir(path: Path) -> None:
    if os.name == "nt":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def _companions(path: Path) -> list[Path]:
    """PATH and the files SQLite keeps beside it."""
    return [path] + [path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal")]


def _lock_exclusive(fd: int) -> bool:
    """Take a non-blocking flock on FD: False if another process holds one (POSIX only)."""
    try:
        import fcntl
    except ImportError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    except OSError:
        return True  # file systems without flock: fall back to the pid and age checks


def _pid_alive(pid: int) -> bool | None:
    """Whether process PID exists on this machine (None: cannot tell here)."""
    if os.name != "posix":
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _abandoned(tmp: Path) -> bool:
    """Whether the creation that made TMP is over: nobody holds its lock, its creator is
    gone (or it is old), so that removing it cannot pull a file from under a creator."""
    try:
        fd = os.open(tmp, os.O_RDONLY)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    try:
        if not _lock_exclusive(fd):
            return False
        age = time.time() - os.fstat(fd).st_mtime
    finally:
        os.close(fd)
    try:
        pid = int(tmp.name.split(CREATING, 1)[1].split("-", 1)[0])
    except (IndexError, ValueError):
        pid = -1
    alive = _pid_alive(pid) if pid > 0 else None
    return alive is False or age > ABANDONED_AFTER_S


def _clean_abandoned_creations(path: Path) -> list[Path]:
    """Remove what a killed store creation left beside PATH (`.audit.db.creating-*`)."""
    prefix = f".{path.name}{CREATING}"
    try:
        names = [p for p in path.parent.iterdir() if p.name.startswith(prefix)]
    except OSError:
        return []
    removed = []
    bases = {p for p in names if not p.name.endswith(("-wal", "-shm", "-journal"))}
    for base in bases:
        if _abandoned(base):
            for leftover in _companions(base):
                with contextlib.suppress(FileNotFoundError, OSError):
                    leftover.unlink()
                    removed.append(leftover)
    for orphan in set(names) - bases:  # a companion whose database is already gone
        if not orphan.with_name(orphan.name.rsplit("-", 1)[0]).exists():
            with contextlib.suppress(OSError):
                orphan.unlink()
                removed.append(orphan)
    return removed


def _keep_damaged(path: Path, wal: WalReport) -> tuple[Path, bool]:
    """Copy the store's files (witness, database, WAL) into `audit.db.damaged-<UTC>/`, or
    find an identical earlier copy, before anything can checkpoint or delete them.
    Returns the folder and whether it is new.

    Not the -shm file: it is only an index SQLite rebuilds from the WAL, and closing a
    handle on it would drop the POSIX locks of any SQLite connection in this process.
    """
    # The witness first: it is written after each commit, so copied first it can only lag
    # behind the database and log copied after it, even if a writer is busy meanwhile.
    files = [p for p in (witness_path(path), *_companions(path)[:2]) if p.exists()]
    for earlier in sorted(path.parent.glob(glob.escape(path.name) + ".damaged-*")):
        if all((earlier / f.name).is_file() and _same_file(f, earlier / f.name)
               for f in files):
            return earlier, False
    kept = path.with_name(f"{path.name}.damaged-{_stamp()}")
    n = 1
    while kept.exists():
        n += 1
        kept = path.with_name(f"{path.name}.damaged-{_stamp()}-{n}")
    try:
        kept.mkdir(mode=0o700)
        for f in files:
            shutil.copy2(f, kept / f.name)
            fd = os.open(kept / f.name, os.O_RDWR)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        (kept / "README.txt").write_text(
            f"Copied by Osler {__version__} at {_now()} before opening the audit store, "
            f"because {wal.describe()}.\nThese are the store's files exactly as found; keep "
            "them. See docs/security.md, 'A damaged WAL', and docs/audit.md, 'For the "
            "clinic's IT'.\n", encoding="utf-8")
        _fsync_dir(kept)
        _fsync_dir(path.parent)
    except OSError as exc:
        raise AuditIntegrityError(f"{wal.describe()}; could not keep a copy in {kept} "
                                  f"({exc.strerror or exc}), so the store was not opened",
                                  path) from None
    return kept, True


def _in_use(path: Path) -> bool:
    """Whether another process has the SQLite store at PATH open: every connection holds a
    shared lock on byte 128 of the -shm file (SQLite's "DMS" lock) while open (POSIX)."""
    shm = path.with_name(path.name + "-shm")
    if os.name == "nt" or not shm.exists():
        return False
    import fcntl

    fd = os.open(shm, os.O_RDWR)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 128)
    except OSError:
        return True
    finally:
        os.close(fd)  # drops the probe's lock
    return False


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.stat().st_size != b.stat().st_size:
            return False
        return a.read_bytes() == b.read_bytes()
    except OSError:
        return False


def _read_only_view(path: Path, kept: Path) -> Path:
    """A private copy of the database and its WAL to open instead of the damaged original."""
    view = kept / "read-only-view"
    shutil.rmtree(view, ignore_errors=True)
    try:
        view.mkdir(mode=0o700)
        for f in _companions(path)[:2]:
            if (kept / f.name).exists():
                shutil.copy2(kept / f.name, view / f.name)
    except OSError as exc:
        raise AuditStoreError(f"cannot make a read-only copy in {view}: "
                              f"{exc.strerror or exc}", path) from None
    return view / path.name


class AuditStore:
    """One audit trail: append overrides, read them back, verify, anchor, export, rekey."""

    def __init__(self, path: Path, conn: sqlcipher.Connection, cipher: CipherFile,
                 key: StoreKey, provider: KeyProvider, *, file: Path | None = None):
        self.path = path
        self._file = file or path  # what SQLite opened: PATH, or a copy of a damaged store
        self._conn = conn
        self._db = sqlite_utils.Database(conn)
        self._cipher = cipher
        self._key = key
        self._provider = provider
        self._lock = threading.RLock()
        self._damage: Problem | None = None  # the WAL damage found on opening
        self._witness_found: list[Problem] = []  # what the witness check found on opening
        self.read_only: str | None = None
        """Why appends are refused (damaged WAL, witness disagrees), or None."""
        meta = self._read_meta(conn)
        self.store_id: str = meta["store_id"]
        self.created: str = meta.get("created", "")
        self._keys = StoreKeys.from_secret(bytes.fromhex(meta["secret"]))
        self._witness = Witness(witness_path(path), self._keys.witness_key, cipher.salt)
        self._witness_expected = meta.get("witness") == "1"

    # --- opening ---------------------------------------------------------

    @classmethod
    def open(cls, path: Path | str | None = None, key_provider: KeyProvider | None = None,
             create: bool = True) -> AuditStore:
        """Open (or, with CREATE, make) the store at PATH (default: `default_path()`).

        A store whose WAL is damaged, or that disagrees with its witness, opens read-only
        (`read_only` says why): it can be read, verified and exported, not appended to.
        """
        path = Path(path).expanduser() if path is not None else default_path()
        provider = key_provider or KeyProvider()
        _clean_abandoned_creations(path)
        if not path.exists() and not path.is_symlink():
            had = recorded_count(witness_path(path))
            if had:
                raise AuditIntegrityError(
                    f"no store here, but its witness {witness_path(path)} shows that one with "
                    f"{had} entries existed (deleted or moved?): restore it, or move the "
                    "witness away to start a new store", path)
            if not create:
                raise AuditStoreError("no audit store here (nothing has been recorded yet?)",
                                      path)
            cls._create(path, provider)
        cipher = CipherFile.inspect(path)
        wal = cls._inspect_wal(path)
        if wal is None or not (wal.damaged or wal.suspect):
            return cls._open_file(path, cipher, provider)
        # Copy first: SQLite's recovery would drop the frames, its checkpoint delete them.
        kept, new = _keep_damaged(path, wal)
        try:
            store = cls._open_file(path, cipher, provider, wal, kept)
        except BaseException:
            if wal.suspect and new:
                shutil.rmtree(kept, ignore_errors=True)
            raise
        if store._damage is not None:
            return store
        # The witness agrees: the cut-off transaction was never committed (a crash).
        store.close()
        if new:
            shutil.rmtree(kept, ignore_errors=True)
        return cls._open_file(path, cipher, provider)

    @classmethod
    def _open_file(cls, path: Path, cipher: CipherFile, provider: KeyProvider,
                   wal: WalReport | None = None, kept: Path | None = None) -> AuditStore:
        """Unlock and check against the witness: the store at PATH, or with WAL (damaged or
        cut short) a private copy of the files kept in KEPT, read-only when damaged."""
        file = _read_only_view(path, kept) if wal is not None and kept is not None else path
        try:
            conn, key = cls._unlock(path, cipher, provider, file)
            try:
                store = cls(path, conn, cipher, key, provider, file=file)
            except BaseException:
                conn.close()
                raise
        except BaseException:
            if file != path:
                shutil.rmtree(file.parent, ignore_errors=True)
            raise
        if kept is not None:  # judge the copy by the witness copied with it
            store._witness = Witness(kept / store._witness.path.name,
                                     store._keys.witness_key, cipher.salt)
        try:
            store._check_witness_on_open()
        except BaseException:
            store.close()
            raise
        if wal is not None and (wal.damaged or store.read_only):
            committed = any(p.kind != "witness" for p in store._witness_found)
            what = wal.describe(committed=committed)
            if not (wal.damaged or committed):
                what += ("; without a usable witness it cannot be told whether that "
                         "transaction had been committed (damage) or not (a crash)")
            store._damage = Problem(None, "corrupt", f"{what} (a copy of the store's files as "
                                                     f"found is kept in {kept})")
            store.read_only = (f"{what}. A copy of the store's files as found is kept in "
                               f"{kept}; the store was opened read-only from a copy of them, "
                               "so that nothing is checkpointed or deleted"
                               + (f"; also {store.read_only}" if store.read_only else ""))
        return store

    @staticmethod
    def _inspect_wal(path: Path) -> WalReport | None:
        """The WAL beside PATH (None: there is none, or another process is writing it).

        A worrying verdict must read the same twice: a frame half-written by a live writer,
        or a log being restarted, changes within milliseconds; damage and a crashed writer's
        torn frame stay. A log that keeps changing is live: its writer's SQLite will not run
        recovery on it, so opening cannot drop frames from it.
        """
        wal = path.with_name(path.name + "-wal")
        try:
            report = inspect_wal(wal)
            for _ in range(4):
                if report is None or not (report.damaged or report.suspect):
                    return report
                time.sleep(0.05)
                again = inspect_wal(wal)
                if again is not None and (again.first_invalid, again.damaged, again.suspect) == (
                        report.first_invalid, report.damaged, report.suspect):
                    return again
                report = again
            return None
        except OSError as exc:
            raise AuditStoreError(f"cannot read: {exc.strerror or exc}", wal) from None

    @classmethod
    def _unlock(cls, path: Path, cipher: CipherFile, provider: KeyProvider,
                file: Path | None = None) -> tuple[sqlcipher.Connection, StoreKey]:
        """Try the provider's keys in turn; a mistyped passphrase is asked for once more.

        FILE is what to connect to (PATH, or a copy of it); PATH is what messages name.
        """
        file = file or path
        cls._check_salt(path, cipher, provider)
        for attempt in (1, 2):
            tried: list[StoreKey] = []
            try:
                for candidate in provider.candidates(cipher.store_ref, cipher.salt):
                    try:
                        return _connect(file, candidate.key, cipher.salt), candidate
                    except _WrongKey:
                        tried.append(candidate)
            except AuditKeyError as exc:
                if not tried:
                    raise AuditKeyError(exc.message, path, field=exc.field) from None
                what = (f"{tried[0].label} does not open it" if len(tried) == 1 else
                        f"none of the {len(tried)} keys in the OS keyring opens it")
                raise AuditKeyError(f"{what}, and it {exc.message}", path) from None
            for candidate in tried:
                good, checked = cipher.pages_verified(candidate.key)
                if good:
                    raise AuditIntegrityError(
                        f"damaged: {good} of the first {checked} pages check out with "
                        f"{candidate.label}, but the database cannot be read", path)
            if not (provider.forget_entered() and attempt == 1):
                break
        labels = " or ".join(dict.fromkeys(c.label for c in tried))
        raise AuditKeyError(f"cannot decrypt with {labels}: wrong passphrase or key, or the "
                            "file is not an Osler audit store", path)

    @staticmethod
    def _check_salt(path: Path, cipher: CipherFile, provider: KeyProvider) -> None:
        """AuditIntegrityError when the file's salt differs from the one its witness recorded
        and the key checks out with the recorded salt: damage, not a wrong key."""
        recorded = recorded_salt(witness_path(path))
        if recorded is None or recorded == cipher.salt:
            return
        bits = sum(bin(a ^ b).count("1") for a, b in zip(recorded, cipher.salt, strict=True))
        original = dataclasses.replace(cipher, salt=recorded)
        try:
            for candidate in provider.candidates(original.store_ref, recorded):
                good, checked = original.pages_verified(candidate.key)
                if good:
                    raise AuditIntegrityError(
                        f"damaged: the file's first 16 bytes (SQLCipher's salt) were altered "
                        f"({bits} bits differ from the salt recorded in "
                        f"{witness_path(path).name} when the store was made); with the "
                        f"recorded salt {candidate.label} checks out on {good} of {checked} "
                        "pages, so the key is right", path)
        except AuditKeyError:
            pass  # no key to prove it with: fall back to trying the keys as the file is

    @classmethod
    def _create(cls, path: Path, provider: KeyProvider) -> None:
        """Make a new store beside PATH and move it into place only when complete."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise AuditStoreError(f"cannot create folder: {exc.strerror or exc}", path) from None
        salt = secrets.token_bytes(SALT_BYTES)
        ref = "audit-db-" + salt.hex()
        try:
            key = provider.new_key(ref, salt)
        except AuditKeyError as exc:
            raise AuditKeyError(exc.message, path, field=exc.field) from None
        tmp = path.with_name(f".{path.name}{CREATING}{os.getpid()}-{secrets.token_hex(4)}")
        placed = False
        fd = -1
        try:
            # Held open with a lock until the end, so that another process's clean-up of
            # abandoned creations (`_clean_abandoned_creations`) leaves this one alone.
            fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
            _lock_exclusive(fd)
            conn = _connect(tmp, key.key, salt)
            try:
                keys = cls._init_schema(conn, key.source, provider.scrypt_n)
                conn.execute("PRAGMA journal_mode = WAL")
            finally:
                conn.close()
            os.fsync(fd)  # an O_RDWR handle: Windows cannot fsync a read-only one
            placed = cls._place(tmp, path)
            _fsync_dir(path.parent)
            if placed:
                Witness(witness_path(path), keys.witness_key, salt).create(0, GENESIS,
                                                                             replace=True)
        except OSError as exc:
            raise AuditStoreError(f"cannot create: {exc.strerror or exc}", path) from None
        except _WrongKey:
            raise AuditStoreError("could not initialise a new store", path) from None
        finally:
            for leftover in _companions(tmp):
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()
            if fd >= 0:
                os.close(fd)
            if not placed:
                provider.abandon(ref, key)

    @staticmethod
    def _place(tmp: Path, path: Path) -> bool:
        """Move TMP to PATH without ever replacing a store another process made first."""
        try:
            os.link(tmp, path)
            return True
        except FileExistsError:
            return False
        except OSError:  # file systems without hard links (FAT): a small race remains
            if path.exists():
                return False
            os.replace(tmp, path)
            return True

    @staticmethod
    def _init_schema(conn: sqlcipher.Connection, source: Source, scrypt_n: int) -> StoreKeys:
        db = sqlite_utils.Database(conn)
        secret = secrets.token_bytes(32)
        keys = StoreKeys.from_secret(secret)
        with db.atomic():
            db["meta"].create({"name": str, "value": str}, pk="name")
            db["entries"].create({"seq": int, "body": str, "prev_hash": str,
                                  "entry_hash": str}, pk="seq",
                                 not_null={"body", "prev_hash", "entry_hash"})
            db["head"].create({"id": int, "count": int, "hash": str, "mac": str}, pk="id")
            kdf = (f"scrypt n={scrypt_n} r={SCRYPT_R} p={SCRYPT_P}" if source == "passphrase"
                   else "none (random key in the OS keyring)")
            db["meta"].insert_all([
                {"name": "format", "value": FORMAT},
                {"name": "store_id", "value": str(uuid.uuid4())},
                {"name": "created", "value": _now()},
                {"name": "secret", "value": secret.hex()},
                {"name": "public_key", "value": keys.public_key()},
                {"name": "created_with", "value": f"osler {__version__}; key: {source}; "
                                                  f"kdf: {kdf}"},
                {"name": "witness", "value": "1"},
            ])
            db["head"].insert({"id": 1, "count": 0, "hash": GENESIS,
                               "mac": keys.head_mac(0, GENESIS)})
        return keys

    def _read_meta(self, conn: sqlcipher.Connection) -> dict[str, str]:
        try:
            meta = dict(conn.execute("SELECT name, value FROM meta").fetchall())
        except sqlcipher.DatabaseError as exc:
            raise AuditIntegrityError(f"decrypts but is not a readable Osler audit store "
                                      f"({exc})", self.path) from None
        if meta.get("format") != FORMAT:
            raise AuditStoreError(f"unsupported format {meta.get('format')!r} (expected "
                                  f"{FORMAT})", self.path)
        for name in ("store_id", "secret"):
            if not meta.get(name):
                raise AuditIntegrityError(f"store metadata lacks {name}", self.path)
        return meta

    # --- context ---------------------------------------------------------

    def close(self) -> None:
        """Close the connection (the WAL is checkpointed by SQLite when the last one closes)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None  # type: ignore[assignment]
            if self._file != self.path:  # the private copy of a damaged store
                shutil.rmtree(self._file.parent, ignore_errors=True)

    def __enter__(self) -> AuditStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _sql(self, what: str) -> Iterator[sqlcipher.Connection]:
        """The connection, with SQLite errors turned into AuditStore errors naming the file."""
        with self._lock:
            if self._conn is None:
                raise AuditStoreError("the store is closed", self.path)
            try:
                yield self._conn
            except sqlcipher.OperationalError as exc:
                text = str(exc)
                if "locked" in text or "busy" in text:
                    raise AuditStoreError(f"{what}: the store stayed locked by another process "
                                          f"for {BUSY_TIMEOUT_S:g}s", self.path) from None
                raise AuditStoreError(f"{what}: {text}", self.path) from None
            except sqlcipher.DatabaseError as exc:
                kind = (_StaleKey if getattr(exc, "sqlite_errorcode", None) == SQLITE_NOTADB
                        else AuditIntegrityError)
                raise kind(f"{what}: the database cannot be read ({exc}); it may be damaged "
                           "or rekeyed by another program", self.path) from None

    def _reopen(self) -> None:
        """Unlock the file again (another process rekeyed it) and swap the connection."""
        cipher = CipherFile.inspect(self.path)
        if cipher.salt != self._cipher.salt:
            raise AuditStoreError("the store file was replaced by another one", self.path)
        conn, key = self._unlock(self.path, cipher, self._provider, self._file)
        with self._lock:
            old, self._conn, self._db, self._key = (self._conn, conn,
                                                    sqlite_utils.Database(conn), key)
            if old is not None:
                old.close()

    # --- writing ---------------------------------------------------------

    def pseudonym(self, patient_id: str) -> str:
        """The store's pseudonym for PATIENT_ID (to find a patient's entries)."""
        return self._keys.pseudonym(patient_id)

    def append(self, record: OverrideRecord) -> AuditEntry:
        """Record one override; returns only after it is committed and fsync'd."""
        return self.append_batch([record])[0]

    def append_batch(self, records: list[OverrideRecord]) -> list[AuditEntry]:
        """Record several overrides in one transaction (one fsync): all of them or none.

        If another process rekeyed the store meanwhile, unlock it again (keyring: the new
        key; passphrase: asks) and retry once, so the clinician's action is not lost.
        """
        if not all(isinstance(r, OverrideRecord) for r in records):
            raise AuditInputError("append() takes OverrideRecord objects")
        self._refuse_if_read_only("not recorded")
        try:
            entries = self._append_batch(records)
        except _StaleKey:
            self._reopen()
            entries = self._append_batch(records)
        if entries:
            # After the commit: a crash in between leaves the witness behind, never ahead.
            with contextlib.suppress(OSError):
                self._witness.advance(entries[-1].seq, entries[-1].entry_hash)
        return entries

    def _refuse_if_read_only(self, what: str) -> None:
        if self.read_only:
            raise AuditIntegrityError(f"{what}: the store is open read-only because "
                                      f"{self.read_only}", self.path)

    def _append_batch(self, records: list[OverrideRecord]) -> list[AuditEntry]:
        host, user = socket.gethostname(), os_user()
        rows = []
        with self._sql("append") as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                count, prev = conn.execute("SELECT count, hash FROM head WHERE id = 1").fetchone()
                for seq, record in enumerate(records, count + 1):
                    body = canonical_json({
                        "v": ENTRY_VERSION, "seq": seq, "store": self.store_id, "time": _now(),
                        "os_user": user, "host": host, "clinician": record.clinician_id,
                        "action": Action(record.action).value,
                        "reason": record.reason_coding(), "reason_text": record.reason_text,
                        "patient": self._keys.pseudonym(record.patient_id),
                        "diagnosis": record.diagnosis, "decision": record.decision,
                        "differential_shown": record.differential_shown, "model": record.model,
                        "inputs_fingerprint": record.inputs_fingerprint, "app": __version__})
                    entry_hash = self._keys.entry_hash(seq, prev, body)
                    rows.append({"seq": seq, "body": body, "prev_hash": prev,
                                 "entry_hash": entry_hash})
                    prev = entry_hash
                if rows:
                    self._db["entries"].insert_all(rows, batch_size=500)
                    last = rows[-1]
                    conn.execute("UPDATE head SET count = ?, hash = ?, mac = ? WHERE id = 1",
                                 (last["seq"], last["entry_hash"],
                                  self._keys.head_mac(last["seq"], last["entry_hash"])))
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        return [AuditEntry.from_row(r["seq"], r["body"], r["prev_hash"], r["entry_hash"])
                for r in rows]

    # --- reading ---------------------------------------------------------

    def count(self) -> int:
        """Entries committed, per the head record."""
        with self._sql("count") as conn:
            return conn.execute("SELECT count FROM head WHERE id = 1").fetchone()[0]

    def entries(self, *, patient_id: str | None = None, clinician_id: str | None = None,
                action: Action | str | None = None, since: datetime | str | None = None,
                until: datetime | str | None = None, limit: int | None = None
                ) -> list[AuditEntry]:
        """Entries oldest first, filtered by patient, clinician, action and time (UTC)."""
        where, params = [], []
        if patient_id is not None:
            where.append("json_extract(body, '$.patient') = ?")
            params.append(self._keys.pseudonym(patient_id))
        if clinician_id is not None:
            where.append("json_extract(body, '$.clinician') = ?")
            params.append(clinician_id)
        if action is not None:
            try:
                params.append(Action(action).value)
            except ValueError:
                raise AuditInputError(f"unknown action {action!r}", field="action") from None
            where.append("json_extract(body, '$.action') = ?")
        for bound, op in ((since, ">="), (until, "<=")):
            if bound is not None:
                where.append(f"json_extract(body, '$.time') {op} ?")
                params.append(_utc_text(bound, end_of_day=op == "<="))
        if limit is not None and limit < 1:
            raise AuditInputError("must be >= 1", field="limit")
        with self._sql("read entries"):
            rows = self._db["entries"].rows_where(" AND ".join(where) or None, params,
                                                  order_by="seq", limit=limit)
            return [AuditEntry.from_row(r["seq"], r["body"], r["prev_hash"], r["entry_hash"])
                    for r in rows]

    def info(self) -> dict[str, Any]:
        """Non-secret facts about the store, for `osler audit log` and the window."""
        with self._sql("read info") as conn:
            meta = dict(conn.execute("SELECT name, value FROM meta WHERE name IN "
                                     "('created', 'created_with', 'public_key')").fetchall())
        status = self._provider.keyring()
        return {"path": str(self.path), "store_id": self.store_id, "count": self.count(),
                "created": meta.get("created"), "created_with": meta.get("created_with"),
                "public_key": meta.get("public_key"), "key_source": self._key.source,
                "keyring": {"secure": status.secure, "backend": status.backend},
                "witness": str(self._witness.path), "read_only": self.read_only}

    # --- verifying -------------------------------------------------------

    def verify(self, anchor: Anchor | None = None, progress: Progress | None = None
               ) -> VerifyReport:
        """Check the WAL file, the whole chain, the witness (and ANCHOR if given).

        Runs on a separate snapshot: safe to call from a worker thread while the window
        keeps appending.
        """
        return self._verify(anchor, progress, check_witness=True)

    def _verify(self, anchor: Anchor | None, progress: Progress | None,
                check_witness: bool) -> VerifyReport:
        t0 = time.perf_counter()
        problems: list[Problem] = self._wal_problems()
        head: Head | None = None
        last, last_hash, cancelled = 0, GENESIS, False
        hash_at_count: str | None = None
        witness_problems: list[Problem] = []
        witnessed, unreadable = self._read_witness()  # before the snapshot: it only lags
        conn = self._reader()
        try:
            conn.execute("BEGIN")  # one consistent snapshot for every read below
            row = conn.execute("SELECT count, hash, mac FROM head WHERE id = 1").fetchone()
            head = Head(*row) if row else None
            total = conn.execute("SELECT count(*) FROM entries").fetchone()[0]
            quick = [r[0] for r in conn.execute("PRAGMA quick_check(5)").fetchall()]
            if quick != ["ok"]:
                problems.append(Problem(None, "corrupt", "SQLite structure check failed: "
                                        + " ".join("; ".join(quick).split())))

            def rows() -> Iterator[tuple[int, str, str, str]]:
                return conn.execute("SELECT seq, body, prev_hash, entry_hash FROM entries "
                                    "ORDER BY seq")

            intact, last, last_hash = fast_check(rows(), head, self._keys, total, progress)
            if not intact:
                problems.extend(classify(rows(), head, self._keys, total, progress))
                if not problems:
                    problems.append(Problem(None, "modified", "the chain does not verify"))
            if anchor is not None and 0 < anchor.count <= last:
                hit = conn.execute("SELECT body, prev_hash, entry_hash FROM entries WHERE "
                                   "seq = ?", (anchor.count,)).fetchone()
                if hit and self._keys.entry_hash(anchor.count, hit[1], hit[0]) == hit[2]:
                    hash_at_count = hit[2]
            if check_witness:
                witness_problems = self._witness_problems(conn, witnessed, unreadable)
        except Cancelled:
            cancelled = True
        except sqlcipher.DatabaseError as exc:
            problems.append(Problem(None, "corrupt", f"the database cannot be read: {exc}"))
        finally:
            conn.close()

        def covered(seq: int) -> bool:
            return any(p.seq == seq or (p.kind in ("truncated", "rollback")
                                        and p.seq is not None and p.seq <= seq)
                       for p in problems)

        if witnessed is None or not covered(witnessed.count):  # not already reported
            problems.extend(witness_problems)
        anchor_doc = None
        if anchor is not None and not cancelled:
            anchor_doc = anchor.summary()
            problems.extend(check_against(anchor, self.store_id, self._keys.public_key(),
                                          last, hash_at_count, covered))
        head_ok = head is not None and problems == [] and not cancelled
        return VerifyReport(path=str(self.path), store_id=self.store_id,
                            count=head.count if head_ok and head else last,
                            head_hash=head.hash if head_ok and head else last_hash,
                            problems=problems, anchor=anchor_doc,
                            elapsed_s=time.perf_counter() - t0, cancelled=cancelled)

    def _wal_problems(self) -> list[Problem]:
        """The WAL damage found when the store was opened, or found in the live WAL now."""
        if self._damage is not None:
            return [self._damage]
        try:
            wal = self._inspect_wal(self.path)
            if wal is not None and wal.damaged:
                time.sleep(0.05)  # not a WAL being restarted by a writer right now?
                wal = self._inspect_wal(self.path)
        except AuditStoreError:
            return []
        if wal is None or not wal.damaged:
            return []
        return [Problem(None, "corrupt", f"{wal.describe()} (damaged while this store was "
                                         "open: close Osler and open the store again to keep "
                                         "a copy aside)")]

    # --- witness ---------------------------------------------------------

    def _read_witness(self) -> tuple[Witnessed | None, str | None]:
        """(the witnessed head, or None if there is no witness file; why it is unusable)."""
        try:
            return self._witness.read(), None
        except WitnessUnreadable as exc:
            return None, str(exc)

    def _witness_problems(self, conn: sqlcipher.Connection, witnessed: Witnessed | None,
                          unreadable: str | None) -> list[Problem]:
        """What the store, in CONN's snapshot, gets wrong against its witness (see witness.py).

        Consistent: the witnessed entry is in the store, authentic, as entry #count (the
        store may be ahead of it). A missing witness is a problem only for a store marked
        as having one that already has entries.
        """
        where = self._witness.path
        if unreadable is not None:
            return [Problem(None, "witness", f"the witness file {where} is unusable "
                                             f"({unreadable}): rollback and truncation "
                                             "cannot be ruled out")]
        last = conn.execute("SELECT max(seq) FROM entries").fetchone()[0] or 0
        if witnessed is None:
            if self._witness_expected and last > 0:
                return [Problem(None, "witness", f"the witness file {where} is missing "
                                                 "(deleted, or the store was copied without "
                                                 "it): rollback and truncation cannot be "
                                                 "ruled out")]
            return []
        if witnessed.count == 0 or self._holds(conn, witnessed):
            return []
        if last < witnessed.count:
            return [Problem(last + 1, "rollback",
                            f"the store ends at entry #{last} but its witness ({where.name}) "
                            f"recorded {witnessed.count} entries: an older copy of the "
                            "database was put back, the end of its log (WAL) was lost, or "
                            "entries were removed by someone holding the key")]
        return [Problem(witnessed.count, "modified",
                        f"entry #{witnessed.count} is not the one its witness ({where.name}) "
                        "recorded: an older copy of the database was put back and appended "
                        "to since, or the history was rewritten by someone holding the key")]

    def _holds(self, conn: sqlcipher.Connection, witnessed: Witnessed) -> bool:
        """Whether the store holds the witnessed entry, authentic (wherever it now sits)."""
        rows = conn.execute("SELECT body, prev_hash, entry_hash FROM entries WHERE seq = ?",
                            (witnessed.count,)).fetchall()
        if not (rows and rows[0][2] == witnessed.head_hash):
            rows = conn.execute("SELECT body, prev_hash, entry_hash FROM entries WHERE "
                                "entry_hash = ?", (witnessed.head_hash,)).fetchall()
        for body, prev, entry_hash in rows:
            try:
                good = self._keys.entry_hash(witnessed.count, prev, body)
            except (ValueError, TypeError):
                continue
            if hmac.compare_digest(good, witnessed.head_hash) and entry_hash == good:
                return True
        return False

    def _check_witness_on_open(self) -> None:
        """Compare with the witness; disagreeing, the store is read-only (so that appends do
        not overwrite the evidence); agreeing, the witness is created or moved forward."""
        witnessed, unreadable = self._read_witness()  # before the snapshot: it only lags
        try:
            with self._sql("check against the witness") as conn:
                conn.execute("BEGIN")
                try:
                    problems = self._witness_problems(conn, witnessed, unreadable)
                    count, head_hash, mac = conn.execute(
                        "SELECT count, hash, mac FROM head WHERE id = 1").fetchone()
                finally:
                    conn.execute("COMMIT")
        except AuditIntegrityError as exc:  # damaged pages: `verify` names them
            self.read_only = self.read_only or exc.message
            return
        self._witness_found = problems
        if problems:
            if not self.read_only:
                self.read_only = f"{problems[0]}; {RESET_HINT}"
            return
        if (self.read_only or self._file != self.path
                or not hmac.compare_digest(self._keys.head_mac(count, head_hash), mac)):
            return  # a copy of a damaged store, or a forged head: witness nothing
        try:
            if witnessed is None:
                self._witness.create(count, head_hash)
            elif count > witnessed.count:
                self._witness.advance(count, head_hash)
        except OSError:
            return  # a read-only folder: nothing to witness with
        if not self._witness_expected:
            self._mark_witnessed()

    def _mark_witnessed(self) -> None:
        """Record in the database that it has a witness, so that deleting it is noticed."""
        with contextlib.suppress(AuditError), self._sql("mark the witness") as conn:
            conn.execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('witness', '1')")
            self._witness_expected = True

    def reset_witness(self) -> str:
        """Accept the store as it is now (e.g. after restoring a backup on purpose): a new
        witness of its head; the old witness file is kept as `<witness>.replaced-<UTC>`.

        Refused while the WAL is damaged or when the chain itself does not verify.
        """
        if self._damage is not None:
            raise AuditIntegrityError(f"the witness was not reset: {self._damage.message}",
                                      self.path)
        report = self._verify(None, None, check_witness=False)
        if not report.ok:
            raise AuditIntegrityError(f"the witness was not reset: the store does not verify: "
                                      f"{report.problems[0]}", self.path)
        old = self._witness.path
        kept = None
        try:
            if old.exists():
                kept = old.with_name(f"{old.name}.replaced-{_stamp()}")
                shutil.copy2(old, kept)
            self._witness.create(report.count, report.head_hash, replace=True)
        except OSError as exc:
            raise AuditStoreError(f"cannot write the witness: {exc.strerror or exc}",
                                  old) from None
        self._mark_witnessed()
        self.read_only = None
        return (f"the witness now records {report.count} entries (head "
                f"{report.head_hash[:16]})" + (f"; the old one is kept as {kept}" if kept
                                                else ""))

    def recover(self) -> str:
        """After a damaged WAL: make the entries that survive it (every transaction before
        the first bad frame, what this read-only view shows) the live store again, so that
        overrides can be recorded.

        The damaged files stay in the `audit.db.damaged-*` folder (they were copied there on
        opening and are checked to be the live ones, unchanged, before anything is
        replaced); the witness is then reset to the recovered head, its old file kept.
        Refused while another process has the store open, when the surviving entries do
        not verify, or when the WAL is not damaged (`reset-witness` is for a witness that
        disagrees)."""
        if self._damage is None or self._file == self.path:
            raise AuditStoreError(
                "nothing to recover: the store's WAL is not damaged"
                + (f" ({self.read_only}; if that is expected, `osler audit reset-witness`)"
                   if self.read_only else ""), self.path)
        kept = self._file.parent.parent  # <kept>/read-only-view/<name>
        report = self._verify(None, None, check_witness=False)
        chain = [p for p in report.problems if p is not self._damage]
        if chain:
            raise AuditIntegrityError(f"not recovered: the entries that survive do not "
                                      f"verify: {chain[0]}", self.path)
        live = [f for f in _companions(self.path)[:2] if f.exists()]
        changed = [f.name for f in live if not _same_file(f, kept / f.name)]
        if changed:
            raise AuditStoreError(f"not recovered: {', '.join(changed)} changed since the "
                                  f"copy in {kept} was made; open the store again first",
                                  self.path)
        if _in_use(self.path):
            raise AuditStoreError("not recovered: another program has the store open; close "
                                  "every Osler window and try again", self.path)
        with self._lock:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the private copy's
            survived = self._conn.execute("SELECT count FROM head WHERE id = 1").fetchone()[0]
            self._conn.close()
            self._conn = None  # type: ignore[assignment]
        view = self._file
        tmp = self.path.with_name(f".{self.path.name}.recovered-{_stamp()}")
        try:
            shutil.copyfile(view, tmp)
            fd = os.open(tmp, os.O_RDWR)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
            for f in _companions(self.path)[1:3]:  # the damaged WAL and its index
                f.unlink(missing_ok=True)
            _fsync_dir(self.path.parent)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise AuditStoreError(f"not recovered: {exc.strerror or exc} (the damaged files "
                                  f"are kept in {kept})", self.path) from None
        finally:
            shutil.rmtree(view.parent, ignore_errors=True)
            self._file = self.path
        store = AuditStore.open(self.path, self._provider, create=False)
        try:
            witness = store.reset_witness()
        finally:
            store.close()
        return (f"recovered {survived} entries (those before the WAL's damage); the damaged "
                f"files stay in {kept}; {witness}")

    def _reader(self) -> sqlcipher.Connection:
        """A second connection for long reads (verify), following a rekey made elsewhere."""
        with self._lock:
            if self._conn is None:
                raise AuditStoreError("the store is closed", self.path)
            try:
                return _connect(self._file, self._key.key, self._cipher.salt)
            except _WrongKey:
                self._reopen()
                try:
                    return _connect(self._file, self._key.key, self._cipher.salt)
                except _WrongKey:
                    raise AuditKeyError("cannot decrypt with the key that opened it",
                                        self.path) from None

    def anchor(self) -> Anchor:
        """A signed checkpoint of the current head; refused when the store does not verify."""
        report = self.verify()
        if not report.ok:
            raise AuditIntegrityError(f"does not verify, so no anchor was made: "
                                      f"{report.problems[0]}", self.path)
        anchor = Anchor(store_id=self.store_id, count=report.count, head_hash=report.head_hash,
                        time=_now(), public_key=self._keys.public_key(), signature="")
        return dataclasses.replace(anchor, signature=self._keys.sign(anchor.payload()))

    # --- export ----------------------------------------------------------

    def export_fhir(self, path: Path | str, *, overwrite: bool = False,
                    **filters: Any) -> int:
        """Write a FHIR R4 Bundle (AuditEvent + Provenance per entry) to PATH only.

        FILTERS are those of `entries()`. Returns the number of entries exported.
        """
        from osler.audit.fhir_export import build_bundle, write_export

        entries = self.entries(**filters)
        bundle = build_bundle(entries, store_id=self.store_id,
                              public_key=self._keys.public_key(), sign=self._keys.sign)
        write_export(Path(path), bundle, overwrite=overwrite)
        return len(entries)

    # --- key rotation ----------------------------------------------------

    @property
    def key_source(self) -> Source:
        """Where the current database key came from: "keyring" or "passphrase"."""
        return self._key.source

    def rekey(self, to: Source | None = None, passphrase: str | None = None) -> str:
        """Re-encrypt the store under a new key: a fresh random keyring key or a new passphrase.

        TO defaults to the current mode. Crash-safe: the keyring keeps the new key as
        pending until SQLCipher has committed it, and every older key as retired (for old
        backups). Returns a description of the new key's source.
        """
        if self._damage is not None:
            self._refuse_if_read_only("not rekeyed")
        target: Source = to or ("passphrase" if passphrase is not None else self._key.source)
        ref = self._cipher.store_ref
        new = self._provider.rekey_target(ref, self._cipher.salt, target, passphrase)
        if new.key == self._key.key:
            raise AuditKeyError("the new key is the same as the current one", self.path)
        error: AuditError | None = None
        try:
            with self._sql("rekey") as conn:
                conn.execute(f"PRAGMA rekey = {raw_key_pragma(new.key, self._cipher.salt)}")
            with contextlib.suppress(AuditError), self._sql("checkpoint") as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except AuditError as exc:
            error = exc
        # Drop the new key only when the file provably does not open with it.
        try:
            _connect(self.path, new.key, self._cipher.salt).close()
        except _WrongKey:
            self._provider.abandon(ref, new)
            raise error or AuditStoreError("rekey did not take effect", self.path) from None
        except AuditError:
            raise error or AuditStoreError("cannot tell whether the rekey took effect; the "
                                           "new key is kept as pending", self.path) from None
        old, self._key = self._key, new
        self._provider.finish_rekey(ref, old, new)
        return new.label


def _utc_text(value: datetime | str, end_of_day: bool = False) -> str:
    """UTC ISO text for a filter bound; a bare date as an upper bound means its whole day."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise AuditInputError(f"not an ISO date/time: {value!r}", field="since/until") \
                from None
        if end_of_day and len(value.strip()) == 10:
            parsed = parsed.replace(hour=23, minute=59, second=59, microsecond=999999)
        value = parsed
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")
