"""What a model sees: demographics and a set of findings (present, absent or possible), and
whether they come from a patient record or from free text only."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from osler.findings import Finding
from osler.knowledge import KnowledgeBase

PRESENT, ABSENT, POSSIBLE = "+", "-", "~"
RECORD, TEXT = "record", "text"  # where the findings come from (prerequisites read it)


@dataclass(frozen=True, slots=True)
class CaseInput:
    """Model input; `findings` maps finding id -> state ('+', '-' or '~').

    `mode` is 'record' when a patient record was read (an undocumented background is then
    probably absent) and 'text' for free text only; `conditions` are the knowledge-base
    conditions the record's problem list documents (for 'condition:' prerequisites)."""

    age: int | None
    sex: str | None
    findings: tuple[tuple[str, str], ...]
    mode: str = TEXT
    conditions: frozenset[str] = frozenset()
    coverage: float = 1.0  # share of the text's clauses read (findings/coverage.py)

    @staticmethod
    def build(age: int | None, sex: str | None, items: dict[str, str], mode: str = TEXT,
              conditions: Iterable[str] = (), coverage: float = 1.0) -> CaseInput:
        return CaseInput(age, sex if sex in ("female", "male") else None,
                         tuple(sorted(items.items())), mode, frozenset(conditions), coverage)

    @staticmethod
    def from_findings(findings: list[Finding], age: int | None, sex: str | None,
                      mode: str = TEXT, conditions: Iterable[str] = (),
                      coverage: float = 1.0) -> CaseInput:
        """One state per counted finding (current or background; superseded and conflicting
        ones are left out). Findings must already be merged (one counted per id)."""
        items: dict[str, str] = {}
        for f in findings:
            if not f.counted:
                continue
            items[f.id] = PRESENT if f.present and f.certain else (
                POSSIBLE if f.present else ABSENT)
        return CaseInput.build(age, sex, items, mode, conditions, coverage)

    def state(self, finding_id: str) -> str | None:
        for fid, st in self.findings:
            if fid == finding_id:
                return st
        return None

    def without(self, finding_id: str) -> CaseInput:
        return replace(self, findings=tuple(x for x in self.findings if x[0] != finding_id))

    def with_state(self, finding_id: str, state: str) -> CaseInput:
        items = dict(self.findings)
        items[finding_id] = state
        return CaseInput.build(self.age, self.sex, items, self.mode, self.conditions,
                               self.coverage)


def case_for(kb: KnowledgeBase, findings: list[Finding], age: int | None, sex: str | None,
             mode: str = TEXT, conditions: Iterable[str] = (), coverage: float = 1.0
             ) -> CaseInput:
    """The model input for merged findings: counted findings the KB knows, with a broader
    finding left out when a present specific one already documents it (haemoptysis
    documents cough), so one complaint is not counted twice."""
    case = CaseInput.from_findings([f for f in findings if kb.has_finding(f.id)], age, sex,
                                   mode, conditions, coverage)
    implied = implied_by_present(kb, case)
    if not implied:
        return case
    kept = tuple((fid, st) for fid, st in case.findings
                 if not (fid in implied and st in (PRESENT, POSSIBLE)))
    return replace(case, findings=kept)


def implied_by_present(kb: KnowledgeBase, case: CaseInput) -> dict[str, str]:
    """Broader finding -> the present specific finding that documents it."""
    out: dict[str, str] = {}
    for fid, st in case.findings:
        if st != PRESENT or not kb.has_finding(fid):
            continue
        parent = kb.finding(fid).parent
        while parent and parent not in out and kb.has_finding(parent):
            out[parent] = fid
            parent = kb.finding(parent).parent
    return out
