"""Time-axis ticks: the step follows the zoom, labels never overlap, calendar boundaries."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise

from osler.ui.time_axis import choose_step, ticks


def ts(*args) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


def width(unit: str) -> float:
    return {"minute": 80, "hour": 80, "day": 75, "month": 55, "year": 30}[unit]


def test_step_grows_as_you_zoom_out():
    day = 86400.0
    units = [choose_step(spp, width) for spp in (1, 60, 3600, day, 30 * day, 365 * day)]
    assert units[0][0] == "minute" and units[-1][0] == "year"
    order = ["minute", "hour", "day", "month", "year"]
    assert [order.index(u) for u, _ in units] == sorted(order.index(u) for u, _ in units)


def test_forty_years_on_1400_px_shows_year_ticks_on_january_first():
    start, end = ts(1985, 1, 1), ts(2025, 1, 1)
    spp = (end - start) / 1400
    out = ticks(start, end, spp, width, tz=UTC)
    assert 8 <= len(out) <= 41
    for tick in out:
        when = datetime.fromtimestamp(tick.seconds, UTC)
        assert (when.month, when.day, when.hour) == (1, 1, 0)
        assert tick.label == f"{when.year}"
    gaps = [b.seconds - a.seconds for a, b in pairwise(out)]
    assert min(gaps) / spp >= width("year")


def test_one_month_shows_days_and_one_day_shows_hours():
    start = ts(2024, 3, 1)
    month = ticks(start, ts(2024, 3, 31), (30 * 86400) / 1400, width, tz=UTC)
    assert month[0].label == "01 Mar 2024" and month[0].major
    day = ticks(start, ts(2024, 3, 2), 86400 / 1400, width, tz=UTC)
    assert any(t.label.endswith("12:00") for t in day)


def test_month_steps_cross_years():
    out = ticks(ts(2023, 10, 15), ts(2024, 3, 15), 86400 / 4, width, tz=UTC)
    labels = [t.label for t in out]
    assert "Jan 2024" in labels and "Nov 2023" in labels
    assert next(t for t in out if t.label == "Jan 2024").major


def test_degenerate_ranges_give_no_ticks():
    assert ticks(10.0, 5.0, 1.0, width, tz=UTC) == []
    assert ticks(0.0, 10.0, 0.0, width, tz=UTC) == []
