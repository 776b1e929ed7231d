"""A typed or pasted presentation: its text, age and sex, and the clinician's corrections
of what was read from it. Plain Python, no Qt.

Corrections are not what-ifs: they fix a misreading of the text ('no fever' read as fever),
so the differential they give is the case as documented and overrides stay possible. The
text is patient data: it lives in memory only (never in settings or logs); the audit trail
keeps only the findings of a differential that an override records."""

from __future__ import annotations

from dataclasses import dataclass, replace

from osler.findings import Finding, Provenance
from osler.session.whatif import ABSENT, NEXT, POSSIBLE, PRESENT, REMOVED, state_of

CORRECTED = "corrected by the clinician"


@dataclass(frozen=True, slots=True)
class Presentation:
    """Free text for the case, with age and sex when no record gives them."""

    text: str = ""
    age: int | None = None
    sex: str | None = None
    corrections: tuple[tuple[str, str, str], ...] = ()  # (finding id, state, label)

    @property
    def empty(self) -> bool:
        return not self.text.strip()

    def with_text(self, text: str) -> Presentation:
        """New text; corrections of findings the text no longer mentions are kept until
        the finding is gone from the results (see `apply`), so retyping does not lose them."""
        return replace(self, text=text)

    def correction(self, finding_id: str) -> str | None:
        return next((s for fid, s, _ in self.corrections if fid == finding_id), None)

    def toggle(self, finding: Finding) -> Presentation:
        """Cycle a text finding present → absent → removed → present."""
        current = self.correction(finding.id) or state_of(finding)
        return self._with(finding.id, NEXT[current], finding.label, state_of(finding))

    def remove(self, finding: Finding) -> Presentation:
        return self._with(finding.id, REMOVED, finding.label, state_of(finding))

    def _with(self, finding_id: str, state: str, label: str, read_as: str) -> Presentation:
        rest = tuple(c for c in self.corrections if c[0] != finding_id)
        if state == read_as:
            return replace(self, corrections=rest)
        return replace(self, corrections=(*rest, (finding_id, state, label)))

    def apply(self, findings: list[Finding]) -> list[Finding]:
        """The findings with the corrections applied to those read from the text."""
        out = []
        for f in findings:
            state = self.correction(f.id) if is_from_text(f) else None
            if state is None:
                out.append(f)
            elif state != REMOVED:
                src = Provenance(event_id=None, span=f.source.span,
                                 snippet=f"{f.source.snippet or ''} ({CORRECTED})".strip())
                out.append(replace(f, present=state != ABSENT, certain=state != POSSIBLE,
                                   source=src))
        return out

    def rows(self, findings: list[Finding]) -> list[tuple[Finding, str, bool]]:
        """(finding as read, state now, corrected?) for each finding read from the text,
        removed ones included so that they can be put back."""
        out = []
        for f in findings:
            if not is_from_text(f):
                continue
            state = self.correction(f.id)
            out.append((f, state or state_of(f), state is not None))
        return out


def is_from_text(f: Finding) -> bool:
    """True for a finding read from the typed presentation (no event behind it)."""
    return f.source.event_id is None and f.source.span is not None


__all__ = ["ABSENT", "CORRECTED", "POSSIBLE", "PRESENT", "REMOVED", "Presentation",
           "is_from_text"]
