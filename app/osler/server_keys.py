"""This workstation's API key for each clinic server, never in plaintext settings.

In the OS keyring when it is one the OS encrypts (the audit trail's rule, audit/keys.py:
Keychain, Credential Locker, Secret Service, KWallet), one entry per server origin
(scheme://host:port). Without a secure keyring, in a file under the per-user config folder,
each key encrypted with AES-256-GCM under a key derived from a passphrase with scrypt (the
audit trail's derivation). Scripts may instead pass the key in $OSLER_SERVER_KEY.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from osler.audit.keys import (
    PASSPHRASE_ENV,
    SCRYPT_N,
    KeyringStatus,
    KeyringUser,
    check_new_passphrase,
    derive_passphrase_key,
)

SERVICE = "osler-clinic-server"
KEY_ENV = "OSLER_SERVER_KEY"
FILE_NAME = "server-keys.json"

Ask = Callable[[str, bool], "str | None"]
"""(message, is_new) -> passphrase or None (as audit/keys.py's prompt)."""


class ServerKeyError(Exception):
    """The key cannot be stored or read (no passphrase, wrong passphrase, broken keyring)."""


def keys_file() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("osler", appauthor=False)) / FILE_NAME


@dataclass(frozen=True, slots=True)
class StoredKey:
    key: str
    where: str  # "the OS keyring (backend)" or "the passphrase-protected file PATH"

    def __repr__(self) -> str:
        return f"StoredKey(<hidden>, where={self.where!r})"


class ServerKeyStore(KeyringUser):
    """Get, set and forget the API key for a server origin."""

    def __init__(self, *, path: Path | None = None, backend: Any = None,
                 use_keyring: bool = True, ask: Ask | None = None,
                 passphrase: str | None = None, scrypt_n: int = SCRYPT_N,
                 environ: Mapping[str, str] | None = None):
        self.path = path or keys_file()
        self._backend = backend
        self._use_keyring = use_keyring
        self._ask = ask
        self._passphrase = passphrase
        self._n = scrypt_n
        self._environ = os.environ if environ is None else environ
        self._status: KeyringStatus | None = None

    # --- keyring ----------------------------------------------------------------------
    def where(self) -> str:
        status = self.keyring()
        return (f"the OS keyring ({status.backend})" if status.secure else
                f"the passphrase-protected file {self.path}")

    # --- the passphrase file ------------------------------------------------------------
    def _read_file(self) -> dict[str, Any]:
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise ServerKeyError(f"{self.path}: unreadable ({exc})") from None
        return doc if isinstance(doc, dict) else {}

    def _write_file(self, doc: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=1)
        os.replace(tmp, self.path)

    def _file_key(self, doc: dict[str, Any], new: bool) -> bytes:
        text = self._passphrase or self._environ.get(PASSPHRASE_ENV)
        if not text and self._ask is not None:
            text = self._ask("Passphrase protecting this workstation's clinic-server keys",
                             new)
        if not text:
            raise ServerKeyError(
                f"no secure OS keyring ({self.keyring().reason}): the key is kept encrypted "
                f"with a passphrase; set {PASSPHRASE_ENV} or run in a terminal to be asked")
        if new:
            text = check_new_passphrase(text)
        salt = base64.b64decode(doc["salt"])
        return derive_passphrase_key(text, salt, int(doc.get("n", self._n)))

    # --- what callers use -----------------------------------------------------------------
    def get(self, origin: str) -> StoredKey | None:
        """The stored key for ORIGIN, or None when there is none."""
        if self.keyring().secure:
            try:
                value = self._kr().get_password(SERVICE, origin)
            except Exception as exc:
                raise ServerKeyError(f"cannot read the OS keyring: {exc}") from None
            return StoredKey(value, self.where()) if value else None
        doc = self._read_file()
        entry = (doc.get("entries") or {}).get(origin)
        if not entry:
            return None
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        try:
            plain = AESGCM(self._file_key(doc, False)).decrypt(
                base64.b64decode(entry["nonce"]), base64.b64decode(entry["ct"]),
                origin.encode())
        except InvalidTag:
            raise ServerKeyError(f"{self.path}: wrong passphrase (the key for {origin} does "
                                 "not decrypt)") from None
        return StoredKey(plain.decode(), self.where())

    def set(self, origin: str, key: str) -> str:
        """Store KEY for ORIGIN; where it went, in words."""
        if self.keyring().secure:
            try:
                self._kr().set_password(SERVICE, origin, key)
            except Exception as exc:
                raise ServerKeyError(f"cannot write the OS keyring: {exc}") from None
            return self.where()
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        doc = self._read_file()
        new = "salt" not in doc
        if new:
            doc = {"v": 1, "kdf": "scrypt", "n": self._n,
                   "salt": base64.b64encode(secrets.token_bytes(16)).decode(), "entries": {}}
        secret = self._file_key(doc, new)
        for other, entry in (doc.get("entries") or {}).items():  # same passphrase for all
            try:
                AESGCM(secret).decrypt(base64.b64decode(entry["nonce"]),
                                       base64.b64decode(entry["ct"]), other.encode())
            except Exception:
                raise ServerKeyError(f"{self.path}: wrong passphrase (it does not open the "
                                     f"key stored for {other})") from None
            break
        nonce = secrets.token_bytes(12)
        ct = AESGCM(secret).encrypt(nonce, key.encode(), origin.encode())
        doc.setdefault("entries", {})[origin] = {"nonce": base64.b64encode(nonce).decode(),
                                                 "ct": base64.b64encode(ct).decode()}
        self._write_file(doc)
        return self.where()

    def delete(self, origin: str) -> bool:
        """Forget the key for ORIGIN; True if there was one."""
        if self.keyring().secure:
            kr = self._kr()
            try:
                if kr.get_password(SERVICE, origin) is None:
                    return False
                kr.delete_password(SERVICE, origin)
            except Exception as exc:
                raise ServerKeyError(f"cannot change the OS keyring: {exc}") from None
            return True
        doc = self._read_file()
        if origin not in (doc.get("entries") or {}):
            return False
        del doc["entries"][origin]
        self._write_file(doc)
        return True


def api_key_for(origin: str, store: ServerKeyStore | None = None,
                environ: Mapping[str, str] | None = None) -> str | None:
    """The key to send to ORIGIN: $OSLER_SERVER_KEY, else the stored one, else None."""
    env = os.environ if environ is None else environ
    if env.get(KEY_ENV):
        return env[KEY_ENV]
    stored = (store or ServerKeyStore()).get(origin)
    return stored.key if stored else None
