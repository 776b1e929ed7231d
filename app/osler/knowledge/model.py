"""The knowledge base's value types. The pack format and the loader live beside this file."""

from __future__ import annotations

from dataclasses import dataclass, field


class KnowledgeError(Exception):
    """A KB pack is missing, malformed or inconsistent; says which file and entry."""


@dataclass(frozen=True, slots=True)
class ThresholdRule:
    """How a vital or lab value becomes a finding: LOINC codes, comparison, threshold."""

    loinc: tuple[str, ...]
    op: str  # one of "<", "<=", ">", ">="
    value: float
    unit: str  # canonical UCUM unit the value is compared in

    def matches(self, value: float) -> bool:
        return {
            "<": value < self.value,
            "<=": value <= self.value,
            ">": value > self.value,
            ">=": value >= self.value,
        }[self.op]


@dataclass(frozen=True, slots=True)
class FindingDef:
    """A finding the reasoning knows: a symptom, sign, vital/lab abnormality or history item."""

    id: str  # stable slug, e.g. "chest-pain", "tachycardia", "history-diabetes"
    label: str
    category: str  # "symptom" | "sign" | "vital" | "lab" | "history" | "risk-factor"
    synonyms: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()  # "system|code" strings (SNOMED CT, LOINC, ICD-10-CM)
    rule: ThresholdRule | None = None


@dataclass(frozen=True, slots=True)
class ConditionDef:
    """A diagnosable condition with the numbers the reasoning needs."""

    id: str  # stable slug
    name: str
    icd10: tuple[str, ...]  # ICD-10-CM codes valid in the current release
    prior: float  # relative prior frequency (sums to 1 over the KB)
    findings: dict[str, float]  # finding id -> P(finding present | condition), 0..1
    synonyms: tuple[str, ...] = ()
    age_lr: dict[str, float] = field(default_factory=dict)  # age band -> likelihood ratio
    sex_lr: dict[str, float] = field(default_factory=dict)  # "female"/"male" -> LR
    cant_miss: bool = False
    cant_miss_rationale: str | None = None
    severity: int | None = None  # DDXPlus 1 (most severe) .. 5
    sources: tuple[str, ...] = ()  # "symcat", "ddxplus", "osler"


AGE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("<1", 0, 0),
    ("1-4", 1, 4),
    ("5-14", 5, 14),
    ("15-29", 15, 29),
    ("30-44", 30, 44),
    ("45-59", 45, 59),
    ("60-74", 60, 74),
    ("75+", 75, 200),
)


def age_band(age: int | None) -> str | None:
    """The SymCat age band an age in years falls in."""
    if age is None:
        return None
    for name, lo, hi in AGE_BANDS:
        if lo <= age <= hi:
            return name
    return None


@dataclass(slots=True)
class KnowledgeBase:
    """Conditions and findings, indexed; built by `osler.knowledge.pack.load_pack`."""

    name: str
    version: str
    conditions: list[ConditionDef]
    findings: list[FindingDef]
    license_note: str = ""
    _conditions: dict[str, ConditionDef] = field(default_factory=dict, init=False, repr=False)
    _findings: dict[str, FindingDef] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self._conditions = {c.id: c for c in self.conditions}
        self._findings = {f.id: f for f in self.findings}

    def condition(self, condition_id: str) -> ConditionDef:
        return self._conditions[condition_id]

    def finding(self, finding_id: str) -> FindingDef:
        return self._findings[finding_id]

    def has_finding(self, finding_id: str) -> bool:
        return finding_id in self._findings

    def has_condition(self, condition_id: str) -> bool:
        return condition_id in self._conditions
