"""Measured values -> findings: the KB's threshold rules applied to a LOINC-coded value, and
the vital signs and common labs written in free text ("BP 85/50", "temp 38.9 C", "SpO2 88%").

A value that meets a rule makes the finding present; a value that does not makes it absent
(a normal temperature is evidence against fever). Units are converted to the rule's unit;
a value in a unit that cannot be converted is not used. Rules may be for one sex or an age
range (children's heart and breathing rates); with the sex or age unknown, or known only
to the year, the value decides only if every rule it might fall under agrees.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from osler.findings.population import Age, age_span
from osler.knowledge import FindingDef, KnowledgeBase, ThresholdRule
from osler.knowledge.units import canonical_unit, convert


@dataclass(frozen=True, slots=True)
class Verdict:
    """A finding decided by a measurement."""

    finding: FindingDef
    present: bool
    rules: tuple[ThresholdRule, ...]  # the rule that decided it, or those it failed

    @property
    def rule_text(self) -> str:
        """'> 100 /min (age 12 y and over)': for explanations (built only when asked)."""
        return " and ".join(r.describe() for r in self.rules)


class MeasurementIndex:
    """LOINC code -> the findings whose rules read it, for one KB."""

    def __init__(self, kb: KnowledgeBase):
        self.by_loinc: dict[str, list[FindingDef]] = {}
        self.rules: dict[tuple[str, str], tuple[ThresholdRule, ...]] = {}
        self.adult_rules: dict[tuple[str, str], tuple[ThresholdRule, ...]] = {}
        for f in kb.findings:
            for code in sorted({c for r in f.rules for c in r.loinc}):
                self.by_loinc.setdefault(code, []).append(f)
                rules = tuple(r for r in f.rules if code in r.loinc)
                self.rules[(f.id, code)] = rules
                self.adult_rules[(f.id, code)] = tuple(r for r in rules if r.max_age is None)

    @staticmethod
    def of(kb: KnowledgeBase) -> MeasurementIndex:
        return kb.derived("findings.measurements", MeasurementIndex)

    def judge(self, loinc: str, value: float, unit: str | None, sex: str | None,
              age: Age | None = None) -> list[Verdict]:
        """Every finding this measurement decides, present or absent."""
        out = []
        table = self.rules if age is not None else self.adult_rules  # age unknown: adults'
        for f in self.by_loinc.get(loinc, ()):
            v = decide(f, loinc, value, unit, sex, age, table[(f.id, loinc)])
            if v is not None:
                out.append(v)
        return out


def decide(f: FindingDef, loinc: str, value: float, unit: str | None, sex: str | None,
           age: Age | None = None, rules: tuple[ThresholdRule, ...] | None = None
           ) -> Verdict | None:
    """Present/absent from one value, or None: no rule for this code or population, unit
    unknown, or the rules the patient might fall under (sex unknown; age unknown within
    the year) disagree. With the age unknown, the adults' rule (no upper age) is used.
    `rules`: f's rules for this code, when the caller has them already."""
    span = age_span(age)
    results = []
    last_key: tuple[str, float | None] | None = None
    v: float | None = None
    for r in f.rules if rules is None else rules:
        if loinc not in r.loinc or not _applies(r, sex, span):
            continue
        key = (r.unit, r.molar_mass)
        if key != last_key:  # children's rules share a unit: convert once
            v, last_key = convert(value, unit, r.unit, r.molar_mass), key
        if v is not None:
            ok = r.matches(v)
            if ok or not r.present_only:
                results.append((ok, r))
    if not results:
        return None
    hits = [r for ok, r in results if ok]
    if 0 < len(hits) < len(results) and len(
            {(r.sex, r.min_age, r.max_age) for _, r in results}) > 1:
        return None
    if hits:
        return Verdict(f, True, (hits[0],))
    return Verdict(f, False, tuple(r for _, r in results))


def _applies(r: ThresholdRule, sex: str | None, span: tuple[float, float] | None) -> bool:
    """A rule may apply to this patient (sex unknown: both sexes' rules may)."""
    if r.sex is not None and sex is not None and r.sex != sex:
        return False
    if r.min_age is None and r.max_age is None:
        return True
    if span is None:
        return r.max_age is None  # age unknown: the adults' rule
    return r.covers_age(*span)


# --- values written in text ----------------------------------------------------------

@dataclass(frozen=True, slots=True)
class TextValue:
    """A measurement found in text: LOINC code, value, unit and its character span."""

    loinc: str
    value: float
    unit: str | None
    start: int
    end: int


_NUM = r"(\d{1,3}(?:[.,]\d{1,2})?)"
_SEP = r"\s*\(?\s*(?:of|:|=|was|is|at|reading of|measured at|up to|to|-)?\s*\(?\s*"
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("temp", re.compile(
        r"\b(?:temp(?:erature)?|tmax|t\s*max|febrile to|fever(?:s)?(?: of| to| up to)?|"
        r"pyrexial to)" + _SEP + _NUM +
        r"\s*(°\s*[cf]|º\s*[cf]|deg(?:rees?)?\s*(?:c|f|celsius|fahrenheit)?|[cf](?![a-z]))?",
        re.I)),
    ("hr", re.compile(r"\b(?:hr|heart rate|pulse(?: rate)?|heart_rate)" + _SEP + _NUM +
                      r"\s*(bpm|/min|beats(?:/| per )min(?:ute)?)?", re.I)),
    ("hr", re.compile(r"\b" + _NUM + r"\s*(bpm|beats(?:/| per )min(?:ute)?)\b", re.I)),
    ("rr", re.compile(r"\b(?:rr|resp(?:iratory)?(?: rate)?|respirations?|respiratory_rate)" +
                      _SEP + _NUM + r"\s*(breaths(?:/| per )min(?:ute)?|/min|bpm)?", re.I)),
    ("rr", re.compile(r"\b" + _NUM + r"\s*(breaths(?:/| per )min(?:ute)?)", re.I)),
    ("bp", re.compile(r"\b(?:bp|blood pressure|blood_pressure)" + _SEP +
                      r"(\d{2,3})\s*/\s*(\d{2,3})\s*(mm\s*hg|mmhg)?", re.I)),
    ("bp", re.compile(r"\b(\d{2,3})\s*/\s*(\d{2,3})\s*(mm\s*hg|mmhg)\b", re.I)),
    ("spo2", re.compile(r"\b(?:spo2|sao2|o2 sat(?:uration)?s?|oxygen sat(?:uration)?s?|"
                        r"sats?|saturating|pulse ox(?:imetry)?|oxygen_saturation)" + _SEP +
                        r"(\d{2,3})\s*(%)?", re.I)),
    ("bmi", re.compile(r"\bbmi" + _SEP + r"(\d{2}(?:\.\d)?)", re.I)),
    ("wbc", re.compile(r"\b(?:wbc|white (?:blood )?cell count|white count|wcc|leukocytes?|"
                       r"leucocytes?)" + _SEP + _NUM + r"\s*(x?\s*10\^?9/l|x?\s*10\^?3/[uµ]l|"
                       r"k/[uµ]l|/[uµ]l|/mm3)?", re.I)),
    ("hb", re.compile(r"\b(?:hb|hgb|ha?emoglobin)" + _SEP + _NUM + r"\s*(g/dl|g/l|mmol/l)?",
                      re.I)),
    ("plt", re.compile(r"\b(?:platelets?|plt)(?: count)?" + _SEP + r"(\d{1,4})\s*"
                       r"(x?\s*10\^?9/l|x?\s*10\^?3/[uµ]l|k/[uµ]l)?", re.I)),
    ("glucose", re.compile(r"\b(?:glucose|blood sugar|bgl?|bsl|cbg|fingerstick)" + _SEP +
                           r"(\d{1,4}(?:\.\d)?)\s*(mg/dl|mmol/l)?", re.I)),
    ("hba1c", re.compile(r"\b(?:hba1c|a1c|glycated ha?emoglobin)" + _SEP +
                         r"(\d{1,2}(?:\.\d)?)\s*(%|mmol/mol)?", re.I)),
    ("sodium", re.compile(r"\b(?:sodium|na\+?)" + _SEP + r"(\d{2,3})\s*(mmol/l|meq/l)?", re.I)),
    ("potassium", re.compile(r"\b(?:potassium|k\+)" + _SEP + _NUM + r"\s*(mmol/l|meq/l)?",
                             re.I)),
    ("creatinine", re.compile(r"\b(?:creatinine|creat|cr)" + _SEP + r"(\d{1,4}(?:\.\d{1,2})?)"
                              r"\s*(mg/dl|[uµ]mol/l)?", re.I)),
    ("crp", re.compile(r"\b(?:crp|c-reactive protein)" + _SEP + r"(\d{1,3}(?:\.\d)?)\s*"
                       r"(mg/l|mg/dl)?", re.I)),
    ("lactate", re.compile(r"\b(?:lactate|lactic acid)" + _SEP + _NUM + r"\s*(mmol/l|mg/dl)?",
                           re.I)),
    ("ddimer", re.compile(r"\bd-?\s?dimer" + _SEP + r"(\d{1,5}(?:\.\d{1,2})?)\s*"
                          r"(ng/ml|[uµ]g/ml|mg/l|[uµ]g/l|ng/l)?(?:\s*feu)?", re.I)),
    ("ck", re.compile(r"\b(?:ck|cpk|creatine (?:phospho)?kinase)" + _SEP +
                      r"(\d{1,6}(?:,\d{3})?)\s*(i?u/l)?", re.I)),
    # Total calcium only: ionised calcium (about 1.2 mmol/L) has other limits.
    ("calcium", re.compile(r"\b(?<!ioni[sz]ed )(?:corrected |serum |total )?calcium" + _SEP +
                           r"(\d{1,2}(?:\.\d{1,2})?)\s*(mg/dl|mmol/l)?", re.I)),
]

_LOINC = {"temp": "8310-5", "hr": "8867-4", "rr": "9279-1", "spo2": "2708-6", "bmi": "39156-5",
          "wbc": "6690-2", "hb": "718-7", "plt": "777-3", "glucose": "2345-7",
          "hba1c": "4548-4", "sodium": "2951-2", "potassium": "2823-3", "creatinine": "2160-0",
          "crp": "1988-5", "lactate": "2524-7", "ddimer": "48065-7", "ck": "2157-6",
          "calcium": "17861-6"}
# Plausible ranges; values outside are read as not a measurement (dates, doses, ids).
_RANGE = {"temp": (25, 115), "hr": (20, 250), "rr": (4, 80), "spo2": (50, 100),
          "bmi": (10, 80), "wbc": (0.1, 300), "hb": (2, 250), "plt": (1, 2000),
          "glucose": (0.5, 2000), "hba1c": (3, 20), "sodium": (100, 180),
          "potassium": (1.5, 10), "creatinine": (0.1, 2000), "crp": (0, 600),
          "lactate": (0.1, 40), "ddimer": (0.01, 100000), "ck": (5, 500000),
          "calcium": (0.5, 20), "sbp": (50, 300), "dbp": (20, 200)}


def _unit(kind: str, value: float, raw: str | None) -> str | None:
    """The unit as written, or the one a bare number in this context almost surely has."""
    if raw:
        r = raw.lower().replace(" ", "").replace("µ", "u").replace("º", "°")
        if kind == "temp":
            return "[degF]" if "f" in r else "Cel"
        if "10^9/l" in r or "109/l" in r or "10*9/l" in r:
            return "10*9/L"
        if "10^3" in r or "103/ul" in r or r.startswith("k/"):
            return "10*3/uL"
        return canonical_unit(r)
    defaults = {"temp": "[degF]" if value > 50 else "Cel", "hr": "/min", "rr": "/min",
                "spo2": "%", "bmi": "kg/m2", "wbc": "10*3/uL" if value < 300 else "/uL",
                "hb": "g/dL" if value < 25 else "g/L", "plt": "10*3/uL",
                "glucose": "mg/dL" if value > 35 else "mmol/L", "hba1c": "%" if value < 20
                else "mmol/mol", "sodium": "mmol/L", "potassium": "mmol/L",
                "creatinine": "mg/dL" if value < 20 else "umol/L", "crp": "mg/L",
                "lactate": "mmol/L", "ddimer": "ng/mL" if value >= 20 else "mg/L",
                "ck": "U/L", "calcium": "mg/dL" if value > 4 else "mmol/L"}
    return defaults.get(kind)


# Where a value may start: a measurement word, or a number followed by a unit that names it.
_LEAD = re.compile(r"\b(?:temp|tmax|t\s*max|febrile|fever|pyrexial|hr\b|heart|pulse|rr\b|resp|"
                   r"bp\b|blood|spo2|sao2|o2|oxygen|sats?\b|saturating|bmi|wbc|white|wcc|"
                   r"leu[ck]ocyte|hb\b|hgb|ha?emoglobin|platelet|plt|glucose|bgl?\b|bsl|cbg|"
                   r"fingerstick|hba1c|a1c|glycated|sodium|na\b|potassium|k\+|creat|cr\b|crp|"
                   r"c-reactive|lactate|lactic|d-?\s?dimer|ck\b|cpk|creatine|calcium|corrected|"
                   r"serum|total|\d{1,3}\s*(?:bpm|beats|breaths|/))",
                   re.I)


def values_in_text(text: str) -> Iterator[TextValue]:
    """Vital signs and common labs written in `text`, with their spans."""
    taken = 0  # values are read left to right and never overlap
    for lead in _LEAD.finditer(text):
        pos = lead.start()
        if pos < taken:
            continue
        for kind, pattern in _PATTERNS:
            m = pattern.match(text, pos)
            if m is None:
                continue
            found = list(_read(kind, m))
            if found:
                taken = m.end()
                yield from found
                break


def _read(kind: str, m: re.Match[str]) -> Iterator[TextValue]:
    if kind == "bp":
        sbp, dbp = float(m.group(1)), float(m.group(2))
        lo, hi = _RANGE["sbp"]
        dlo, dhi = _RANGE["dbp"]
        if lo <= sbp <= hi and dlo <= dbp <= dhi and dbp < sbp:
            yield TextValue("8480-6", sbp, "mm[Hg]", m.start(), m.end())
            yield TextValue("8462-4", dbp, "mm[Hg]", m.start(), m.end())
        return
    raw = m.group(1)
    value = float(raw.replace(",", "") if kind == "ck" else raw.replace(",", "."))
    lo, hi = _RANGE[kind]
    if not lo <= value <= hi:
        return
    raw_unit = m.group(2) if m.lastindex and m.lastindex >= 2 else None
    unit = _unit(kind, value, raw_unit)
    if kind == "temp" and unit == "Cel" and not 30 <= value <= 45:
        return
    yield TextValue(_LOINC[kind], value, unit, m.start(), m.end())
