"""Typed dates: one parser for the CLI's --at, osler-gui --at and the Set 'now' dialog."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from osler.fhir.user_dates import UserDateError, end_of_period, parse_user_datetime

PARIS = timezone(timedelta(hours=1))
UK_DATETIME, UK_DATE = "dd/MM/yyyy HH:mm", "dd/MM/yyyy"
US_DATETIME, US_DATE = "M/d/yy h:mm\u202fAP", "M/d/yy"


@pytest.mark.parametrize(("text", "expected"), [
    ("2024", datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
    ("2024-02", datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC)),
    ("2024-03-04", datetime(2024, 3, 4, 23, 59, 59, 999999, tzinfo=UTC)),
    ("2024-03-04T15:00:00Z", datetime(2024, 3, 4, 15, tzinfo=UTC)),
    (" 2024-03-04 15:00:00+01:00 ", datetime(2024, 3, 4, 14, tzinfo=UTC)),
    ("2024-12", datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
])
def test_fhir_text_dates_mean_the_end_of_their_period(text, expected):
    assert parse_user_datetime(text) == expected


@pytest.mark.parametrize(("text", "formats", "expected"), [
    ("04/03/2024 15:07", (UK_DATETIME, UK_DATE), datetime(2024, 3, 4, 15, 7, tzinfo=PARIS)),
    ("4/3/2024", (UK_DATETIME, UK_DATE),
     datetime(2024, 3, 4, 23, 59, 59, 999999, tzinfo=PARIS)),
    ("3/4/24 3:07 PM", (US_DATETIME, US_DATE), datetime(2024, 3, 4, 15, 7, tzinfo=PARIS)),
    ("3/4/24 12:30\u202fam", (US_DATETIME, US_DATE), datetime(2024, 3, 4, 0, 30, tzinfo=PARIS)),
    ("04.03.24 15:07", ("dd.MM.yy HH:mm",), datetime(2024, 3, 4, 15, 7, tzinfo=PARIS)),
    ("4 Mar 1999", ("d MMM yyyy",), datetime(1999, 3, 4, 23, 59, 59, 999999, tzinfo=PARIS)),
    ("2024-03-04 15:07", ("yyyy-MM-dd HH:mm",), datetime(2024, 3, 4, 15, 7, tzinfo=UTC)),
])
def test_locale_formats_are_local_wall_clock_time(text, formats, expected):
    assert parse_user_datetime(text, formats, zone=PARIS) == expected


def test_locale_text_defaults_to_this_computers_zone():
    value = parse_user_datetime("04/03/2024 15:07", (UK_DATETIME,))
    assert value.tzinfo is not None
    assert value.replace(tzinfo=None) == datetime(2024, 3, 4, 15, 7)


@pytest.mark.parametrize("text", ["yesterday", "", "   ", "31/02/2024", "13/13/2024 10:00",
                                  "2024-02-30", "1700"])
def test_bad_text_raises_a_value_error_saying_what_is_expected(text):
    with pytest.raises(UserDateError) as info:
        parse_user_datetime(text, (UK_DATETIME, UK_DATE))
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert "\n" not in message
    if not text.startswith(("2024-", "1700")):
        assert "2024-03-04" in message and UK_DATETIME in message


def test_end_of_period_keeps_the_zone():
    start = datetime(2023, 12, 1, tzinfo=PARIS)
    assert end_of_period(start, "month") == datetime(2023, 12, 31, 23, 59, 59, 999999,
                                                     tzinfo=PARIS)
    assert end_of_period(start, "second") is start


def test_cli_and_window_use_the_same_parser(capsys):
    from osler.cli import InputError, _parse_at
    from osler.ui.app import parse_at

    for text in ("2024-03-04", "2024-03-04 15:00:00Z", "2024"):
        assert _parse_at(text) == parse_at(text) == parse_user_datetime(text)
    with pytest.raises(InputError, match=r"^--at: "):
        _parse_at("yesterday")
