"""Shift dates by one per-patient offset, in FHIR fields and in free text, keeping their format.

A whole number of days is added, so the time of day, the zone and every interval
between a patient's events stay exactly as they were; the offset is never written out.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from osler.fhir.dates import DateParseError, parse_datetime

MAX_SHIFT_DAYS = 365
_SPAN = 2 * MAX_SHIFT_DAYS  # -365..-1 and 1..365


def draw_offset(patient_key: str, secret: bytes | None = None) -> int:
    """Days to shift one patient's dates, uniform on ±1..365 (never 0).

    Random (from `secrets`) unless a secret is given: then derived from it and the
    patient key with HMAC-SHA256, so a trainer can reproduce a case.
    """
    if secret is None:
        n = secrets.randbelow(_SPAN)
    else:
        digest = hmac.new(secret, b"osler-date-shift\0" + patient_key.encode("utf-8"),
                          hashlib.sha256).digest()
        n = int.from_bytes(digest[:8], "big") % _SPAN
    return n - MAX_SHIFT_DAYS if n < MAX_SHIFT_DAYS else n - MAX_SHIFT_DAYS + 1


@dataclass(frozen=True, slots=True)
class DateShift:
    """One patient's offset in days, applied to FHIR values and dates written in text."""

    days: int

    @property
    def delta(self) -> timedelta:
        return timedelta(days=self.days)

    def shift_date(self, day: date) -> date:
        """The date moved by the offset."""
        return day + self.delta

    def shift_fhir(self, text: str) -> str | None:
        """A FHIR date/dateTime/instant moved by the offset, same precision and format.

        None when the text is not a valid FHIR date (the caller removes it: an unshifted
        date must never reach the output). Partial dates shift their mid-point.
        """
        try:
            _, precision = parse_datetime(text)
        except DateParseError:
            return None
        s = text.strip()
        y = int(s[:4])
        try:
            if precision == "year":
                return f"{self.shift_date(date(y, 7, 2)).year:04d}"
            m = int(s[5:7])
            if precision == "month":
                moved = self.shift_date(date(y, m, 15))
                return f"{moved.year:04d}-{moved.month:02d}"
            moved = self.shift_date(date(y, m, int(s[8:10])))
        except (ValueError, OverflowError):
            return None
        if not 1 <= moved.year <= 9999:
            return None
        return moved.isoformat() + s[10:]

    def shift_text(self, text: str) -> tuple[str, int, int]:
        """Dates written in free text shifted (or replaced by [DATE]); with counts.

        Returns (new text, dates shifted, dates removed).
        """
        counts = [0, 0]

        def repl(m: re.Match[str]) -> str:
            out = _replace_text_date(m, self)
            counts[0 if out != DATE_TAG else 1] += 1
            return out

        if not any(c.isdigit() for c in text):
            return text, 0, 0
        new = NUMERIC_DATE.sub(repl, text)
        if _ANY_MONTH.search(new):
            new = NAMED_DATE.sub(repl, new)
        return new, counts[0], counts[1]


DATE_TAG = "[DATE]"

_MONTHS_FULL = ["January", "February", "March", "April", "May", "June", "July", "August",
                "September", "October", "November", "December"]
_MONTHS_ABBR = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                "Dec"]
_WEEKDAYS_FULL = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_WEEKDAYS_ABBR = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
_MONTH_NUMBER = {
    **{n: i + 1 for i, n in enumerate(_MONTHS_FULL)},
    **{n: i + 1 for i, n in enumerate(_MONTHS_ABBR)},
    "Sept": 9,
}


def _cased(words: list[str]) -> str:
    """Alternation of words as written and in capitals (months are matched case-sensitively)."""
    forms = sorted({w for word in words for w in (word, word.upper())}, key=len, reverse=True)
    return "|".join(forms)


_MON = rf"(?:{_cased([*_MONTHS_FULL, *_MONTHS_ABBR, 'Sept'])})"
_WD = rf"(?:{_cased([*_WEEKDAYS_FULL, *_WEEKDAYS_ABBR])})"
_ORD = r"(?:st|nd|rd|th)"

NUMERIC_DATE = re.compile(
    # 2014-03-05, 2014/03/05, 2014.03.05 (a time after it is kept as it is)
    r"(?<![\w/.-])(?P<ymd_y>\d{4})(?P<ymd_s>[-/.])(?P<ymd_m>\d{1,2})(?P=ymd_s)(?P<ymd_d>\d{1,2})"
    r"(?![\d/]|\.\d|[A-SU-Za-z_])"
    # 03/05/2014 (US month first), 05.03.2014 (day first), 3-5-2014
    r"|(?<![\w/.-])(?P<dmy_a>\d{1,2})(?P<dmy_s>[-/.])(?P<dmy_b>\d{1,2})(?P=dmy_s)"
    r"(?P<dmy_y>\d{4})(?![\w/]|\.\d)"
    # 03/05/14: the century is a guess, so the date is removed
    r"|(?<![\w/.-])(?P<short_a>\d{1,2})(?P<short_s>[-/])(?P<short_b>\d{1,2})(?P=short_s)"
    r"(?P<short_y>\d{2})(?![\w/]|[.-]\d)"
    # 2014-03 (ISO year-month)
    r"|(?<![\w/.-])(?P<ym_y>\d{4})-(?P<ym_m>0[1-9]|1[0-2])(?![\w/]|[.-]\d)"
)
NAMED_DATE = re.compile(
    # Monday, March 5th, 2014 / Mar. 5 2014 / March 5
    rf"(?<!\w)(?:(?P<md_wd>{_WD})\.?,?\s+)?(?P<md_mon>{_MON})\.?\s+(?P<md_d>\d{{1,2}})"
    rf"(?P<md_ord>{_ORD})?(?!\d|:)(?:,?\s+(?P<md_y>\d{{4}})(?!\d))?(?!\w)"
    # Monday 5 March 2014 / the 5th of March
    rf"|(?<!\w)(?:(?P<dm_wd>{_WD})\.?,?\s+)?(?P<dm_d>\d{{1,2}})(?P<dm_ord>{_ORD})?"
    rf"(?:\s+of)?\s+(?P<dm_mon>{_MON})\.?(?:,?\s+(?P<dm_y>\d{{4}})(?!\d))?(?!\w)"
    # March 2014
    rf"|(?<!\w)(?P<my_mon>{_MON})\.?,?\s+(?P<my_y>\d{{4}})(?!\d)"
)
_ANY_MONTH = re.compile(rf"{_MON}(?!\w)")


_GROUPS = (*NUMERIC_DATE.groupindex, *NAMED_DATE.groupindex)


def _replace_text_date(m: re.Match[str], shift: DateShift) -> str:
    g = dict.fromkeys(_GROUPS) | m.groupdict()
    try:
        if g["ymd_y"]:
            y, mo, d = int(g["ymd_y"]), int(g["ymd_m"]), int(g["ymd_d"])
            return _splice(m, {}, _numeric(m, shift, y, mo, d, ("ymd_y", "ymd_m", "ymd_d")))
        if g["dmy_y"]:
            a, b, y = int(g["dmy_a"]), int(g["dmy_b"]), int(g["dmy_y"])
            day_first = g["dmy_s"] == "." or a > 12
            mo, d = (b, a) if day_first else (a, b)
            names = ("dmy_y", "dmy_b", "dmy_a") if day_first else ("dmy_y", "dmy_a", "dmy_b")
            return _splice(m, {}, _numeric(m, shift, y, mo, d, names))
        if g["short_y"]:
            return DATE_TAG
        if g["md_mon"]:
            return _named(m, shift, "md")
        if g["dm_mon"]:
            return _named(m, shift, "dm")
        if g["my_mon"]:
            mo = _MONTH_NUMBER[g["my_mon"].title()]
            moved = shift.shift_date(date(int(g["my_y"]), mo, 15))
            return _splice(m, {"my_mon": _month_like(g["my_mon"], moved.month),
                               "my_y": f"{moved.year:04d}"})
        if g["ym_y"]:
            moved = shift.shift_date(date(int(g["ym_y"]), int(g["ym_m"]), 15))
            return f"{moved.year:04d}-{moved.month:02d}"
    except (ValueError, OverflowError, KeyError):
        return DATE_TAG
    return DATE_TAG


def _numeric(m: re.Match[str], shift: DateShift, y: int, mo: int, d: int,
             names: tuple[str, str, str]) -> dict[str, str]:
    """New text for the year, month and day groups, keeping each one's zero-padding."""
    moved = shift.shift_date(date(y, mo, d))
    ny, nm, nd = names
    return {
        ny: f"{moved.year:04d}",
        nm: _padded(m.group(nm), moved.month),
        nd: _padded(m.group(nd), moved.day),
    }


def _padded(old: str, value: int) -> str:
    return f"{value:02d}" if len(old) == 2 else str(value)


def _named(m: re.Match[str], shift: DateShift, p: str) -> str:
    g = m.groupdict()
    mo = _MONTH_NUMBER[g[f"{p}_mon"].title()]
    year = int(g[f"{p}_y"]) if g[f"{p}_y"] else 2000  # a leap year: 29 February exists
    moved = shift.shift_date(date(year, mo, int(g[f"{p}_d"])))
    new: dict[str, str | None] = {
        f"{p}_mon": _month_like(g[f"{p}_mon"], moved.month),
        f"{p}_d": _padded(g[f"{p}_d"], moved.day),
    }
    if g[f"{p}_ord"]:
        new[f"{p}_ord"] = _ordinal(moved.day)
    if g[f"{p}_y"]:
        new[f"{p}_y"] = f"{moved.year:04d}"
    if g[f"{p}_wd"]:
        if g[f"{p}_y"]:
            new[f"{p}_wd"] = _weekday_like(g[f"{p}_wd"], moved.weekday())
        else:
            new[f"{p}_wd"] = None  # weekday of an unknown year: dropped below
    return _splice(m, new)


def _splice(m: re.Match[str], new: dict[str, str | None],
            more: dict[str, str] | None = None) -> str:
    """The matched text with some groups replaced (None drops a weekday and what follows it)."""
    changes = {**{k: v for k, v in new.items() if v is not None}, **(more or {})}
    text, base = m.group(0), m.start(0)
    spans = sorted(((m.start(k) - base, m.end(k) - base, v) for k, v in changes.items()
                    if m.start(k) >= 0), reverse=True)
    for start, end, value in spans:
        text = text[:start] + value + text[end:]
    for k, v in new.items():
        if v is None and k.endswith("_wd") and m.start(k) >= 0:
            # drop "Monday, " when the new weekday cannot be known
            rest = text[m.end(k) - base:]
            text = rest.lstrip(".").lstrip(",").lstrip()
    return text


def _month_like(old: str, month: int) -> str:
    base = old.rstrip(".")
    full = base.title() in _MONTHS_FULL  # "May" counts as a full name
    name = _MONTHS_FULL[month - 1] if full else _MONTHS_ABBR[month - 1]
    return name.upper() if base.isupper() else name


def _weekday_like(old: str, weekday: int) -> str:
    name = _WEEKDAYS_FULL[weekday] if len(old) > 3 else _WEEKDAYS_ABBR[weekday]
    return name.upper() if old.isupper() else name


def _ordinal(day: int) -> str:
    if 11 <= day % 100 <= 13:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
