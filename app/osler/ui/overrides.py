"""What a clinician does with a differential, as audit records. Plain Python, no Qt.

The window and the tests build records here the same way, from the differential exactly as
shown (its `to_json()`, as `osler ddx --json` prints it); the audit package validates them.
"""

from __future__ import annotations

from dataclasses import dataclass

from osler.audit import Action, OverrideRecord
from osler.reasoning.differential import Differential


@dataclass(frozen=True, slots=True)
class OverrideRequest:
    """The clinician's choice: an action on a diagnosis (by rank, or by name when adding)."""

    action: str  # accept | reject | rerank | add | comment
    rank: int | None = None
    name: str | None = None
    icd10: tuple[str, ...] = ()
    new_rank: int | None = None
    reason_code: str | None = None
    reason_text: str | None = None


def build_record(diff: Differential, request: OverrideRequest, clinician_id: str,
                 patient_id: str) -> OverrideRecord:
    """An OverrideRecord of REQUEST on DIFF; AuditInputError names what is missing."""
    action = Action(request.action)
    rank = request.rank if action is not Action.ADD else None
    name = request.name if action is Action.ADD or request.rank is None else None
    return OverrideRecord.from_ddx(
        diff.to_json(), action=action, clinician_id=clinician_id, patient_id=patient_id,
        rank=rank, name=name, icd10=list(request.icd10) or None, new_rank=request.new_rank,
        reason_code=request.reason_code, reason_text=request.reason_text)


def default_clinician_id() -> str:
    """The OS account name: a sensible default for the clinician id (the user can change it)."""
    from osler.audit.store import os_user

    return os_user()


def patient_key(diff: Differential, fallback: str | None = None) -> str:
    """The patient id an override is recorded under (the store keeps only its pseudonym)."""
    return diff.patient_id or fallback or "unknown-patient"
