"""The coded override reasons (CDS Hooks `overrideReason` style: system, code, display)."""

from __future__ import annotations

from dataclasses import dataclass

from osler.audit.errors import AuditInputError

REASON_SYSTEM = "urn:osler:override-reason"
"""Code system URI of Osler's override reasons (a URN: Osler publishes no web terminology)."""


@dataclass(frozen=True, slots=True)
class OverrideReason:
    """One coded reason a clinician gives for acting against (or beside) the model's suggestion."""

    code: str
    display: str
    system: str = REASON_SYSTEM

    def coding(self) -> dict[str, str]:
        """FHIR Coding / CDS Hooks overrideReason form."""
        return {"system": self.system, "code": self.code, "display": self.display}


REASONS: dict[str, OverrideReason] = {
    r.code: r
    for r in (
        OverrideReason("alternative-more-likely", "Another diagnosis is more likely"),
        OverrideReason("not-clinically-appropriate", "Not clinically appropriate for this patient"),
        OverrideReason("insufficient-evidence", "Insufficient evidence for this diagnosis"),
        OverrideReason("findings-not-in-record", "Relevant findings are not in the record"),
        OverrideReason("already-considered", "Already considered or addressed"),
        OverrideReason("patient-declined", "Patient declined further work-up"),
        OverrideReason("other", "Other (explained in free text)"),
    )
}
"""The fixed coded set, in the order a picker should list them; "other" needs free text."""


def reason(code: str) -> OverrideReason:
    """The reason for CODE, or AuditInputError listing the valid codes."""
    try:
        return REASONS[code]
    except KeyError:
        raise AuditInputError(f"unknown reason code {code!r}; use one of: "
                              + ", ".join(REASONS), field="reason_code") from None
