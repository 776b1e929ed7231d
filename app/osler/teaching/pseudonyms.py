"""New ids, identifier values and labels that replace the originals consistently within one run.

Random by default; with a trainer's secret they are derived from it (HMAC-SHA256), so the
same record and secret give the same case. The mapping itself is never written out.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass, field

DICOM_UUID_ROOT = "2.25"  # ISO/IEC 9834-8: OIDs made from a UUID


@dataclass
class Pseudonyms:
    """Original value -> pseudonym, one table per kind (resource ids, identifiers, uids)."""

    secret: bytes | None = None
    _tables: dict[str, dict[str, str]] = field(default_factory=dict)
    _labels: dict[tuple[str, str], str] = field(default_factory=dict)
    _label_counts: dict[str, int] = field(default_factory=dict)

    def _uuid(self, kind: str, original: str) -> uuid.UUID:
        if self.secret is None:
            return uuid.uuid4()
        digest = hmac.new(self.secret, f"osler-{kind}\0{original}".encode(),
                          hashlib.sha256).digest()
        return uuid.UUID(bytes=digest[:16], version=4)

    def _lookup(self, kind: str, original: str, make) -> str:
        table = self._tables.setdefault(kind, {})
        new = table.get(original)
        if new is None:
            new = table[original] = make(self._uuid(kind, original))
        return new

    def resource_id(self, original: str) -> str:
        """A new resource id (a UUID, valid as a FHIR id) for an original id."""
        return self._lookup("id", original, str)

    def identifier(self, original: str) -> str:
        """A new Identifier.value; URN-shaped values keep their URN scheme."""
        if original.startswith("urn:uuid:"):
            return self._lookup("identifier", original, lambda u: f"urn:uuid:{u}")
        if original.startswith("urn:oid:"):
            return self._lookup("identifier", original,
                                lambda u: f"urn:oid:{DICOM_UUID_ROOT}.{u.int}")
        return self._lookup("identifier", original, str)

    def uid(self, original: str) -> str:
        """A new DICOM/OID uid (2.25.<uuid as integer>), keeping a urn:oid: prefix if present."""
        prefix = "urn:oid:" if original.startswith("urn:oid:") else ""
        return self._lookup("uid", original, lambda u: f"{prefix}{DICOM_UUID_ROOT}.{u.int}")

    def label(self, kind: str, key: str) -> str:
        """A readable stand-in such as "Patient 2" or "Practitioner 7", numbered per kind."""
        found = self._labels.get((kind, key))
        if found is None:
            n = self._label_counts.get(kind, 0) + 1
            self._label_counts[kind] = n
            found = self._labels[(kind, key)] = f"{kind} {n}"
        return found
