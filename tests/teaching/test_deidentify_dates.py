"""Per-patient date shifting: FHIR values keep precision and format; dates in text move too."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from osler.fhir.dates import parse_datetime
from osler.teaching.dateshift import MAX_SHIFT_DAYS, DateShift, draw_offset


def test_offsets_are_nonzero_within_a_year_and_keyed_ones_reproduce():
    drawn = {draw_offset("Patient/x") for _ in range(400)}
    assert 0 not in drawn and max(map(abs, drawn)) <= MAX_SHIFT_DAYS
    assert len(drawn) > 200  # uniform over 730 values, not a constant
    keyed = [draw_offset(f"Patient/{i}", b"a trainer's secret") for i in range(20000)]
    assert 0 not in keyed and min(keyed) == -MAX_SHIFT_DAYS and max(keyed) == MAX_SHIFT_DAYS
    assert keyed[:500] == [draw_offset(f"Patient/{i}", b"a trainer's secret") for i in range(500)]
    assert keyed[:500] != [draw_offset(f"Patient/{i}", b"another secret") for i in range(500)]
    assert len(set(keyed[:50])) > 40  # different patients, different offsets


@pytest.mark.parametrize(
    ("original", "days", "expected"),
    [
        ("2014-03-05", 30, "2014-04-04"),
        ("2014-03-05T10:20:30.123-05:00", 30, "2014-04-04T10:20:30.123-05:00"),
        ("2016-12-10T02:39:21+00:00", 30, "2017-01-09T02:39:21+00:00"),
        ("2016-02-28T23:59:59Z", 1, "2016-02-29T23:59:59Z"),
        ("2014-03", 30, "2014-04"),  # month precision: its middle moves
        ("2014-12", 20, "2015-01"),
        ("2014", 30, "2014"),  # year precision: its middle moves
        ("2014", -200, "2013"),
    ],
)
def test_fhir_values_keep_precision_zone_and_time(original, days, expected):
    assert DateShift(days).shift_fhir(original) == expected


@pytest.mark.parametrize("bad", ["2014-02-30", "1799-01-01", "yesterday", "2014-13", ""])
def test_unreadable_dates_are_refused_not_passed_through(bad):
    assert DateShift(10).shift_fhir(bad) is None


def test_intervals_between_instants_are_exact():
    shift = DateShift(-123)
    a, b = "2011-03-27T01:30:00+01:00", "2011-11-02T17:05:09.5-04:00"
    before = parse_datetime(b)[0] - parse_datetime(a)[0]
    after = parse_datetime(shift.shift_fhir(b))[0] - parse_datetime(shift.shift_fhir(a))[0]
    assert before == after


TEXT = ("Seen 2014-03-05T10:00 and 03/05/2014, 5.3.2014, 31/12/2013, 3/5/14. "
        "Monday, March 5th, 2014; Mar. 5 2014; 5 March 2014; the 28th of February; "
        "March 2014; 2014-03; MAY 1, 2010; Sept 2 2014; on May 30.")


def test_dates_in_text_are_shifted_in_their_own_format():
    new, shifted, removed = DateShift(30).shift_text(TEXT)
    assert new == (
        "Seen 2014-04-04T10:00 and 04/04/2014, 4.4.2014, 30/01/2014, [DATE]. "
        "Friday, April 4th, 2014; Apr. 4 2014; 4 April 2014; the 29th of March; "
        "April 2014; 2014-04; MAY 31, 2010; Oct 2 2014; on June 29.")
    assert (shifted, removed) == (13, 1)


def test_a_weekday_of_an_unknown_year_is_dropped_not_left_wrong():
    assert DateShift(-400).shift_text("Tue 5 March") == ("30 January", 1, 0)
    new, _, _ = DateShift(1).shift_text("Sunday, 1 June 2025")
    assert new == f"{datetime(2025, 6, 2).strftime('%A')}, 2 June 2025"


@pytest.mark.parametrize("text", ["strength 5/5", "BP 120/80", "ratio 1:2", "dose 2.5 mg",
                                  "1-2-3 steps", "version 1.2.2014x", "in 2014", "may 5 times",
                                  "code 8302-2", "12/31 split", "10:30"])
def test_numbers_that_are_not_dates_are_left_alone(text):
    assert DateShift(77).shift_text(text) == (text, 0, 0)


def test_shift_date_is_plain_day_arithmetic():
    assert DateShift(-1).shift_date(date(2024, 3, 1)) == date(2024, 2, 29)
