"""The knowledge base's value types. The pack format and the loader live beside this file."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

_T = TypeVar("_T")
_derived_lock = threading.RLock()


class KnowledgeError(Exception):
    """A KB pack is missing, malformed or inconsistent; says which file and entry."""

    def __init__(self, message: str, file: str | None = None, entry: str | None = None,
                 field: str | None = None):
        self.message = message
        self.file = file
        self.entry = entry
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [p for p in (self.file, self.entry, self.field) if p]
        return ": ".join([*parts, self.message])


OPS = ("<", "<=", ">", ">=")


@dataclass(frozen=True, slots=True)
class ThresholdRule:
    """How a vital or lab value becomes a finding: LOINC codes, comparison, threshold."""

    loinc: tuple[str, ...]
    op: str  # one of "<", "<=", ">", ">="
    value: float
    unit: str  # canonical UCUM unit the value is compared in
    sex: str | None = None  # "female"/"male": the rule applies to that sex only
    molar_mass: float | None = None  # g/mol, to compare mass and molar concentrations
    min_age: float | None = None  # years: the rule applies from this age ...
    max_age: float | None = None  # ... up to (not including) this age (children's ranges)
    present_only: bool = False  # a value below it decides nothing (children's blood pressure)

    def matches(self, value: float) -> bool:
        op = self.op
        if op == "<":
            return value < self.value
        if op == ">":
            return value > self.value
        return value <= self.value if op == "<=" else value >= self.value

    def describe(self) -> str:
        """'> 100 /min' style text for explanations."""
        who = [self.sex] if self.sex else []
        if self.min_age is not None or self.max_age is not None:
            who.append(age_range_text(self.min_age, self.max_age))
        note = f" ({', '.join(who)})" if who else ""
        return f"{self.op} {self.value:g} {self.unit}{note}"

    def covers_age(self, lo: float, hi: float) -> bool:
        """True if the rule's age range overlaps the ages [lo, hi] (years)."""
        if self.min_age is not None and hi < self.min_age:
            return False
        return self.max_age is None or lo < self.max_age


def age_range_text(lo: float | None, hi: float | None) -> str:
    """'age 1-3 y', 'under 28 days', 'age 12 y and over' for rule descriptions and warnings."""
    def years(a: float) -> str:
        if a < 1:
            months = a * 12
            if months >= 1 and abs(months - round(months)) < 0.01:
                return f"{round(months)} month{'s' if round(months) > 1 else ''}"
            return f"{round(a * 365.25)} days"
        return f"{a:g} y"
    if lo in (None, 0) and hi is not None:
        return f"under {years(hi)}"
    if hi is None:
        return f"age {years(lo or 0)} and over"
    return f"age {years(lo or 0)} to under {years(hi)}"


@dataclass(frozen=True, slots=True)
class RecordRule:
    """How record events other than measurements (conditions, medications, procedures,
    encounters, coded observations) become a history or risk-factor finding."""

    kind: str  # an EventKind value: "condition", "medication", "procedure", "encounter"...
    codes: tuple[str, ...] = ()  # "system|code"; a trailing "*" matches a code prefix
    keywords: tuple[str, ...] = ()  # lower-case words or phrases in the event's display
    exclude: tuple[str, ...] = ()  # display phrases that veto a keyword match
    within_days: int | None = None  # only events at most this many days before the time
    min_days: float | None = None  # encounters: only stays at least this long
    present_values: tuple[str, ...] = ()  # observations: value text meaning "present"
    absent_values: tuple[str, ...] = ()  # observations: value text meaning "absent"


@dataclass(frozen=True, slots=True)
class FindingDef:
    """A finding the reasoning knows: a symptom, sign, vital/lab abnormality or history item."""

    id: str  # stable slug, e.g. "chest-pain", "tachycardia", "history-diabetes"
    label: str
    category: str  # "symptom" | "sign" | "vital" | "lab" | "history" | "risk-factor"
    synonyms: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()  # "system|code" strings (SNOMED CT, LOINC, ICD-10-CM)
    rule: ThresholdRule | None = None
    negated_synonyms: tuple[str, ...] = ()  # phrases meaning "absent" ("afebrile")
    rules: tuple[ThresholdRule, ...] = ()  # all threshold rules; `rule` is the first
    record: tuple[RecordRule, ...] = ()  # history/risk-factor rules over record events
    aliases: tuple[str, ...] = ()  # former or source ids that mean this finding
    parent: str | None = None  # a broader finding this one implies ("sharp-chest-pain")
    sources: tuple[str, ...] = ()  # "symcat", "ddxplus", "osler"
    # Who the finding can describe; text naming it for anyone else is set aside, with a note.
    sex: str | None = None  # "female"/"male": anatomy or physiology of one sex only
    min_age: float | None = None  # years; e.g. pregnancy
    max_age: float | None = None  # years, exclusive; e.g. "irritable infant"
    # How free text may qualify it (extraction only; none of these is a model feature).
    direction: str | None = None  # "increased"/"decreased": "lighter periods" is not heavy
    circumstance: bool = False  # names when symptoms occur ("on exertion"): kept after "worse"
    past: str | None = None  # the finding a past-tense mention means (smoker -> former smoker)
    current_only: bool = False  # a present state (pregnant): a past mention is not this finding
    recent: bool = False  # a recent event (recent travel): an explicitly past one is not it
    # How common the finding is among patients seen in primary care or the emergency
    # department whatever their diagnosis: background findings (history, risk factors) of a
    # condition that does not list them occur at this rate, not at the leak rate.
    base_rate: float | None = None
    # Findings of one equivalence group describe the same complaint in other words
    # ("shortness of breath", "difficulty breathing"): counted once, and one documented
    # member documents the others.
    group: str | None = None

    def __post_init__(self) -> None:
        if self.rules and self.rule is None:
            object.__setattr__(self, "rule", self.rules[0])
        elif self.rule is not None and not self.rules:
            object.__setattr__(self, "rules", (self.rule,))


@dataclass(frozen=True, slots=True)
class NormalSystem:
    """An examination system or test panel whose 'normal' statement makes findings absent:
    'Abdomen: unremarkable' -> no abdominal tenderness, no distension."""

    name: str
    phrases: tuple[str, ...]  # how text names the system ("abdomen", "abdominal exam")
    absent: tuple[str, ...]  # finding ids a normal statement about it makes absent


PREREQUISITE_KINDS = ("finding", "condition", "sex", "age")


@dataclass(frozen=True, slots=True)
class PrerequisiteItem:
    """One alternative of a prerequisite: a finding, a background condition, a sex, or an age
    bound. Written in a pack as 'history-diabetes', 'condition:cirrhosis', 'sex:female',
    'age<1' or 'age>=50'."""

    kind: str  # one of PREREQUISITE_KINDS
    ref: str  # finding id, condition id, "female"/"male", or "<"/">=" for age
    years: float | None = None  # the age bound

    def text(self) -> str:
        """The item as written in a pack."""
        if self.kind == "finding":
            return self.ref
        if self.kind == "age":
            return f"age{self.ref}{self.years:g}"
        return f"{self.kind}:{self.ref}"


@dataclass(frozen=True, slots=True)
class Prerequisite:
    """A background a condition requires (any one of `any_of`) or that excludes it, with the
    clinical basis a reviewer can check."""

    any_of: tuple[PrerequisiteItem, ...]
    basis: str
    note: str = ""


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
    cant_miss_citation: str | None = None
    finding_basis: dict[str, str] = field(default_factory=dict)  # finding id -> where P is from
    prior_basis: str = ""  # how the prior was obtained ("symcat-least-squares", ...)
    literature: str | None = None  # the study the numbers come from, for added conditions
    requires: tuple[Prerequisite, ...] = ()  # every one must hold (any of its items)
    excludes: tuple[Prerequisite, ...] = ()  # any item of any entry makes it very unlikely
    prerequisites_reviewed: bool = False  # requires/excludes were declared, even if empty


HPO_RELATIONS = ("exact", "broader")


@dataclass(frozen=True, slots=True)
class HpoLink:
    """A finding's reviewed Human Phenotype Ontology term (hpo.json): 'exact' when the finding
    means the term, 'broader' when the term is more general than the finding."""

    hpo: str  # "HP:0001744"
    label: str  # the term's name in the pack's HPO release
    relation: str  # one of HPO_RELATIONS


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
    path: Path | None = None  # the pack directory it was loaded from
    manifest: dict[str, Any] = field(default_factory=dict)
    icd10_mapping: dict[str, dict[str, Any]] = field(default_factory=dict)
    blocked_phrases: tuple[str, ...] = ()  # text phrases that name no finding ("sleep paralysis")
    normal_systems: tuple[NormalSystem, ...] = ()  # "abdomen unremarkable" -> absent findings
    episode_windows: dict[str, float] = field(default_factory=dict)  # days, episode.json
    # The reviewed finding -> HPO mapping (hpo.json, optional): finding id -> HPO ids, the
    # links with label and relation, the findings reviewed and left unmapped (id -> reason),
    # and the HPO release it was reviewed against. Empty / None for a pack without hpo.json.
    hpo: dict[str, tuple[str, ...]] = field(default_factory=dict)
    hpo_links: dict[str, tuple[HpoLink, ...]] = field(default_factory=dict)
    hpo_unmapped: dict[str, str] = field(default_factory=dict)
    hpo_version: str | None = None
    _conditions: dict[str, ConditionDef] = field(default_factory=dict, init=False, repr=False)
    _findings: dict[str, FindingDef] = field(default_factory=dict, init=False, repr=False)
    _aliases: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    _derived: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._conditions = {c.id: c for c in self.conditions}
        self._findings = {f.id: f for f in self.findings}
        self._aliases = {a: f.id for f in self.findings for a in f.aliases}

    def condition(self, condition_id: str) -> ConditionDef:
        return self._conditions[condition_id]

    def finding(self, finding_id: str) -> FindingDef:
        """The finding with this id (or with this id among its aliases)."""
        found = self._findings.get(finding_id)
        if found is None:
            found = self._findings[self._aliases[finding_id]]
        return found

    def has_finding(self, finding_id: str) -> bool:
        return finding_id in self._findings

    def has_condition(self, condition_id: str) -> bool:
        return condition_id in self._conditions

    def resolve_finding(self, finding_id: str) -> str | None:
        """The canonical id for an id or alias, or None when the KB does not know it."""
        if finding_id in self._findings:
            return finding_id
        return self._aliases.get(finding_id)

    def derived(self, key: str, build: Callable[[KnowledgeBase], _T]) -> _T:
        """A structure computed from this KB once and kept with it (lexicon, indexes)."""
        with _derived_lock:
            if key not in self._derived:
                self._derived[key] = build(self)
            return self._derived[key]

    def findings_in(self, *categories: str) -> list[FindingDef]:
        """Findings of the given categories, in KB order."""
        wanted = set(categories)
        return [f for f in self.findings if f.category in wanted]
