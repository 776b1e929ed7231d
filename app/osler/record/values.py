"""How a measured value reads: clinically sensible precision, one rule for every view.

Sources store what the analyser or the converter produced (11.4634 g/dL, 98.7654 kg); a
clinician reads 11.5 g/dL and 98.8 kg. About three significant figures, and at least one
decimal below 1000 so that 100.4 °F or 175.2 cm keep theirs; integers stay integers, and
nothing is rounded to a coarser integer than the source gave (1234 stays 1234).
"""

from __future__ import annotations

import math

SIGNIFICANT = 3


def format_number(x: float | int) -> str:
    """'11.5' for 11.4634, '72' for 72.0, '0.0463' for 0.04632, '1234' for 1234.4."""
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return str(x)
    if not math.isfinite(x):
        return str(x)
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    magnitude = abs(x)
    if magnitude >= 1000:
        decimals = 0
    elif magnitude >= 1:
        int_digits = int(math.log10(magnitude)) + 1
        decimals = max(1, SIGNIFICANT - int_digits)
    else:
        # Below 1: significant figures count from the first non-zero digit.
        decimals = SIGNIFICANT - 1 - math.floor(math.log10(magnitude))
    text = f"{x:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def format_value(value: float | int | str | bool | None, unit: str | None = None) -> str:
    """A value with its unit ('11.5 g/dL', '118 /min'); text values as given; '' for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, int | float):
        text = format_number(value)
    else:
        text = str(value)
    return f"{text} {unit}" if unit else text
