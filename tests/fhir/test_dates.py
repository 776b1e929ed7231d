from datetime import UTC, datetime, timedelta

import pytest

from osler.fhir.dates import DateParseError, format_time, parse_datetime


@pytest.mark.parametrize("text,expected,precision", [
    ("2020", datetime(2020, 1, 1, tzinfo=UTC), "year"),
    ("2020-05", datetime(2020, 5, 1, tzinfo=UTC), "month"),
    ("2020-05-17", datetime(2020, 5, 17, tzinfo=UTC), "day"),
    ("2020-05-17T10:11:12Z", datetime(2020, 5, 17, 10, 11, 12, tzinfo=UTC), "second"),
    ("2020-05-17T10:11:12.123456789-05:00",
     datetime(2020, 5, 17, 15, 11, 12, 123456, tzinfo=UTC), "second"),
])
def test_valid(text, expected, precision):
    value, p = parse_datetime(text)
    assert value == expected and p == precision


@pytest.mark.parametrize("text", ["", "2020-13-01", "2020-02-30", "yesterday", "20-01-01",
                                  "2020-01-01T25:00:00Z", "2020-01-01T10:00:00+15:00", 2020, None])
def test_invalid(text):
    with pytest.raises(DateParseError):
        parse_datetime(text)


def test_format_keeps_precision():
    value, p = parse_datetime("2020-05")
    assert format_time(value, p) == "2020-05"
    v, _ = parse_datetime("2020-05-17T10:11:12+02:00")
    assert format_time(v) == "2020-05-17T10:11:12+02:00"
    assert v.utcoffset() == timedelta(hours=2)
