"""Unit conversion for threshold rules."""

import pytest

from osler.knowledge.units import canonical_unit, convert, is_known_unit


@pytest.mark.parametrize(("value", "unit", "target", "molar_mass", "expected"), [
    (100.4, "[degF]", "Cel", None, 38.0),
    (38.0, "Cel", "[degF]", None, 100.4),
    (101.3, "°F", "Cel", None, 38.5),
    (200.0, "mg/dL", "mmol/L", 180.16, 11.10),
    (11.1, "mmol/L", "mg/dL", 180.16, 200.0),
    (1.5, "mg/dL", "umol/L", 113.12, 132.6),
    (120.0, "µmol/L", "mg/dL", 113.12, 1.357),
    (125.0, "g/L", "g/dL", None, 12.5),
    (16.2, "10^9/L", "10*3/uL", None, 16.2),
    (16200, "/uL", "10*3/uL", None, 16.2),
    (16.2, "K/uL", "10*3/uL", None, 16.2),
    (0.5, "ug/mL", "ng/mL", None, 500.0),
    (14.0, "ng/L", "ng/mL", None, 0.014),
    (140.0, "mEq/L", "mmol/L", None, 140.0),
    (12.0, "kPa", "mm[Hg]", None, 90.0),
    (88.0, None, "%", None, 88.0),
])
def test_convert(value, unit, target, molar_mass, expected):
    assert convert(value, unit, target, molar_mass) == pytest.approx(expected, rel=2e-3)


def test_unconvertible_is_none_not_a_guess():
    assert convert(5.0, "mg/dL", "mmol/L") is None  # needs a molar mass
    assert convert(5.0, "g/dL", "/min") is None
    assert convert(5.0, None, "mg/dL") is None
    assert convert(5.0, "bananas", "mg/dL") is None


def test_canonical_spellings():
    assert canonical_unit(" mg/dl ") == "mg/dL"
    assert canonical_unit("bpm") == canonical_unit("{beats}/min") == "/min"
    assert canonical_unit("mmHg") == "mm[Hg]"
    assert canonical_unit("") is None and canonical_unit(None) is None
    assert is_known_unit("mL/min/{1.73_m2}") and not is_known_unit("furlongs")
