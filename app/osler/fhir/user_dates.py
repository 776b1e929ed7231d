"""A date or date-time typed by a person: FHIR text or the user's own locale format.

One parser for every place a user types a moment (`osler ddx --at`, `osler-gui --at`, the
window's Set 'now' dialog), so they all agree on what a text means. A date without a time
means the *end* of that day, month or year ("what was known by 4 March"). FHIR text without
a zone is UTC, as everywhere in Osler; text in the locale's format is local wall-clock time,
as the timeline's axis shows it. Locale formats are Qt-style patterns (``dd/MM/yyyy HH:mm``)
so the window can pass ``QLocale().dateTimeFormat(...)`` unchanged; no Qt is needed here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo

from osler.fhir.dates import DateParseError, parse_datetime

FHIR_EXAMPLES = "2024-03-04, 2024-03 or 2024-03-04T15:00:00Z"
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# Qt date/time pattern letters, longest first so 'dddd' is not read as 'dd' 'dd'.
_QT_TOKEN = re.compile(r"'(?:[^']|'')*'|d{1,4}|M{1,4}|yyyy|yy|[hH]{1,2}|m{1,2}|s{1,2}|z{1,3}"
                       r"|[Aa][Pp]?|t+|\s+")
_FIELDS = {
    "d": r"(?P<day>\d{1,2})", "dd": r"(?P<day>\d{1,2})",
    "M": r"(?P<month>\d{1,2})", "MM": r"(?P<month>\d{1,2})",
    "MMM": r"(?P<mon>[^\W\d_]{3,}\.?)", "MMMM": r"(?P<mon>[^\W\d_]{3,}\.?)",
    "yyyy": r"(?P<year>\d{4})", "yy": r"(?P<yy>\d{2})",
    "h": r"(?P<hour>\d{1,2})", "hh": r"(?P<hour>\d{1,2})",
    "H": r"(?P<hour>\d{1,2})", "HH": r"(?P<hour>\d{1,2})",
    "m": r"(?P<minute>\d{1,2})", "mm": r"(?P<minute>\d{1,2})",
    "s": r"(?P<second>\d{1,2})", "ss": r"(?P<second>\d{1,2})",
}
_SPACES = re.compile(r"[\s\u00a0\u202f]+")


class UserDateError(DateParseError):
    """The typed text is neither a FHIR date/dateTime nor in one of the accepted formats."""


def parse_user_datetime(text: str, locale_formats: Sequence[str] = (),
                        zone: tzinfo | None = None) -> datetime:
    """The moment a person meant by TEXT, as an aware datetime.

    Accepts FHIR (YYYY, YYYY-MM, YYYY-MM-DD, a full dateTime; a space may replace the 'T')
    and each Qt-style pattern in LOCALE_FORMATS. Dates mean the end of their day, month or
    year. ZONE is the local zone for locale text (default: this computer's).
    Raises UserDateError saying what was expected.
    """
    if not isinstance(text, str) or not text.strip():
        raise UserDateError("no date given (expected e.g. " + _examples(locale_formats) + ")")
    clean = _SPACES.sub(" ", text.strip())
    fhir_error: DateParseError | None = None
    try:
        value, precision = parse_datetime(clean.replace(" ", "T", 1))
    except DateParseError as exc:
        fhir_error = exc
    else:
        return end_of_period(value, precision)
    for fmt in locale_formats:
        parsed = _parse_pattern(clean, fmt, zone)
        if parsed is not None:
            return parsed
    if re.match(r"^\d{4}-\d", clean) and fhir_error is not None:
        raise UserDateError(str(fhir_error)) from None  # FHIR-shaped: its own reason is best
    kind = "FHIR date/dateTime" + (" or local date" if any(locale_formats) else "")
    raise UserDateError(f"not a valid {kind}: {text.strip()[:40]!r} (expected e.g. "
                        f"{_examples(locale_formats)})")


def end_of_period(value: datetime, precision: str) -> datetime:
    """The last microsecond of the year, month or day that starts at VALUE."""
    if precision == "second":
        return value
    naive = value.replace(tzinfo=None)
    if precision == "year":
        end = naive.replace(year=naive.year + 1, month=1, day=1)
    elif precision == "month":
        end = (naive.replace(day=28) + timedelta(days=4)).replace(day=1)
    else:
        end = naive + timedelta(days=1)
    return (end - timedelta(microseconds=1)).replace(tzinfo=value.tzinfo)


def _examples(locale_formats: Sequence[str]) -> str:
    shown = [f for f in locale_formats if f][:2]
    return FHIR_EXAMPLES + "".join(f" or {f}" for f in shown)


def pattern_regex(fmt: str) -> re.Pattern[str]:
    """A regex for a Qt date/time pattern; fields become named groups."""
    parts: list[str] = []
    used: set[str] = set()
    pos = 0
    for m in _QT_TOKEN.finditer(fmt):
        parts.append(re.escape(fmt[pos:m.start()]))
        pos = m.end()
        token = m.group()
        if token.isspace():
            parts.append(r"\s*")
        elif token.startswith("'"):
            parts.append(re.escape(token[1:-1].replace("''", "'")) if token != "''" else "'")
        elif token in _FIELDS:
            regex = _FIELDS[token]
            name = regex[4:regex.index(">")]
            parts.append(regex if name not in used else regex.replace(f"?P<{name}>", "?:"))
            used.add(name)
        elif token in ("ddd", "dddd"):
            parts.append(r"[^\W\d_]+\.?,?")  # a weekday name: read, not checked
        elif token.startswith("z"):
            parts.append(r"(?:\d{1,3})?")
        elif token.lower() in ("a", "ap"):
            parts.append(r"(?P<ampm>[ap]\.?m?\.?)")
        else:  # time zone name or offset: local time is meant anyway
            parts.append(r"(?:\S+)?")
    parts.append(re.escape(fmt[pos:]))
    return re.compile("".join(parts), re.IGNORECASE)


def _parse_pattern(text: str, fmt: str, zone: tzinfo | None) -> datetime | None:
    m = pattern_regex(_SPACES.sub(" ", fmt.strip())).fullmatch(text) if fmt.strip() else None
    if m is None:
        return None
    g = m.groupdict()
    try:
        if g.get("year"):
            year = int(g["year"])
        elif g.get("yy"):
            yy = int(g["yy"])
            year = 2000 + yy if yy < 69 else 1900 + yy  # the POSIX pivot, as strptime's %y
        else:
            return None
        if g.get("mon"):
            month = MONTHS.index(g["mon"][:3].lower()) + 1
        else:
            month = int(g.get("month") or 1)
        day = int(g.get("day") or 1)
        if g.get("hour") is None:
            start = datetime(year, month, day)
            return _localise(end_of_period(start, "day"), zone)
        hour, minute = int(g["hour"]), int(g.get("minute") or 0)
        if g.get("ampm"):
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if g["ampm"][0].lower() == "p" else 0)
        when = datetime(year, month, day, hour, minute, int(g.get("second") or 0))
    except ValueError:  # month 13, 30 February, an unknown month name...
        return None
    if year < 1800:
        return None
    return _localise(when, zone)


def _localise(naive: datetime, zone: tzinfo | None) -> datetime:
    return naive.replace(tzinfo=zone) if zone is not None else naive.astimezone()
