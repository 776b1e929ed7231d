"""Prerequisites and exclusions applied to a case: a condition that exists only on a background
(sickle cell disease, pregnancy, a recent operation, a prosthetic valve, immunosuppression,
diabetes for DKA, cirrhosis for hepatic encephalopathy...) is ranked as such.

Each declared requirement (osler.knowledge.prerequisites) of a condition is, for a case:
- **met**: one of its alternatives is documented (a present finding, or one implied by a
  present specific finding; a recorded condition; the patient's sex or age);
- **absent**: every alternative is documented absent (a negative pregnancy test): the
  condition is excluded, its probability multiplied by EXCLUDED (never exactly zero);
- **undocumented**: otherwise; the probability is multiplied by UNDOCUMENTED[mode]: with a
  full record an undocumented background is probably absent (0.02), in free text it may just
  not have been written (0.15), and the panel offers it as a thing to check.
An unknown sex or age never counts against a requirement (the demographic likelihood ratios
already weigh them). An exclusion that is documented makes the condition EXCLUDED.

The factors are multiplicative odds-like weights on the condition's score before
normalisation; they are design constants stated in docs/model.md, not fitted to vignettes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from osler.knowledge import KnowledgeBase, Prerequisite, PrerequisiteItem
from osler.reasoning.case import ABSENT, POSSIBLE, PRESENT, RECORD, TEXT, CaseInput
from osler.reasoning.kbmatrix import KBMatrix

UNDOCUMENTED = {RECORD: 0.02, TEXT: 0.15}
EXCLUDED = 0.001
MET, ABSENT_STATE, UNDOCUMENTED_STATE, UNKNOWN = "met", "absent", "undocumented", "unknown"


@dataclass(frozen=True, slots=True)
class PrerequisiteStatus:
    """How one declared requirement or exclusion of a condition stands for a case."""

    kind: str  # "requires" or "excludes"
    entry: Prerequisite
    state: str  # requires: met/absent/undocumented/unknown; excludes: met (present) or absent
    factor: float  # the weight applied to the condition (1.0: none)
    label: str  # 'Sickle cell disease or known Sickle cell anemia', for the panel
    by: str | None = None  # the finding id or item that met it

    def text(self) -> str:
        """One line for the panel and the CLI: 'requires sickle cell disease - not
        documented'."""
        if self.kind == "excludes":
            return f"excluded by {self.label}" if self.state == MET else f"not {self.label}"
        return {MET: f"requires {self.label} - documented",
                UNKNOWN: f"requires {self.label} - unknown (age or sex not given)",
                ABSENT_STATE: f"requires {self.label} - documented absent",
                }.get(self.state, f"requires {self.label} - not documented")

    def to_json(self) -> dict[str, object]:
        doc: dict[str, object] = {
            "kind": self.kind, "any_of": [i.text() for i in self.entry.any_of],
            "label": self.label, "state": self.state, "factor": self.factor,
            "text": self.text(), "basis": self.entry.basis}
        if self.by:
            doc["by"] = self.by
        return doc


def item_label(kb: KnowledgeBase, item: PrerequisiteItem) -> str:
    if item.kind == "finding":
        return kb.finding(item.ref).label if kb.has_finding(item.ref) else item.ref
    if item.kind == "condition":
        name = kb.condition(item.ref).name if kb.has_condition(item.ref) else item.ref
        return f"known {name}"
    if item.kind == "sex":
        return item.ref
    return f"age {item.ref} {item.years:g} y"


class PrerequisiteRules:
    """The KB's prerequisites compiled for fast evaluation over many cases (the occlusion
    runs of one explanation evaluate every entry about 30 times)."""

    def __init__(self, kb: KnowledgeBase, m: KBMatrix):
        self.kb = kb
        self.m = m
        self.entries: list[tuple[int, str, Prerequisite]] = []  # (condition, kind, entry)
        for c in kb.conditions:
            ci = m.cond_index.get(c.id)
            if ci is None:
                continue
            self.entries += [(ci, "requires", e) for e in c.requires]
            self.entries += [(ci, "excludes", e) for e in c.excludes]
        n, f = len(self.entries), len(m.finding_ids)
        self.items = np.zeros((n, f), dtype=np.float64)
        self.n_findings = np.zeros(n)
        self.others: list[list[PrerequisiteItem]] = [[] for _ in range(n)]
        for k, (_, _, e) in enumerate(self.entries):
            for item in e.any_of:
                j = m.find_index.get(item.ref) if item.kind == "finding" else None
                if j is not None:
                    self.items[k, j] = 1.0
                else:
                    self.others[k].append(item)
            self.n_findings[k] = self.items[k].sum()
        self.cond = np.array([ci for ci, _, _ in self.entries], dtype=np.int64)
        self.requires = np.array([kind == "requires" for _, kind, _ in self.entries], dtype=bool)
        self._special = [k for k in range(n) if self.others[k]]

    @staticmethod
    def of(kb: KnowledgeBase) -> PrerequisiteRules:
        return kb.derived("reasoning.prerequisites",
                          lambda kb: PrerequisiteRules(kb, KBMatrix.from_kb(kb)))

    def _states(self, case: CaseInput) -> tuple[np.ndarray, np.ndarray]:
        present = np.zeros(len(self.m.finding_ids))
        absent = np.zeros(len(self.m.finding_ids))
        for fid, st in case.findings:
            j = self.m.find_index.get(fid)
            if j is None:
                continue
            if st in (PRESENT, POSSIBLE):
                present[j] = 1.0
                present[self.m.mates(j)] = 1.0
                if st == PRESENT:
                    for a in self.m.ancestors(j):
                        present[a] = 1.0
            elif st == ABSENT:
                absent[j] = 1.0
                absent[self.m.mates(j)] = 1.0
                absent[self.m.descendants(j)] = 1.0
        return present, absent

    def evaluate(self, case: CaseInput) -> tuple[np.ndarray, np.ndarray]:
        """(met, state) per entry: met is True/False; state codes 0 met, 1 absent,
        2 undocumented, 3 unknown (sex or age not known)."""
        n = len(self.entries)
        if not n:
            return np.zeros(0, dtype=bool), np.zeros(0, dtype=np.int64)
        present, absent = self._states(case)
        met = self.items @ present > 0
        all_absent = (self.items @ absent >= self.n_findings) & (self.n_findings > 0)
        state = np.where(met, 0, np.where(all_absent, 1, 2))
        for k in self._special:
            holds = [_holds(i, case) for i in self.others[k]]
            if met[k] or any(h is True for h in holds):
                state[k], met[k] = 0, True
            elif self.requires[k] and any(h is None for h in holds):
                state[k] = 3
            elif all(h is False for h in holds) and (self.n_findings[k] == 0 or all_absent[k]):
                state[k] = 1
            else:
                state[k] = 2
        return met, state

    def log_factors(self, case: CaseInput) -> np.ndarray:
        """Per-condition log weight of its requirements and exclusions for this case."""
        out = np.zeros(len(self.m.condition_ids))
        if not self.entries:
            return out
        met, state = self.evaluate(case)
        w = np.zeros(len(self.entries))
        undocumented = np.log(UNDOCUMENTED.get(case.mode, UNDOCUMENTED[TEXT]))
        req = self.requires
        w[req & (state == 1)] = np.log(EXCLUDED)
        w[req & (state == 2)] = undocumented
        w[~req & met] = np.log(EXCLUDED)
        np.add.at(out, self.cond, w)
        return out

    def statuses(self, case: CaseInput, ci: int) -> list[PrerequisiteStatus]:
        """The declared requirements and exclusions of condition `ci` and how each stands."""
        rows = [k for k in range(len(self.entries)) if self.cond[k] == ci]
        if not rows:
            return []
        met, state = self.evaluate(case)
        present, _ = self._states(case)
        out = []
        names = (MET, ABSENT_STATE, UNDOCUMENTED_STATE, UNKNOWN)
        for k in rows:
            _, kind, entry = self.entries[k]
            by = None
            hits = np.flatnonzero(self.items[k] * present)
            if len(hits):
                by = self.m.finding_ids[int(hits[0])]
            if kind == "requires":
                s = names[int(state[k])]
                factor = {MET: 1.0, UNKNOWN: 1.0, ABSENT_STATE: EXCLUDED}.get(
                    s, UNDOCUMENTED.get(case.mode, UNDOCUMENTED[TEXT]))
            else:
                s = MET if met[k] else ABSENT_STATE
                factor = EXCLUDED if met[k] else 1.0
            label = " or ".join(item_label(self.kb, i) for i in entry.any_of)
            out.append(PrerequisiteStatus(kind, entry, s, factor, label, by))
        return out


def _holds(item: PrerequisiteItem, case: CaseInput) -> bool | str | None:
    """True/False for a sex or age item (None when not known); True or 'undocumented' for a
    recorded-condition item (a problem list never documents a condition's absence)."""
    if item.kind == "sex":
        return None if case.sex is None else case.sex == item.ref
    if item.kind == "age":
        if case.age is None:
            return None
        bound = float(item.years or 0.0)
        return case.age < bound if item.ref == "<" else case.age >= bound
    if item.kind == "condition":
        return True if item.ref in case.conditions else UNDOCUMENTED_STATE
    return None


def documented_conditions(kb: KnowledgeBase, timeline: object, at: object = None) -> set[str]:
    """KB conditions that the record's problem list documents (any clinical status but
    refuted or entered in error, known at `at`), by ICD-10-CM code or by name: what
    'condition:' prerequisite items look for. Only conditions some prerequisite names are
    checked."""
    from osler.findings.history import REFUTED
    from osler.record import EventKind

    wanted = {i.ref for c in kb.conditions for e in (*c.requires, *c.excludes)
              for i in e.any_of if i.kind == "condition" and kb.has_condition(i.ref)}
    if not wanted:
        return set()
    codes = {cid: tuple(x.replace(".", "").upper() for x in kb.condition(cid).icd10)
             for cid in wanted}
    names = {cid: tuple(n.lower() for n in (kb.condition(cid).name,
                                            *kb.condition(cid).synonyms) if len(n) > 3)
             for cid in wanted}
    out: set[str] = set()
    for e in timeline.until(at).by_kind(EventKind.CONDITION):  # type: ignore[attr-defined]
        if e.extra.get("verification") in REFUTED:
            continue
        own = [c.code.replace(".", "").upper() for c in e.codes
               if c.code and c.system and "icd-10" in c.system]
        display = (e.display or "").lower()
        for cid in wanted - out:
            by_code = any(x.startswith(k) or k.startswith(x) for x in own for k in codes[cid])
            if by_code or any(n in display for n in names[cid]):
                out.add(cid)
    return out
