"""Who a finding can describe: the KB's sex- and age-restricted findings (pregnancy, testicular
pain, "irritable infant") against the patient's sex and age, and the note said when a
mention is set aside ("vaginal bleeding" in a man's note is not used, and the user is told).
"""

from __future__ import annotations

from dataclasses import dataclass

from osler.knowledge import FindingDef
from osler.knowledge.model import age_range_text

Age = float | int  # years: an int is completed years ("--age 0" = under one), a float exact


@dataclass(frozen=True, slots=True)
class SetAside:
    """A mention that was not used, and why: shown to the user as a warning."""

    finding: str
    label: str
    reason: str
    cite: str

    def message(self) -> str:
        return f"{self.label} not used: {self.reason} [{self.cite}]"


def age_span(age: Age | None) -> tuple[float, float] | None:
    """The ages (years, inclusive) `age` may stand for: [n, n+1) for whole years, else [a, a]."""
    if age is None or isinstance(age, bool):
        return None
    if isinstance(age, int):
        return float(age), age + 1 - 1e-9
    return float(age), float(age)


def mismatch(f: FindingDef, sex: str | None, age: Age | None) -> str | None:
    """Why `f` cannot describe this patient, or None when it can (or nothing is known)."""
    if f.sex is not None and sex in ("female", "male") and f.sex != sex:
        return f"a finding of {f.sex} patients, and the patient is {sex}"
    span = age_span(age)
    if span is None or (f.min_age is None and f.max_age is None):
        return None
    lo, hi = span
    if (f.min_age is not None and hi < f.min_age) or (f.max_age is not None
                                                      and lo >= f.max_age):
        return (f"a finding for {age_range_text(f.min_age, f.max_age)}, and the patient is "
                f"{_age_text(age)}")
    return None


def _age_text(age: Age) -> str:
    if isinstance(age, int):
        return f"{age} y" if age else "under 1 y"
    if age < 1:
        return f"{round(age * 12)} months" if age >= 1 / 12 else f"{round(age * 365.25)} days"
    return f"{int(age)} y"
