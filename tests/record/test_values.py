"""Values read at clinical precision, one rule for every view."""

from __future__ import annotations

from osler.record.values import format_number, format_value


def test_about_three_significant_figures_and_integers_stay_integers():
    assert format_number(11.4634) == "11.5"
    assert format_number(72.0) == "72"
    assert format_number(118) == "118"
    assert format_number(4.1234) == "4.12"
    assert format_number(0.04632) == "0.0463"
    assert format_number(1234.4) == "1234"  # never coarser than the source's integer
    assert format_number(100.4) == "100.4"  # a fever in Fahrenheit keeps its decimal
    assert format_number(-3.456) == "-3.46"


def test_value_with_unit_and_non_numbers():
    assert format_value(11.4634, "g/dL") == "11.5 g/dL"
    assert format_value("positive", None) == "positive"
    assert format_value(True) == "yes"
    assert format_value(None, "mg/dL") == ""
