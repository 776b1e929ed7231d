"""The Osler project's Ed25519 signature over the shipped model's SHA256SUMS.

SHA256SUMS proves the files match the list, but whoever can rewrite the files can rewrite
the list too. The project signs the list (packaging/sign_model.py) with a key whose private
half never enters the repository; the public half is this module's constant, in the code,
so replacing the model folder or resources/ cannot replace it. A valid signature proves
the files are the ones the project published, nothing about clinical validity.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from pathlib import Path
from typing import Any

from osler.reasoning.checksums import SUMS, verify_folder
from osler.reasoning.errors import ModelLoadError

SIGNATURE = "SHA256SUMS.sig"
FORMAT = "osler-sha256sums-signature 1"
DOMAIN = b"osler-model-sha256sums-v1\n"  # signed bytes: DOMAIN + SHA256SUMS as on disk
# key id (first 16 hex digits of the SHA-256 of the raw public key) -> raw key, base64.
PROJECT_KEYS: dict[str, str] = {
    "d7ca97ed73bbb825": "aJ95GiJVoYwMpl8qokwMBjia+jfrE0aMTvrI8UfVCFo=",
}
UNSIGNED_OK = (SUMS, SIGNATURE)  # besides *.md (model card): files outside the list
REPAIR = ("the shipped model is not the one the Osler project signed; reinstall Osler (the "
          "same installer, or `pip install --force-reinstall --no-deps osler` from the "
          "clinic's wheelhouse) to restore it")


class ModelSignatureError(ModelLoadError):
    """The shipped model's checksum list is unsigned, or not signed by the project's key."""


def key_id(raw_public_key: bytes) -> str:
    """Short, stable name of a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(raw_public_key).hexdigest()[:16]


def sign_sums(sums: bytes, private_key: Any) -> str:
    """The text of SHA256SUMS.sig for these SHA256SUMS bytes (an Ed25519PrivateKey)."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    sig = base64.b64encode(private_key.sign(DOMAIN + sums)).decode("ascii")
    return f"{FORMAT}\nkey-id: {key_id(raw)}\ned25519: {sig}\n"


def verify_sums_signature(folder: Path, keys: dict[str, str] | None = None) -> str:
    """Check SHA256SUMS.sig against SHA256SUMS with a project key; returns the key id."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    keys = PROJECT_KEYS if keys is None else keys
    where = str(folder)
    try:
        sums = (folder / SUMS).read_bytes()
    except OSError as exc:
        raise ModelSignatureError(f"unreadable ({exc.strerror or exc}); {REPAIR}", where,
                                  SUMS) from exc
    try:
        text = (folder / SIGNATURE).read_text(encoding="ascii")
    except FileNotFoundError as exc:
        raise ModelSignatureError(f"missing: the checksum list is not signed; {REPAIR}",
                                  where, SIGNATURE) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelSignatureError(f"unreadable ({exc}); {REPAIR}", where, SIGNATURE) from exc
    fields = _parse(text)
    if fields is None:
        raise ModelSignatureError(f"not an Osler signature file; {REPAIR}", where, SIGNATURE)
    kid, sig = fields
    if kid not in keys:
        raise ModelSignatureError(f"signed with key {kid}, which is not an Osler project key; "
                                  f"{REPAIR}", where, SIGNATURE)
    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(keys[kid])).verify(
            sig, DOMAIN + sums)
    except InvalidSignature as exc:
        raise ModelSignatureError(f"the signature does not match SHA256SUMS (the list or the "
                                  f"signature was changed); {REPAIR}", where,
                                  SIGNATURE) from exc
    return kid


def _parse(text: str) -> tuple[str, bytes] | None:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) != 3 or lines[0] != FORMAT:
        return None
    fields = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    try:
        sig = base64.b64decode(fields.get("ed25519", ""), validate=True)
    except (binascii.Error, ValueError):
        return None
    kid = fields.get("key-id", "")
    if len(sig) != 64 or not kid:
        return None
    return kid, sig


def verify_shipped(folder: Path, required: tuple[str, ...] = ()) -> dict[str, str]:
    """The shipped model: signed list, every listed file matching it, nothing unlisted that
    a loader could read. Returns the sums."""
    verify_sums_signature(folder)
    try:
        sums = verify_folder(folder, required)
    except ModelLoadError as exc:
        raise ModelSignatureError(f"{exc.message}; {REPAIR}", exc.path, exc.file) from exc
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_dir() or rel in sums or rel in UNSIGNED_OK or path.suffix == ".md":
            continue
        raise ModelSignatureError(f"not part of the signed model (not listed in SHA256SUMS); "
                                  f"{REPAIR}", str(folder), rel)
    return sums


def is_shipped_folder(folder: Path) -> bool:
    """True for the install's own model folder (by its resolved path), however it was named."""
    from osler.locations import default_model_dir

    try:
        return Path(folder).expanduser().resolve() == default_model_dir().resolve()
    except OSError:
        return False
