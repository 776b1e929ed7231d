"""Tick marks for the timeline's time axis: calendar-aware steps chosen to fit the zoom."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

# (unit, count, approximate seconds) from finest to coarsest.
STEPS: tuple[tuple[str, int, float], ...] = (
    ("minute", 1, 60), ("minute", 5, 300), ("minute", 15, 900), ("minute", 30, 1800),
    ("hour", 1, 3600), ("hour", 3, 10800), ("hour", 6, 21600), ("hour", 12, 43200),
    ("day", 1, 86400), ("day", 2, 172800), ("day", 7, 604800), ("day", 14, 1209600),
    ("month", 1, 2629746), ("month", 3, 7889238), ("month", 6, 15778476),
    ("year", 1, 31556952), ("year", 2, 63113904), ("year", 5, 157784760),
    ("year", 10, 315569520), ("year", 20, 631139040), ("year", 50, 1577847600),
    ("year", 100, 3155695200),
)
FORMATS = {
    "minute": "%d %b %H:%M",
    "hour": "%d %b %H:%M",
    "day": "%d %b %Y",
    "month": "%b %Y",
    "year": "%Y",
}
SAMPLE_LABELS = {
    "minute": "28 Sep 23:45",
    "hour": "28 Sep 23:45",
    "day": "28 Sep 2024",
    "month": "Sep 2024",
    "year": "2024",
}


@dataclass(frozen=True, slots=True)
class Tick:
    """One tick: its time (epoch seconds), label, and whether it starts a larger unit."""

    seconds: float
    label: str
    major: bool


def choose_step(seconds_per_px: float, label_px: Callable[[str], float],
                gap_px: float = 18.0) -> tuple[str, int]:
    """The finest step whose labels do not overlap at this zoom."""
    for unit, count, approx in STEPS:
        if approx / seconds_per_px >= label_px(unit) + gap_px:
            return unit, count
    return STEPS[-1][0], STEPS[-1][1]


def _local(ts: float, tz: tzinfo | None) -> datetime:
    return datetime.fromtimestamp(ts, tz)


def _floor(dt: datetime, unit: str, count: int) -> datetime:
    if unit == "year":
        return dt.replace(year=dt.year - dt.year % count, month=1, day=1, hour=0, minute=0,
                          second=0, microsecond=0)
    if unit == "month":
        m0 = (dt.month - 1) - (dt.month - 1) % count
        return dt.replace(month=m0 + 1, day=1, hour=0, minute=0, second=0, microsecond=0)
    if unit == "day":
        base = dt.replace(hour=0, minute=0, second=0, microsecond=0)
        if count == 1:
            return base
        # Multi-day steps line up on Mondays (weeks) or on even days of the epoch.
        if count % 7 == 0:
            return base - timedelta(days=base.weekday())
        return base - timedelta(days=base.toordinal() % count)
    if unit == "hour":
        return dt.replace(hour=dt.hour - dt.hour % count, minute=0, second=0, microsecond=0)
    return dt.replace(minute=dt.minute - dt.minute % count, second=0, microsecond=0)


def _advance(dt: datetime, unit: str, count: int) -> datetime:
    if unit == "year":
        return dt.replace(year=dt.year + count)
    if unit == "month":
        months = dt.month - 1 + count
        return dt.replace(year=dt.year + months // 12, month=months % 12 + 1)
    if unit == "day":
        # Add calendar days on the naive clock so that local midnight stays midnight.
        return (dt.replace(tzinfo=None) + timedelta(days=count)).replace(tzinfo=dt.tzinfo)
    if unit == "hour":
        return dt + timedelta(hours=count)
    return dt + timedelta(minutes=count)


def _is_major(dt: datetime, unit: str) -> bool:
    if unit == "year":
        return dt.year % 10 == 0
    if unit == "month":
        return dt.month == 1
    if unit == "day":
        return dt.day == 1
    return dt.hour == 0 and dt.minute == 0


def ticks(start: float, end: float, seconds_per_px: float,
          label_px: Callable[[str], float] | None = None,
          tz: tzinfo | None = None, limit: int = 400) -> list[Tick]:
    """Ticks between two epoch times; tz None means the machine's local time."""
    if end <= start or seconds_per_px <= 0:
        return []
    measure = label_px or (lambda unit: 7.0 * len(SAMPLE_LABELS[unit]))
    unit, count = choose_step(seconds_per_px, measure)
    fmt = FORMATS[unit]
    try:
        dt = _floor(_local(start, tz), unit, count)
    except (OverflowError, OSError, ValueError):
        return []
    out: list[Tick] = []
    while len(out) < limit:
        try:
            ts = dt.timestamp()
        except (OverflowError, OSError, ValueError):
            break
        if ts > end:
            break
        if ts >= start:
            out.append(Tick(ts, dt.strftime(fmt), _is_major(dt, unit)))
        try:
            dt = _advance(dt, unit, count)
        except (OverflowError, ValueError):
            break
    return out
