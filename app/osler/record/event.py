"""Timeline events: one clinical fact with a time, a code and a stable id."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class EventKind(StrEnum):
    """The lanes of the timeline; billing resources never become events."""

    ENCOUNTER = "encounter"
    CONDITION = "condition"
    VITAL = "vital"
    LAB = "lab"
    OBSERVATION = "observation"
    MEDICATION = "medication"
    PROCEDURE = "procedure"
    ALLERGY = "allergy"
    IMMUNIZATION = "immunization"
    REPORT = "report"
    NOTE = "note"
    CAREPLAN = "careplan"
    IMAGING = "imaging"
    FAMILY_HISTORY = "family_history"
    DEVICE = "device"
    ORDER = "order"


@dataclass(frozen=True, slots=True)
class Coding:
    """A code from a code system (LOINC, SNOMED CT, RxNorm, ICD-10…)."""

    system: str | None
    code: str | None
    display: str | None = None

    @property
    def system_name(self) -> str:
        """Short name of well-known systems, for display."""
        return SYSTEM_NAMES.get(self.system or "", self.system or "")


SYSTEM_NAMES = {
    "http://loinc.org": "LOINC",
    "http://snomed.info/sct": "SNOMED CT",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "RxNorm",
    "http://hl7.org/fhir/sid/icd-10-cm": "ICD-10-CM",
    "http://hl7.org/fhir/sid/icd-10": "ICD-10",
    "http://hl7.org/fhir/sid/cvx": "CVX",
    "http://unitsofmeasure.org": "UCUM",
}


@dataclass(frozen=True, slots=True)
class ReferenceRange:
    """Normal range of a lab or vital, as given by the source."""

    low: float | None = None
    high: float | None = None
    text: str | None = None

    def classify(self, value: float) -> str | None:
        """'L', 'H' or 'N' for a value against this range, None if the range is empty."""
        if self.low is None and self.high is None:
            return None
        if self.low is not None and value < self.low:
            return "L"
        if self.high is not None and value > self.high:
            return "H"
        return "N"


@dataclass(frozen=True, slots=True)
class Source:
    """Where an event came from, so errors and explanations can point at it."""

    file: str
    entry: int | None = None
    line: int | None = None
    resource_type: str | None = None
    resource_id: str | None = None

    def describe(self) -> str:
        """Human-readable location: file, entry or line, resource."""
        parts = [self.file]
        if self.entry is not None:
            parts.append(f"entry {self.entry}")
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.resource_type:
            parts.append(f"{self.resource_type}/{self.resource_id or '?'}")
        return ": ".join(parts)


@dataclass(frozen=True, slots=True)
class Event:
    """One fact on the patient's timeline.

    `id` is stable across imports of the same data ("Observation/abc", or
    "Observation/abc#8480-6" for one component of a panel) so that findings,
    explanations and audit entries can cite it.
    """

    id: str
    kind: EventKind
    time: datetime | None
    display: str
    code: Coding | None = None
    codes: tuple[Coding, ...] = ()
    end: datetime | None = None
    ongoing: bool = False
    value: float | str | bool | None = None
    unit: str | None = None
    reference_range: ReferenceRange | None = None
    interpretation: str | None = None
    status: str | None = None
    category: str | None = None
    text: str | None = None
    encounter: str | None = None
    parent: str | None = None
    source: Source | None = None
    time_precision: str = "second"
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def numeric(self) -> float | None:
        """The value as a float when it is a number (bools are not numbers here)."""
        v = self.value
        if isinstance(v, bool) or not isinstance(v, int | float):
            return None
        return float(v)

    @property
    def flag(self) -> str | None:
        """Abnormal flag: the source's interpretation, else computed from the range."""
        if self.interpretation:
            return self.interpretation
        num = self.numeric
        if num is not None and self.reference_range is not None:
            return self.reference_range.classify(num)
        return None

    def active_at(self, when: datetime) -> bool:
        """True if the event has started by `when` and (for spans) not yet ended."""
        if self.time is None or self.time > when:
            return False
        if self.end is not None:
            return self.end >= when
        return True

    def code_value(self) -> str | None:
        """The primary code's value, e.g. '8480-6'."""
        return self.code.code if self.code else None

    def has_code(self, system: str, code: str) -> bool:
        """True if any coding of the event matches system and code."""
        return any(c.system == system and c.code == code for c in self.codes)
