"""Unit conversion for threshold rules: the few UCUM units vitals and common labs arrive in.

A value is converted to the rule's canonical unit before it is compared; a unit we cannot
convert yields None (the measurement is then not used, rather than compared wrongly).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Spellings seen in FHIR data and notes, mapped to one UCUM-like spelling.
_ALIASES = {
    "°c": "Cel", "c": "Cel", "degc": "Cel", "cel": "Cel", "deg c": "Cel", "celsius": "Cel",
    "°f": "[degF]", "f": "[degF]", "degf": "[degF]", "[degf]": "[degF]", "deg f": "[degF]",
    "fahrenheit": "[degF]",
    "bpm": "/min", "beats/min": "/min", "{beats}/min": "/min", "/min": "/min",
    "breaths/min": "/min", "{breaths}/min": "/min", "1/min": "/min", "min-1": "/min",
    "per min": "/min", "{beat}/min": "/min", "{breath}/min": "/min",
    "mmhg": "mm[Hg]", "mm[hg]": "mm[Hg]", "mm hg": "mm[Hg]",
    "kpa": "kPa",
    "%": "%", "percent": "%", "{percent}": "%",
    "meq/l": "mmol/L", "mequiv/l": "mmol/L", "meq/liter": "mmol/L",
    "iu/l": "U/L", "[iu]/l": "U/L", "u/l": "U/L", "units/l": "U/L",
    "miu/l": "mU/L", "m[iu]/l": "mU/L", "uiu/ml": "mU/L", "u[iu]/ml": "mU/L", "mu/l": "mU/L",
    "k/ul": "10*3/uL", "k/µl": "10*3/uL", "thou/ul": "10*3/uL", "x10e3/ul": "10*3/uL",
    "10^3/ul": "10*3/uL", "10*3/ul": "10*3/uL", "10e3/ul": "10*3/uL", "x10^3/ul": "10*3/uL",
    "10^9/l": "10*9/L", "10*9/l": "10*9/L", "x10^9/l": "10*9/L", "x10e9/l": "10*9/L",
    "g/l": "g/L", "g/dl": "g/dL", "mg/dl": "mg/dL", "mg/l": "mg/L", "ug/ml": "ug/mL",
    "µg/ml": "ug/mL", "ng/ml": "ng/mL", "ng/l": "ng/L", "pg/ml": "pg/mL", "ug/l": "ug/L",
    "µg/l": "ug/L", "mmol/l": "mmol/L", "umol/l": "umol/L", "µmol/l": "umol/L",
    "mg/l feu": "mg/L", "ug/ml feu": "ug/mL", "ng/ml feu": "ng/mL", "mg/dl feu": "mg/dL",
    "mm/h": "mm/h", "mm/hr": "mm/h", "mm/(1.h)": "mm/h",
    "kg/m2": "kg/m2", "kg/m^2": "kg/m2",
    "/ul": "/uL", "/mm3": "/uL", "cells/ul": "/uL", "{cells}/ul": "/uL", "/µl": "/uL",
    "10*6/ul": "10*6/uL", "10^6/ul": "10*6/uL", "m/ul": "10*6/uL", "10*12/l": "10*12/L",
    "mmol/mol": "mmol/mol",
    "ml/min/{1.73_m2}": "mL/min/{1.73_m2}", "ml/min/1.73m2": "mL/min/{1.73_m2}",
    "ml/min/1.73 m2": "mL/min/{1.73_m2}", "ml/min/[1.73_m2]": "mL/min/{1.73_m2}",
    "ml/min/1.73m^2": "mL/min/{1.73_m2}", "ml/min/1.73 m^2": "mL/min/{1.73_m2}",
    "ml/min/{1.73_m2}.": "mL/min/{1.73_m2}",
}

# Amount kinds: quantity per unit of the base (g, mol, count, unit), and the volume factor.
_PREFIX = {"": 1.0, "k": 1e3, "d": 1e-1, "c": 1e-2, "m": 1e-3, "u": 1e-6, "µ": 1e-6,
           "n": 1e-9, "p": 1e-12, "f": 1e-15}
_CONC = re.compile(r"^(?P<np>[kdcmunpfµ]?)(?P<nb>g|mol|U)/(?P<dp>[kdcmunpfµ]?)L$")
_COUNT = re.compile(r"^(?:10\*(?P<exp>\d+))?/(?P<dp>[kdcmunpfµ]?)L$")


@dataclass(frozen=True, slots=True)
class _Dim:
    kind: str  # "mass", "molar", "enzyme", "count", "other"
    factor: float  # to the base unit of the kind (g/L, mol/L, U/L, /L)


def canonical_unit(unit: str | None) -> str | None:
    """One spelling for a unit string ('mg/dl' -> 'mg/dL', 'bpm' -> '/min'); None if empty."""
    if unit is None:
        return None
    u = " ".join(unit.strip().split())
    if not u:
        return None
    return _ALIASES.get(u.lower(), u)


def _dimension(unit: str) -> _Dim | None:
    m = _CONC.match(unit)
    if m:
        kind = {"g": "mass", "mol": "molar", "U": "enzyme"}[m["nb"]]
        return _Dim(kind, _PREFIX[m["np"]] / _PREFIX[m["dp"]])
    m = _COUNT.match(unit)
    if m:
        exp = int(m["exp"]) if m["exp"] else 0
        return _Dim("count", 10.0**exp / _PREFIX[m["dp"]])
    if unit == "mU/L":
        return _Dim("enzyme", 1e-3)
    return None


def convert(value: float, unit: str | None, target: str,
            molar_mass: float | None = None) -> float | None:
    """`value` in `unit` expressed in `target`, or None when the units are not convertible.

    A missing unit is taken to be the target unit only for dimensionless targets ('%').
    Mass and molar concentrations convert through `molar_mass` (g/mol) when it is given.
    """
    tgt = canonical_unit(target) or target
    src = canonical_unit(unit)
    if src is None:
        return value if tgt in ("%", "/min") else None
    if src == tgt:
        return value
    if {src, tgt} == {"Cel", "[degF]"}:
        return (value - 32.0) * 5.0 / 9.0 if src == "[degF]" else value * 9.0 / 5.0 + 32.0
    if {src, tgt} == {"kPa", "mm[Hg]"}:
        return value * 7.50062 if src == "kPa" else value / 7.50062
    a, b = _dimension(src), _dimension(tgt)
    if a is None or b is None:
        return None
    base = value * a.factor
    if a.kind == b.kind:
        return base / b.factor
    if molar_mass and {a.kind, b.kind} == {"mass", "molar"}:
        base = base / molar_mass if a.kind == "mass" else base * molar_mass
        return base / b.factor
    return None


def is_known_unit(unit: str) -> bool:
    """True if `convert` understands this unit (used to validate KB packs)."""
    u = canonical_unit(unit) or unit
    return u in ("Cel", "[degF]", "kPa", "mm[Hg]", "%", "/min", "mm/h", "kg/m2",
                 "mmol/mol", "mL/min/{1.73_m2}") or _dimension(u) is not None
