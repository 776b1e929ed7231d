"""Keys derived from a store's own secret: chain MAC, pseudonyms, anchor signing, witness MAC.

The secret is random per store and lives inside the encrypted database, so it survives a
rekey (a new database key leaves chain, pseudonyms and anchors valid) and anyone who can
decrypt the database can also derive these keys (see docs/security.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

GENESIS = "0" * 64
"""prev_hash of entry #1."""

_ENTRY = b"osler-audit-entry/1\0"
_HEAD = b"osler-audit-head/1\0"
_PATIENT = b"osler-audit-patient/1\0"


def _derive(secret: bytes, label: str) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=None,
                info=f"osler-audit {label} v1".encode()).derive(secret)


@dataclass(frozen=True)
class StoreKeys:
    """The per-store keys, derived with HKDF-SHA256 from the 32-byte store secret."""

    chain_key: bytes = field(repr=False)
    pseudonym_key: bytes = field(repr=False)
    signing_key: Ed25519PrivateKey = field(repr=False)
    witness_key: bytes = field(repr=False)

    @classmethod
    def from_secret(cls, secret: bytes) -> StoreKeys:
        """Derive all keys; the same secret always gives the same keys."""
        if len(secret) != 32:
            raise ValueError("store secret must be 32 bytes")
        return cls(chain_key=_derive(secret, "chain"),
                   pseudonym_key=_derive(secret, "patient-pseudonym"),
                   signing_key=Ed25519PrivateKey.from_private_bytes(_derive(secret, "anchor-sign")),
                   witness_key=_derive(secret, "witness"))

    def entry_hash(self, seq: int, prev_hash: str, body: str) -> str:
        """HMAC-SHA256 over (seq, prev_hash, body): binds each entry to its place in the chain."""
        msg = _ENTRY + seq.to_bytes(8, "big") + bytes.fromhex(prev_hash) + body.encode("utf-8")
        return hmac.digest(self.chain_key, msg, "sha256").hex()

    def head_mac(self, count: int, head_hash: str) -> str:
        """MAC of the head record (entry count + last hash), which makes truncation visible."""
        msg = _HEAD + count.to_bytes(8, "big") + bytes.fromhex(head_hash)
        return hmac.new(self.chain_key, msg, hashlib.sha256).hexdigest()

    def pseudonym(self, patient_id: str) -> str:
        """Keyed, irreversible patient pseudonym: same patient, same store -> same value."""
        msg = _PATIENT + patient_id.encode("utf-8")
        return "pt-" + hmac.new(self.pseudonym_key, msg, hashlib.sha256).hexdigest()[:32]

    def public_key(self) -> str:
        """Base64 of the raw Ed25519 public key that checks this store's anchors and exports."""
        raw = self.signing_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return base64.b64encode(raw).decode("ascii")

    def sign(self, data: bytes) -> str:
        """Base64 Ed25519 signature of DATA."""
        return base64.b64encode(self.signing_key.sign(data)).decode("ascii")
