"""The state of the differential a clinician is looking at, and its rules. Plain Python.

What is being reasoned on (a record, 'now', a typed presentation, what-if edits), which
request is the newest (results of older ones are dropped), and what the clinician decided
about the diagnoses shown. The window drives one from the UI thread and computes its
requests on the model thread; `osler ddx` drives one and computes in line. Nothing here
touches a thread, a widget or the disk."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from osler.findings import Finding
from osler.record import Timeline
from osler.session.presentation import Presentation
from osler.session.request import DdxRequest, DdxResult
from osler.session.whatif import WhatIf

WHATIF_WHY = "Overrides act on the record's own differential: reset the what-if first."
DECISIONS_CLEARED = ("The model or knowledge base changed: the decisions shown for the "
                     "earlier differential were cleared (they stay in the audit trail).")


@dataclass(frozen=True, slots=True)
class Added:
    """A diagnosis the clinician added to the list."""

    name: str
    icd10: tuple[str, ...] = ()


@dataclass
class DifferentialSession:
    """See the module docstring. Methods that change what is reasoned on return True when
    a new differential is needed; `request()` then gives it its sequence number."""

    top: int = 10
    timeline: Timeline | None = None
    at: datetime | None = None
    whatif: WhatIf = field(default_factory=WhatIf)
    presentation: Presentation = field(default_factory=Presentation)
    seq: int = 0
    result: DdxResult | None = None
    engine_key: str | None = None
    decisions: dict[str, dict[str, str]] = field(default_factory=dict)
    added: dict[str, list[Added]] = field(default_factory=dict)

    # --- what is reasoned on -------------------------------------------------------

    @property
    def can_compute(self) -> bool:
        return self.timeline is not None or not self.presentation.empty

    def set_record(self, timeline: Timeline | None, at: datetime | None = None) -> bool:
        """A new record: what-ifs and a typed presentation (another patient's) are dropped."""
        self.timeline, self.at = timeline, at
        self.whatif = WhatIf()
        self.presentation = Presentation()
        self.result = None
        return self.can_compute

    def new_case(self, text: str = "", age: int | None = None, sex: str | None = None
                 ) -> bool:
        """A case from a presentation alone, no record."""
        self.timeline, self.at = None, None
        self.whatif = WhatIf()
        self.presentation = Presentation(text, age, sex)
        self.result = None
        return self.can_compute

    def set_now(self, at: datetime | None) -> bool:
        if at == self.at:
            return False
        self.at = at
        return self.timeline is not None

    def set_text(self, text: str) -> bool:
        if text == self.presentation.text:
            return False
        self.presentation = self.presentation.with_text(text)
        return self.can_compute or self.result is not None

    def set_demographics(self, age: int | None, sex: str | None) -> bool:
        if (age, sex) == (self.presentation.age, self.presentation.sex):
            return False
        self.presentation = replace(self.presentation, age=age, sex=sex)
        return self.can_compute

    def correct(self, finding: Finding, remove: bool = False) -> bool:
        """Cycle (or remove) a finding read from the typed text."""
        p = self.presentation
        self.presentation = p.remove(finding) if remove else p.toggle(finding)
        return self.presentation != p

    # --- what if ---------------------------------------------------------------------

    def toggle_finding(self, finding_id: str, label: str = "") -> bool:
        if self.result is None:
            return False
        self.whatif = self.whatif.toggle(finding_id, list(self.result.record_findings), label)
        return True

    def add_finding(self, finding_id: str, label: str, present: bool = True) -> bool:
        if self.result is None:
            return False
        self.whatif = self.whatif.add(finding_id, label, present)
        return True

    def reset_whatif(self) -> bool:
        if not self.whatif.active:
            return False
        self.whatif = WhatIf()
        return True

    # --- requests and results -----------------------------------------------------------

    def request(self, rationale: bool = False) -> DdxRequest | None:
        """The next differential to compute (None when there is nothing to reason on)."""
        self.seq += 1
        if not self.can_compute:
            self.result = None
            return None
        return DdxRequest(self.seq, self.timeline, self.at, self.whatif, self.top, rationale,
                          self.presentation)

    def is_current(self, seq: int) -> bool:
        return seq == self.seq and self.can_compute

    def accept(self, result: DdxResult) -> bool:
        """Keep RESULT if it answers the newest request; False for a stale one."""
        if not self.is_current(result.seq):
            return False
        self.result = result
        return True

    # --- decisions ------------------------------------------------------------------------

    def patient_key(self) -> str:
        """Whose decisions are shown: the record's patient, or '' for a typed case."""
        return self.timeline.patient.id if self.timeline is not None else ""

    def overrides_allowed(self) -> tuple[bool, str]:
        if self.result is None:
            return False, "No differential is shown."
        if self.result.whatif.active:
            return False, WHATIF_WHY
        return True, ""

    def record_decision(self, action: str, name: str | None, key: str | None = None,
                        added: Added | None = None) -> None:
        """An override the audit trail has recorded, shown beside its diagnosis."""
        key = self.patient_key() if key is None else key
        if action == "add" and added is not None:
            self.added.setdefault(key, []).append(added)
            return
        if not name:
            return
        decisions = self.decisions.setdefault(key, {})
        if action == "comment" and name in decisions:
            return  # a comment does not hide an accept or reject
        decisions[name] = action

    def decisions_for(self, key: str | None = None) -> dict[str, str]:
        return self.decisions.get(self.patient_key() if key is None else key, {})

    def added_for(self, key: str | None = None) -> list[Added]:
        return self.added.get(self.patient_key() if key is None else key, [])

    def set_engine(self, key: str) -> bool:
        """A model or KB was loaded. When it differs from the one the decisions were made
        on, the decisions are cleared (True): they judged another differential."""
        before, self.engine_key = self.engine_key, key
        if before is None or before == key or not (self.decisions or self.added):
            return False
        self.decisions.clear()
        self.added.clear()
        return True
