"""Where a store's 256-bit database key comes from: the OS keyring, or else a passphrase.

Keyring mode: a random key in the OS keyring (service "osler", one entry per store named by
the store file's random salt, never its path). Only backends that keep secrets encrypted
by the OS count (macOS Keychain, Windows Credential Locker, Secret Service, KWallet); with
anything else (the fail/null backends, keyrings.alt plaintext files) Osler never falls back
to plaintext: it derives the key from a passphrase with scrypt instead. A key is never
written to disk by Osler.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sys
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from osler.audit.errors import AuditKeyError

SERVICE = "osler"
PASSPHRASE_ENV = "OSLER_PASSPHRASE"
SCRYPT_N = 2**17
SCRYPT_R = 8
SCRYPT_P = 1
MIN_PASSPHRASE = 8
KEY_BYTES = 32

SECURE_BACKENDS = (
    "keyring.backends.macOS",
    "keyring.backends.Windows",
    "keyring.backends.SecretService",
    "keyring.backends.libsecret",
    "keyring.backends.kwallet",
)
"""Modules of keyring backends whose storage the OS encrypts; everything else is refused."""

Ask = Callable[[str, bool], "str | None"]
"""Interactive passphrase prompt: (message, is_new) -> passphrase, or None when cancelled.
When is_new is true the prompt must ask twice and return only a confirmed passphrase."""

Source = Literal["keyring", "passphrase"]


@dataclass(frozen=True)
class KeyringStatus:
    """Whether a secure OS keyring is usable here, which backend, and why (for selfcheck/UI)."""

    secure: bool
    backend: str
    reason: str


def keyring_status(backend: Any = None) -> KeyringStatus:
    """Judge BACKEND (default: keyring's choice for this machine) secure or not, with a reason."""
    import keyring

    try:
        kr = backend if backend is not None else keyring.get_keyring()
    except Exception as exc:  # a broken keyring configuration must not stop the app
        return KeyringStatus(False, "unknown", f"keyring backend failed to load: {exc}")
    name = f"{type(kr).__module__}.{type(kr).__name__}"
    members = list(getattr(kr, "backends", None) or [kr])
    secure = [b for b in members if _is_secure(b)]
    if secure:
        chosen = f"{type(secure[0]).__module__}.{type(secure[0]).__name__}"
        return KeyringStatus(True, chosen, "OS-encrypted secret store")
    if name.startswith("keyring.backends.fail"):
        why = "no keyring backend is available (headless system?)"
    elif name.startswith("keyrings.alt"):
        why = "keyrings.alt stores secrets in files Osler does not trust"
    else:
        why = "not an OS-encrypted secret store"
    return KeyringStatus(False, name, why)


def _is_secure(backend: Any) -> bool:
    module = type(backend).__module__
    if not any(module == m or module.startswith(m + ".") for m in SECURE_BACKENDS):
        return False
    try:
        return float(backend.priority) > 0
    except Exception:
        return False


def derive_passphrase_key(passphrase: str, salt: bytes, n: int = SCRYPT_N) -> bytes:
    """scrypt(passphrase NFC-normalised, salt, N, r=8, p=1) -> 32-byte database key.

    Every Osler version has normalised here, so stores made with a passphrase typed in
    another normal form (NFD on macOS) open with either form.
    """
    data = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    return hashlib.scrypt(data, salt=salt, n=n, r=SCRYPT_R, p=SCRYPT_P,
                          maxmem=256 * SCRYPT_R * n + (1 << 20), dklen=KEY_BYTES)


def check_new_passphrase(text: str) -> str:
    """TEXT NFC-normalised (what the key is derived from), if good enough for a new store or
    rekey: at least MIN_PASSPHRASE characters once normalised, not only whitespace."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise AuditKeyError("a passphrase must be valid Unicode text (it holds a lone "
                            "surrogate, e.g. from invalid UTF-8 bytes)",
                            field="passphrase") from None
    normal = unicodedata.normalize("NFC", text)
    if not normal.strip():
        raise AuditKeyError("a new passphrase cannot be only spaces", field="passphrase")
    if len(normal) < MIN_PASSPHRASE:
        raise AuditKeyError(f"a new passphrase needs at least {MIN_PASSPHRASE} characters",
                            field="passphrase")
    return normal


def terminal_ask(message: str, new: bool) -> str | None:
    """Ask on the terminal without echo (twice for a new passphrase); None when they differ."""
    import getpass

    first = getpass.getpass(f"{message}: ")
    if new and getpass.getpass("Repeat the passphrase: ") != first:
        print("The passphrases differ.", file=sys.stderr)
        return None
    return first


@dataclass(frozen=True)
class StoreKey:
    """One candidate database key and where it came from (for messages; never printed)."""

    key: bytes = field(repr=False)
    source: Source
    label: str


class KeyringUser:
    """What every Osler key store does with the OS keyring: judge it once (passphrase mode
    when `_use_keyring` is off) and reach the injected backend or keyring's own."""

    _backend: Any
    _use_keyring: bool
    _status: KeyringStatus | None

    def keyring(self) -> KeyringStatus:
        """The keyring verdict for this store (cached)."""
        if self._status is None:
            self._status = (keyring_status(self._backend) if self._use_keyring else
                            KeyringStatus(False, "disabled", "passphrase mode was chosen"))
        return self._status

    def _kr(self) -> Any:
        import keyring

        return self._backend if self._backend is not None else keyring.get_keyring()


class KeyProvider(KeyringUser):
    """Finds, creates and rotates database keys; the window passes `ask`, scripts OSLER_PASSPHRASE.

    `use_keyring=False` forces passphrase mode; `backend` injects a keyring backend object;
    `scrypt_n` is the scrypt cost for passphrase mode (a store must be opened with the cost
    it was created with; only tests lower it).
    """

    def __init__(self, *, passphrase: str | None = None, ask: Ask | None = None,
                 use_keyring: bool = True, backend: Any = None, scrypt_n: int = SCRYPT_N,
                 environ: Mapping[str, str] | None = None):
        self._passphrase = passphrase
        self._ask = ask
        self._use_keyring = use_keyring
        self._backend = backend
        self.scrypt_n = scrypt_n
        self._environ = os.environ if environ is None else environ
        self._status: KeyringStatus | None = None
        self._derived: dict[tuple[bytes, bytes], bytes] = {}
        self._entered: str | None = None

    def forget_entered(self) -> bool:
        """Drop a passphrase typed at the prompt (it did not fit); True if one was dropped."""
        dropped, self._entered = self._entered is not None, None
        return dropped

    # --- keyring ---------------------------------------------------------

    def _load_entry(self, ref: str) -> dict[str, Any]:
        try:
            raw = self._kr().get_password(SERVICE, ref)
        except Exception as exc:
            raise AuditKeyError(f"cannot read the OS keyring ({self.keyring().backend}): {exc}",
                                field="keyring") from None
        if not raw:
            return {}
        try:
            entry = json.loads(raw)
            return entry if isinstance(entry, dict) else {}
        except ValueError:
            return {}

    def _save_entry(self, ref: str, entry: dict[str, Any]) -> None:
        kr = self._kr()
        try:
            if any(entry.get(k) for k in ("key", "pending", "retired")):
                kr.set_password(SERVICE, ref, json.dumps({"v": 1, **entry}))
            elif kr.get_password(SERVICE, ref) is not None:
                kr.delete_password(SERVICE, ref)
        except Exception as exc:
            raise AuditKeyError(f"cannot write the OS keyring ({self.keyring().backend}): {exc}",
                                field="keyring") from None

    def _keyring_key(self, hex_key: str, what: str) -> StoreKey:
        return StoreKey(bytes.fromhex(hex_key), "keyring",
                        f"{what} in the OS keyring ({self.keyring().backend})")

    # --- passphrase ------------------------------------------------------

    def _get_passphrase(self, new: bool, purpose: str) -> tuple[str, str]:
        if self._passphrase is not None:
            text, label = self._passphrase, "the passphrase given"
        elif self._environ.get(PASSPHRASE_ENV):
            text, label = self._environ[PASSPHRASE_ENV], f"the passphrase in {PASSPHRASE_ENV}"
        elif self._entered is not None:
            text, label = self._entered, "the passphrase entered"
        elif self._ask is not None:
            asked = self._ask(purpose, new)
            if asked is None:
                raise AuditKeyError("no passphrase entered", field="passphrase")
            text, label = asked, "the passphrase entered"
            self._entered = asked
        else:
            status = self.keyring()
            why = "no key for this store in the OS keyring" if status.secure else status.reason
            raise AuditKeyError(
                f"needs a passphrase ({why}): set {PASSPHRASE_ENV} or run in a terminal to be "
                "asked", field="passphrase")
        if new:
            text = check_new_passphrase(text)
        return text, label

    def passphrase_key(self, salt: bytes, text: str, label: str) -> StoreKey:
        """Derive (once per provider, salt and passphrase) the key for a passphrase."""
        tag = (salt, hashlib.sha256(unicodedata.normalize("NFC", text).encode(
            "utf-8", "surrogatepass")).digest())
        if tag not in self._derived:
            try:
                self._derived[tag] = derive_passphrase_key(text, salt, self.scrypt_n)
            except UnicodeEncodeError:
                raise AuditKeyError(f"{label} is not valid Unicode text (invalid UTF-8 "
                                    "bytes?)", field="passphrase") from None
        return StoreKey(self._derived[tag], "passphrase", label)

    # --- what the store calls ------------------------------------------

    def candidates(self, ref: str, salt: bytes) -> Iterator[StoreKey]:
        """Keys to try for an existing store, keyring first; the passphrase only if needed."""
        if self.keyring().secure:
            entry = self._load_entry(ref)
            for what in ("key", "pending"):
                if entry.get(what):
                    yield self._keyring_key(entry[what], "the key" if what == "key" else
                                            "an unfinished rekey's key")
            for old in entry.get("retired") or []:
                yield self._keyring_key(old, "a retired key")
        text, label = self._get_passphrase(False, "Passphrase for the Osler audit trail")
        yield self.passphrase_key(salt, text, label)

    def new_key(self, ref: str, salt: bytes) -> StoreKey:
        """The key for a new store: random in the keyring when secure, else from a passphrase."""
        if self.keyring().secure:
            key = secrets.token_bytes(KEY_BYTES)
            self._save_entry(ref, {"key": key.hex()})
            return self._keyring_key(key.hex(), "a new key")
        text, label = self._get_passphrase(
            True, "Choose a passphrase for the new Osler audit trail (no secure OS keyring)")
        return self.passphrase_key(salt, text, label)

    def rekey_target(self, ref: str, salt: bytes, to: Source, passphrase: str | None = None
                     ) -> StoreKey:
        """A new key for rekeying: a random keyring key (saved as pending) or a new passphrase's."""
        if to == "keyring":
            status = self.keyring()
            if not status.secure:
                raise AuditKeyError(f"no secure OS keyring: {status.reason} ({status.backend})",
                                    field="keyring")
            key = secrets.token_bytes(KEY_BYTES)
            entry = self._load_entry(ref)
            entry["pending"] = key.hex()
            self._save_entry(ref, entry)
            return self._keyring_key(key.hex(), "the new key")
        if passphrase is not None:
            return self.passphrase_key(salt, check_new_passphrase(passphrase),
                                       "the new passphrase")
        if self._ask is None:
            raise AuditKeyError("needs the new passphrase: pass it from an environment "
                                "variable or run in a terminal to be asked", field="passphrase")
        asked = self._ask("New passphrase for the Osler audit trail", True)
        if asked is None:
            raise AuditKeyError("no new passphrase entered", field="passphrase")
        return self.rekey_target(ref, salt, "passphrase", asked)

    def finish_rekey(self, ref: str, old: StoreKey, new: StoreKey) -> None:
        """After the database is rekeyed: the new key becomes current, the old one retired."""
        if not self.keyring().secure:
            return
        entry = self._load_entry(ref)
        retired = [k for k in entry.get("retired") or [] if k != new.key.hex()]
        if old.source == "keyring" and old.key.hex() not in retired:
            retired.append(old.key.hex())
        entry = {"key": new.key.hex() if new.source == "keyring" else None, "pending": None,
                 "retired": retired}
        self._save_entry(ref, entry)

    def abandon(self, ref: str, key: StoreKey) -> None:
        """Drop KEY from the keyring entry (a new store or a rekey that did not happen)."""
        if key.source != "keyring" or not self.keyring().secure:
            return
        entry = self._load_entry(ref)
        for what in ("key", "pending"):
            if entry.get(what) == key.key.hex():
                entry[what] = None
        self._save_entry(ref, entry)
