"""Signed checkpoints (entry count + head hash) that the user keeps away from the store.

A later `verify --anchor` compares the store with the anchor: fewer entries than the anchor
recorded means truncation or a rolled-back database file; a different hash at the anchor's
count means history was rewritten, even by someone who holds the key.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from osler.audit.chain import Problem
from osler.audit.errors import AuditAnchorError
from osler.audit.override import canonical_json

ANCHOR_FORMAT = "osler-audit-anchor/1"
MAX_ANCHOR_BYTES = 64_000


@dataclass(frozen=True)
class Anchor:
    """A checkpoint of one store, signed with the store's Ed25519 key."""

    store_id: str
    count: int
    head_hash: str
    time: str
    public_key: str
    signature: str
    format: str = ANCHOR_FORMAT

    def payload(self) -> bytes:
        """The exact bytes the signature covers (everything but the signature)."""
        fields = {k: v for k, v in asdict(self).items() if k != "signature"}
        return canonical_json(fields).encode("utf-8")

    def signature_valid(self) -> bool:
        """Whether the signature matches the payload under the anchor's own public key."""
        try:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(self.public_key,
                                                                      validate=True))
            key.verify(base64.b64decode(self.signature, validate=True), self.payload())
            return True
        except (InvalidSignature, ValueError):
            return False

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["note"] = ("Osler audit anchor: keep this file away from the computer holding the "
                       "audit store (USB stick, printout). `osler audit verify --anchor FILE` "
                       "checks the store against it.")
        return doc

    def save(self, path: Path | str, overwrite: bool = False) -> Path:
        """Write the anchor as JSON to PATH only; refuse to replace a file unless OVERWRITE."""
        path = Path(path)
        data = (json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
        try:
            fd = os.open(path, flags, 0o644)
        except FileExistsError:
            raise AuditAnchorError("already exists (choose another name or overwrite)",
                                   path) from None
        except OSError as exc:
            raise AuditAnchorError(f"cannot write: {exc.strerror or exc}", path) from None
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        return path

    @classmethod
    def load(cls, path: Path | str) -> Anchor:
        """Read an anchor file; AuditAnchorError naming the file and field when malformed."""
        path = Path(path)
        try:
            if path.stat().st_size > MAX_ANCHOR_BYTES:
                raise AuditAnchorError("too large to be an anchor file", path)
            doc = json.loads(path.read_bytes().decode("utf-8"))
        except AuditAnchorError:
            raise
        except FileNotFoundError:
            raise AuditAnchorError("no such file", path) from None
        except OSError as exc:
            raise AuditAnchorError(f"cannot read: {exc.strerror or exc}", path) from None
        except ValueError as exc:
            raise AuditAnchorError(f"not JSON: {exc}", path) from None
        if not isinstance(doc, dict) or doc.get("format") != ANCHOR_FORMAT:
            raise AuditAnchorError(f"not an Osler audit anchor (format is not {ANCHOR_FORMAT})",
                                   path, field="format")
        types = {"store_id": str, "count": int, "head_hash": str, "time": str,
                 "public_key": str, "signature": str}
        for name, kind in types.items():
            value = doc.get(name)
            if not isinstance(value, kind) or isinstance(value, bool):
                raise AuditAnchorError(f"missing or not {kind.__name__}", path, field=name)
        if doc["count"] < 0:
            raise AuditAnchorError("must be >= 0", path, field="count")
        return cls(**{name: doc[name] for name in types})

    def summary(self) -> dict[str, Any]:
        """What a report says about the anchor it checked against."""
        return {"store_id": self.store_id, "count": self.count, "head_hash": self.head_hash,
                "time": self.time, "signature_valid": self.signature_valid()}


def check_against(anchor: Anchor, store_id: str, public_key: str, count: int,
                  hash_at_count: str | None, covered: Callable[[int], bool]) -> list[Problem]:
    """Problems of a store vs ANCHOR: COUNT entries, HASH_AT_COUNT = its authentic hash of
    entry #anchor.count (None if absent or altered); COVERED(seq) is true for an entry
    already reported, so that it is not reported twice.
    """
    if not anchor.signature_valid():
        return [Problem(None, "anchor", "the anchor's signature does not verify: the anchor "
                                        "file was altered")]
    if anchor.store_id != store_id:
        return [Problem(None, "anchor", f"the anchor is for another audit store "
                                        f"({anchor.store_id}, this one is {store_id})")]
    if anchor.public_key != public_key:
        return [Problem(None, "modified", "the store's signing key differs from the anchor's: "
                                          "the store was re-created or its secret replaced")]
    if anchor.count == 0:
        return []
    if count < anchor.count:
        if covered(anchor.count):
            return []
        return [Problem(count + 1, "rollback",
                        f"the store ends at entry #{count} but the anchor of {anchor.time} "
                        f"recorded {anchor.count}: an older copy of the database was restored, "
                        "or entries were removed by someone holding the key")]
    if hash_at_count != anchor.head_hash:
        if hash_at_count is None and covered(anchor.count):
            return []
        return [Problem(anchor.count, "modified",
                        f"entry #{anchor.count} differs from the anchor of {anchor.time}: the "
                        "history up to it was rewritten")]
    return []
