"""Is a measurement abnormal? The findings' own answer, so the timeline, the details pane and
the trend plot mark exactly the values the differential reads as abnormal.

A value is judged finding by finding, as `findings_from_record` judges it: the laboratory's
flag or reference range first (assays differ, so the lab's range beats the KB's generic
threshold), else the KB's threshold rules for the patient's sex and age at the time. A
glucose of 65 mg/dL with no flag and no range is hypoglycaemia, and so abnormal.
"""

from __future__ import annotations

from datetime import date, datetime

from osler.findings.measure import MeasurementIndex, Verdict, decide
from osler.findings.population import Age
from osler.knowledge import FindingDef, KnowledgeBase
from osler.record import Event

LOINC = "http://loinc.org"
HIGH_FLAGS = {"H", "HH", "HU", ">"}
LOW_FLAGS = {"L", "LL", "LU", "<"}
KNOWN_FLAGS = HIGH_FLAGS | LOW_FLAGS | {"N"}


def exact_age(birth: date | None, when: datetime | None) -> float | None:
    """Age in years (fractional, so a 3-week-old is a neonate) on `when`, if both are known."""
    if birth is None or when is None:
        return None
    days = (when.date() - birth).days
    return days / 365.25 if days >= 0 else None


def lab_says(f: FindingDef, e: Event) -> bool | None:
    """The laboratory's own judgement of a lab value (its flag, or its reference range), for a
    finding whose rules all point one way; assays differ, so the lab's range beats the KB's
    generic threshold. None when the lab gives no range or the finding is not a lab finding."""
    if f.category != "lab" or not f.rules:
        return None
    ops = {r.op[0] for r in f.rules}
    if len(ops) != 1:
        return None
    if e.flag not in KNOWN_FLAGS:
        return None
    return e.flag in (HIGH_FLAGS if ops == {">"} else LOW_FLAGS)


def verdict(f: FindingDef, e: Event, code: str, sex: str | None, age: Age | None
            ) -> bool | None:
    """Present/absent from one measurement coded `code` (the lab's flag first), or None."""
    lab = lab_says(f, e)
    if lab is not None:
        return lab
    if e.numeric is None:
        return None
    v = decide(f, code, e.numeric, e.unit, sex, age)
    return None if v is None else v.present


def measured_codes(e: Event, index: MeasurementIndex) -> list[str]:
    """The event's LOINC codes that some KB rule reads (as the findings pick them)."""
    return [c.code for c in e.codes
            if c.code in index.by_loinc and c.system in (LOINC, None)]


class AbnormalJudge:
    """The KB's threshold findings one patient's measurements make present."""

    def __init__(self, kb: KnowledgeBase, sex: str | None, birth_date: date | None):
        self.index = MeasurementIndex.of(kb)
        self.sex = sex
        self.birth_date = birth_date

    def findings(self, e: Event) -> list[Verdict]:
        """The abnormal findings this measurement makes present ([] when none or unknown)."""
        if e.numeric is None:
            return []
        codes = measured_codes(e, self.index)
        if not codes:
            return []
        age = exact_age(self.birth_date, e.time)
        out: list[Verdict] = []
        seen: set[str] = set()
        for code in codes:
            for f in self.index.by_loinc[code]:
                if f.id in seen:
                    continue
                seen.add(f.id)
                if verdict(f, e, code, self.sex, age):
                    out.append(_explained(f, e, code, self.sex, age))
        return out

    def __call__(self, e: Event) -> bool:
        """True when the findings would call this value abnormal."""
        if e.numeric is None or not e.codes:
            return False
        return is_abnormal_measurement(self.index, e, self.sex,
                                       exact_age(self.birth_date, e.time))


def _explained(f: FindingDef, e: Event, code: str, sex: str | None, age: Age | None
               ) -> Verdict:
    """The verdict with the rule that decided it (none when the lab's flag decided)."""
    if lab_says(f, e) is None and e.numeric is not None:
        v = decide(f, code, e.numeric, e.unit, sex, age)
        if v is not None and v.present:
            return v
    return Verdict(f, True, ())


def is_abnormal_measurement(kb: KnowledgeBase | MeasurementIndex, e: Event, sex: str | None,
                            age: Age | None) -> bool:
    """Would the findings call this value abnormal, for a patient of this sex and age
    (years)? `kb` may be the KB's MeasurementIndex, when the caller holds it."""
    index = kb if isinstance(kb, MeasurementIndex) else MeasurementIndex.of(kb)
    for code in measured_codes(e, index):
        for f in index.by_loinc[code]:
            if verdict(f, e, code, sex, age):
                return True
    return False
