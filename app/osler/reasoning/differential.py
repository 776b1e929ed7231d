"""The differential: ranked diagnoses with probabilities, evidence, can't-miss flags, next steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from osler.findings import Finding
from osler.reasoning.case import CaseInput
from osler.reasoning.runtime import ModelInfo

CANT_MISS_THRESHOLD = 0.02  # a can't-miss condition at or above 2% is always shown
MAX_PINNED = 5
STATE_NAMES = {"+": "present", "-": "absent", "~": "possible", "demographic": "demographic"}


@dataclass(frozen=True, slots=True)
class Evidence:
    """One input's effect on one diagnosis, measured by leaving it out and re-running the model.

    `weight` is the change in log-odds (natural log) of the diagnosis that the input causes:
    exp(weight) is the factor by which it multiplies the odds, a likelihood ratio as the
    model sees it. `delta` is the same effect in probability points."""

    finding_id: str
    label: str
    state: str  # '+', '-', '~', or 'demographic'
    weight: float  # logit p(dx | all inputs) - logit p(dx | all inputs but this one)
    source: str  # citation: event id, note span, or 'text[a:b]'
    event_id: str | None = None
    span: tuple[int, int] | None = None
    delta: float = 0.0  # p(dx | all inputs) - p(dx | all inputs but this one)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "finding": self.label,
            "id": self.finding_id,
            "present": self.state in ("+", "~"),
            "state": STATE_NAMES.get(self.state, self.state),
            "weight": round(self.weight, 4),
            "delta_probability": round(self.delta, 4),
            "source": self.source,
        }
        if self.event_id:
            doc["event_id"] = self.event_id
        if self.span is not None:
            doc["span"] = list(self.span)
        if self.state == "~":
            doc["certain"] = False
        if self.state == "demographic":
            doc["present"] = True
            doc["demographic"] = True
        return doc


@dataclass(frozen=True, slots=True)
class NextBest:
    """A finding worth checking: expected information gain, and how likely it is present."""

    finding_id: str
    label: str
    information_gain: float  # bits
    p_present: float
    raises: tuple[str, ...] = ()  # diagnoses it would support if present
    lowers: tuple[str, ...] = ()
    reason: str = "information"  # or "required": a diagnosis needs it and it is undocumented

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.finding_id,
            "finding": self.label,
            "information_gain": round(self.information_gain, 4),
            "p_present": round(self.p_present, 4),
            "raises": list(self.raises),
            "lowers": list(self.lowers),
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class PertinentNegative:
    """A finding the diagnosis usually has, reported absent (or not documented at all)."""

    finding_id: str
    label: str
    expected: float  # P(finding | diagnosis) in the KB
    documented_absent: bool
    source: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.finding_id, "finding": self.label, "expected": round(self.expected, 3),
                "documented_absent": self.documented_absent, "source": self.source}


@dataclass(frozen=True, slots=True)
class Diagnosis:
    rank: int
    condition_id: str
    name: str
    icd10: tuple[str, ...]
    probability: float
    cant_miss: bool = False
    cant_miss_rationale: str | None = None
    pinned: bool = False  # shown because can't-miss, though below the top K
    evidence_for: tuple[Evidence, ...] = ()
    evidence_against: tuple[Evidence, ...] = ()
    pertinent_negatives: tuple[PertinentNegative, ...] = ()
    next_best: tuple[NextBest, ...] = ()
    requirements: tuple[Any, ...] = ()  # PrerequisiteStatus of each requires/excludes entry

    @property
    def unmet(self) -> list[Any]:
        """Requirements not documented or documented absent, and exclusions present."""
        return [r for r in self.requirements if r.factor < 1.0]

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "rank": self.rank,
            "id": self.condition_id,
            "name": self.name,
            "icd10": list(self.icd10),
            "probability": round(self.probability, 4),
            "cant_miss": self.cant_miss,
            "evidence_for": [e.to_json() for e in self.evidence_for],
            "evidence_against": [e.to_json() for e in self.evidence_against],
            "pertinent_negatives": [p.to_json() for p in self.pertinent_negatives],
            "next_best": [n.to_json() for n in self.next_best],
            "requirements": [r.to_json() for r in self.requirements],
        }
        if self.cant_miss:
            doc["cant_miss_rationale"] = self.cant_miss_rationale
        if self.pinned:
            doc["pinned"] = True
        return doc


@dataclass(slots=True)
class Differential:
    """Everything the clinician is shown for one case at one time."""

    model: ModelInfo
    case: CaseInput
    findings: list[Finding]
    diagnoses: list[Diagnosis]
    next_best: list[NextBest] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    patient_id: str | None = None
    at: str | None = None
    rationale: dict[str, Any] | None = None
    unlisted: float = 0.0  # share of probability for 'a diagnosis not in Osler's list'
    adequacy: Any = None  # reasoning.adequacy.Adequacy
    rare: Any = None  # rare.panel.RarePanel: similarities, never mixed with probabilities
    disclaimer: str = ("Decision support, not a diagnosis: probabilities are model estimates "
                       "calibrated on public vignettes, not validated in patients.")

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model.to_json(),
            "findings": [f.to_json() for f in self.findings],
            "differential": [d.to_json() for d in self.diagnoses],
            "next_best": [n.to_json() for n in self.next_best],
            "demographics": {"age": self.case.age, "sex": self.case.sex},
            "patient": self.patient_id,
            "at": self.at,
            "unlisted_probability": round(self.unlisted, 4),
            "adequacy": self.adequacy.to_json() if self.adequacy is not None else None,
            "warnings": self.warnings,
            "disclaimer": self.disclaimer,
            **({"rationale": self.rationale} if self.rationale is not None else {}),
            "rare": self.rare.to_json() if self.rare is not None else None,
        }

    def fingerprint(self) -> str:
        """Stable hash of the inputs the model saw (for the audit trail)."""
        import hashlib
        import json

        doc = {"age": self.case.age, "sex": self.case.sex, "findings": self.case.findings,
               "model": self.model.sha256 or self.model.id}
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
