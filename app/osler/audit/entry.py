"""A recorded audit entry as read back from the store."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from osler.audit.errors import AuditIntegrityError

ENTRY_VERSION = 1


@dataclass(frozen=True)
class AuditEntry:
    """One committed override: what was recorded plus its place in the chain.

    `patient` is the keyed pseudonym; the store never holds the patient's own id.
    `body` is the exact canonical JSON that the chain hash covers.
    """

    seq: int
    time: str
    os_user: str
    host: str
    clinician_id: str
    action: str
    reason: dict[str, str] | None
    reason_text: str | None
    patient: str
    diagnosis: dict[str, Any] | None
    decision: dict[str, Any]
    differential_shown: list[dict[str, Any]]
    model: dict[str, Any]
    inputs_fingerprint: str
    app_version: str
    store_id: str
    prev_hash: str
    entry_hash: str
    body: str = field(repr=False)

    @classmethod
    def from_row(cls, seq: int, body: str, prev_hash: str, entry_hash: str) -> AuditEntry:
        """Parse a stored row; AuditIntegrityError when the body is not what Osler wrote."""
        try:
            d = json.loads(body)
            return cls(seq=seq, time=d["time"], os_user=d["os_user"], host=d["host"],
                       clinician_id=d["clinician"], action=d["action"], reason=d["reason"],
                       reason_text=d["reason_text"], patient=d["patient"],
                       diagnosis=d["diagnosis"], decision=d["decision"],
                       differential_shown=d["differential_shown"], model=d["model"],
                       inputs_fingerprint=d["inputs_fingerprint"], app_version=d["app"],
                       store_id=d["store"], prev_hash=prev_hash, entry_hash=entry_hash,
                       body=body)
        except (ValueError, KeyError, TypeError) as exc:
            raise AuditIntegrityError(f"entry is unreadable ({type(exc).__name__}: {exc}); "
                                      "run `osler audit verify`", seq=seq) from None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form (for `osler audit log --json` and the window)."""
        return {"seq": self.seq, "time": self.time, "os_user": self.os_user, "host": self.host,
                "clinician_id": self.clinician_id, "action": self.action, "reason": self.reason,
                "reason_text": self.reason_text, "patient": self.patient,
                "diagnosis": self.diagnosis, "decision": self.decision,
                "differential_shown": self.differential_shown, "model": self.model,
                "inputs_fingerprint": self.inputs_fingerprint, "app_version": self.app_version,
                "store_id": self.store_id, "prev_hash": self.prev_hash,
                "entry_hash": self.entry_hash}
