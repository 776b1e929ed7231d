"""The encrypted, append-only store of clinician overrides (SQLCipher through sqlite-utils).

Durability: WAL with synchronous=FULL, so every committed entry has been fsync'd; appends
run in BEGIN IMMEDIATE transactions, so concurrent writers (two windows, a script) queue
instead of losing entries. A store that cannot be opened is never modified or deleted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import getpass
import os
import secrets
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

DB_ENV = "OSLER_AUDIT_DB"
FORMAT = "osler-audit/1"
BUSY_TIMEOUT_S = 30.0
SQLITE_NOTADB = 26


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


class AuditStore:
    """One audit trail: append overrides, read them back, verify, anchor, export, rekey."""

    def __init__(self, path: Path, conn: sqlcipher.Connection, cipher: CipherFile,
                 key: StoreKey, provider: KeyProvider):
        self.path = path
        self._conn = conn
        self._db = sqlite_utils.Database(conn)
        self._cipher = cipher
        self._key = key
        self._provider = provider
        self._lock = threading.RLock()
        meta = self._read_meta(conn)
        self.store_id: str = meta["store_id"]
        self.created: str = meta.get("created", "")
        self._keys = StoreKeys.from_secret(bytes.fromhex(meta["secret"]))

    # --- opening ---------------------------------------------------------

    @classmethod
    def open(cls, path: Path | str | None = None, key_provider: KeyProvider | None = None,
             create: bool = True) -> AuditStore:
        """Open (or, with CREATE, make) the store at PATH (default: `default_path()`)."""
        path = Path(path).expanduser() if path is not None else default_path()
        provider = key_provider or KeyProvider()
        if not path.exists() and not path.is_symlink():
            if not create:
                raise AuditStoreError("no audit store here (nothing has been recorded yet?)",
                                      path)
            cls._create(path, provider)
        cipher = CipherFile.inspect(path)
        conn, key = cls._unlock(path, cipher, provider)
        try:
            return cls(path, conn, cipher, key, provider)
        except BaseException:
            conn.close()
            raise

    @staticmethod
    def _unlock(path: Path, cipher: CipherFile, provider: KeyProvider
                ) -> tuple[sqlcipher.Connection, StoreKey]:
        """Try the provider's keys in turn; a mistyped passphrase is asked for once more."""
        for attempt in (1, 2):
            tried: list[StoreKey] = []
            try:
                for candidate in provider.candidates(cipher.store_ref, cipher.salt):
                    try:
                        return _connect(path, candidate.key, cipher.salt), candidate
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
        tmp = path.with_name(f".{path.name}.creating-{os.getpid()}-{secrets.token_hex(4)}")
        placed = False
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.close(fd)
            conn = _connect(tmp, key.key, salt)
            try:
                cls._init_schema(conn, key.source, provider.scrypt_n)
                conn.execute("PRAGMA journal_mode = WAL")
            finally:
                conn.close()
            fd = os.open(tmp, os.O_RDWR)  # Windows cannot fsync a read-only handle
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            placed = cls._place(tmp, path)
            _fsync_dir(path.parent)
        except OSError as exc:
            raise AuditStoreError(f"cannot create: {exc.strerror or exc}", path) from None
        except _WrongKey:
            raise AuditStoreError("could not initialise a new store", path) from None
        finally:
            for leftover in (tmp, tmp.with_name(tmp.name + "-wal"),
                             tmp.with_name(tmp.name + "-shm")):
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()
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
    def _init_schema(conn: sqlcipher.Connection, source: Source, scrypt_n: int) -> None:
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
            ])
            db["head"].insert({"id": 1, "count": 0, "hash": GENESIS,
                               "mac": keys.head_mac(0, GENESIS)})

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
        conn, key = self._unlock(self.path, cipher, self._provider)
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
        try:
            return self._append_batch(records)
        except _StaleKey:
            self._reopen()
            return self._append_batch(records)

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
                "keyring": {"secure": status.secure, "backend": status.backend}}

    # --- verifying -------------------------------------------------------

    def verify(self, anchor: Anchor | None = None, progress: Progress | None = None
               ) -> VerifyReport:
        """Check the whole chain (and against ANCHOR if given) on a separate snapshot.

        Safe to call from a worker thread while the window keeps appending.
        """
        t0 = time.perf_counter()
        problems: list[Problem] = []
        head: Head | None = None
        last, last_hash, cancelled = 0, GENESIS, False
        hash_at_count: str | None = None
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
        except Cancelled:
            cancelled = True
        except sqlcipher.DatabaseError as exc:
            problems.append(Problem(None, "corrupt", f"the database cannot be read: {exc}"))
        finally:
            conn.close()
        anchor_doc = None
        if anchor is not None and not cancelled:
            anchor_doc = anchor.summary()

            def covered(seq: int) -> bool:
                return any(p.seq == seq or (p.kind == "truncated" and p.seq is not None
                                            and p.seq <= seq) for p in problems)

            problems.extend(check_against(anchor, self.store_id, self._keys.public_key(),
                                          last, hash_at_count, covered))
        head_ok = head is not None and problems == [] and not cancelled
        return VerifyReport(path=str(self.path), store_id=self.store_id,
                            count=head.count if head_ok and head else last,
                            head_hash=head.hash if head_ok and head else last_hash,
                            problems=problems, anchor=anchor_doc,
                            elapsed_s=time.perf_counter() - t0, cancelled=cancelled)

    def _reader(self) -> sqlcipher.Connection:
        """A second connection for long reads (verify), following a rekey made elsewhere."""
        with self._lock:
            if self._conn is None:
                raise AuditStoreError("the store is closed", self.path)
            try:
                return _connect(self.path, self._key.key, self._cipher.salt)
            except _WrongKey:
                self._reopen()
                try:
                    return _connect(self.path, self._key.key, self._cipher.salt)
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
