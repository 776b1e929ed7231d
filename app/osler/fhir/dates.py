"""FHIR date, dateTime and instant parsing with precision (year, month, day, second)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

_DATETIME = re.compile(
    r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d{1,9}))?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


class DateParseError(ValueError):
    """The text is not a valid FHIR date/dateTime."""


def parse_datetime(text: object) -> tuple[datetime, str]:
    """Parse a FHIR date/dateTime/instant to an aware datetime and its precision.

    Partial dates take the first instant of their period; missing zones are UTC.
    """
    if not isinstance(text, str):
        raise DateParseError(f"expected a date string, got {type(text).__name__}")
    m = _DATETIME.match(text.strip())
    if not m:
        raise DateParseError(f"not a valid FHIR date/dateTime: {text[:40]!r}")
    g = m.groupdict()
    try:
        year, month, day = int(g["y"]), int(g["m"] or 1), int(g["d"] or 1)
        hour, minute = int(g["H"] or 0), int(g["M"] or 0)
        second = int(g["S"] or 0)
        micro = int((g["f"] or "0")[:6].ljust(6, "0"))
        tz = UTC
        if g["tz"] and g["tz"] != "Z":
            sign = 1 if g["tz"][0] == "+" else -1
            hh, mm = int(g["tz"][1:3]), int(g["tz"][4:6])
            if hh > 14 or mm > 59:
                raise ValueError("zone offset out of range")
            tz = timezone(sign * timedelta(hours=hh, minutes=mm))
        if second == 60:  # leap second: FHIR allows it, datetime does not
            second = 59
        value = datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    except ValueError as exc:
        raise DateParseError(f"not a valid FHIR date/dateTime: {text[:40]!r} ({exc})") from exc
    if year < 1800:
        raise DateParseError(f"implausible year in {text[:40]!r}")
    precision = "second" if g["H"] else "day" if g["d"] else "month" if g["m"] else "year"
    return value, precision


def format_time(value: datetime | None, precision: str = "second") -> str | None:
    """ISO text for a parsed time, no more precise than the source was."""
    if value is None:
        return None
    if precision == "year":
        return f"{value.year:04d}"
    if precision == "month":
        return f"{value.year:04d}-{value.month:02d}"
    if precision == "day":
        return value.date().isoformat()
    return value.isoformat()
