"""'What if' edits to a case's findings: toggle, add, reset. Plain Python, no Qt.

The record's own findings are never changed: an edit is kept beside them and applied to
a copy that goes to the model. Edited and added findings carry the WHAT_IF marker as
their source, so nothing hypothetical can be mistaken for (or cited as) the record.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from osler.findings import Finding, Provenance

PRESENT, POSSIBLE, ABSENT, REMOVED = "present", "possible", "absent", "removed"
NEXT = {PRESENT: ABSENT, POSSIBLE: ABSENT, ABSENT: REMOVED, REMOVED: PRESENT}
"""Toggle order: present → absent → removed (left out of the case) → present."""
WHAT_IF = "what if (hypothetical, not in the record)"
HYPOTHETICAL = Provenance(snippet=WHAT_IF)


def state_of(finding: Finding) -> str:
    """present, possible or absent, as the record (or an edit) states the finding."""
    if not finding.present:
        return ABSENT
    return PRESENT if finding.certain else POSSIBLE


def is_hypothetical(finding: Finding) -> bool:
    """True for a finding that came from a what-if edit rather than the record."""
    return finding.source.snippet == WHAT_IF and finding.source.event_id is None


@dataclass(frozen=True, slots=True)
class FindingRow:
    """One line of the what-if list: a finding, its state now, and whether it is hypothetical."""

    finding_id: str
    label: str
    state: str  # present | possible | absent | removed
    hypothetical: bool  # the clinician changed or added it
    recorded: Finding | None  # the record's own finding, if the record has it


@dataclass(frozen=True, slots=True)
class WhatIf:
    """Edits by finding id (state and label), over the record's findings; immutable."""

    edits: tuple[tuple[str, str, str], ...] = ()  # (finding id, state, label)

    @property
    def active(self) -> bool:
        return bool(self.edits)

    def _edit(self, finding_id: str) -> tuple[str, str] | None:
        for fid, state, label in self.edits:
            if fid == finding_id:
                return state, label
        return None

    def _with(self, finding_id: str, state: str | None, label: str = "") -> WhatIf:
        rest = tuple(e for e in self.edits if e[0] != finding_id)
        return WhatIf(rest if state is None else (*rest, (finding_id, state, label)))

    def toggle(self, finding_id: str, base: list[Finding], label: str = "") -> WhatIf:
        """Next state in the cycle; back at the record's own state, the edit disappears."""
        recorded = next((f for f in base if f.id == finding_id and f.counted), None)
        edit = self._edit(finding_id)
        current = edit[0] if edit else (state_of(recorded) if recorded else REMOVED)
        label = label or (edit[1] if edit else (recorded.label if recorded else finding_id))
        new = NEXT[current]
        if recorded is None:
            return self._with(finding_id, None if new == REMOVED else new, label)
        return self._with(finding_id, None if new == state_of(recorded) else new, label)

    def add(self, finding_id: str, label: str, present: bool = True) -> WhatIf:
        """A finding the record lacks (or a new state for one it has), as a what-if."""
        return self._with(finding_id, PRESENT if present else ABSENT, label)

    def reset(self) -> WhatIf:
        return WhatIf()

    def apply(self, base: list[Finding]) -> list[Finding]:
        """The findings the model should see: the record's, with the edits applied."""
        out: list[Finding] = []
        seen = set()
        for f in base:
            if not f.counted:
                out.append(f)  # superseded or conflicting: shown, never counted
                continue
            seen.add(f.id)
            edit = self._edit(f.id)
            if edit is None:
                out.append(f)
            elif edit[0] != REMOVED:
                out.append(_hypothetical(f.id, f.label, edit[0]))
        for fid, state, label in self.edits:
            if fid not in seen and state != REMOVED:
                out.append(_hypothetical(fid, label, state))
        return out

    def rows(self, base: list[Finding]) -> list[FindingRow]:
        """Every counted finding to list: the record's (edited or not), then the added ones.
        Superseded and conflicting findings are not rows: nothing can be toggled there."""
        rows = []
        seen = set()
        for f in base:
            if not f.counted:
                continue
            seen.add(f.id)
            edit = self._edit(f.id)
            rows.append(FindingRow(f.id, f.label, edit[0] if edit else state_of(f),
                                   edit is not None, f))
        for fid, state, label in self.edits:
            if fid not in seen:
                rows.append(FindingRow(fid, label, state, True, None))
        return rows

    def describe(self) -> list[str]:
        """Human-readable edits ('Fever: absent'), for the banner and tooltips."""
        return [f"{label or fid}: {state}" for fid, state, label in self.edits]


def _hypothetical(finding_id: str, label: str, state: str) -> Finding:
    return replace(Finding(finding_id, label, state != ABSENT, HYPOTHETICAL),
                   certain=state != POSSIBLE)
