from datetime import UTC, date, datetime

from osler.record import Event, EventKind, Patient, ReferenceRange, Timeline


def ev(i: str, t: datetime | None, kind=EventKind.LAB, value=None, code="x", end=None):
    from osler.record import Coding

    c = Coding("http://loinc.org", code, code)
    return Event(id=i, kind=kind, time=t, display=i, code=c, codes=(c,), value=value, end=end)


def test_events_sorted_oldest_first_with_undated_last():
    t = Timeline(Patient("p"), [ev("b", datetime(2020, 1, 2, tzinfo=UTC)), ev("u", None),
                                ev("a", datetime(2019, 1, 1, tzinfo=UTC))])
    assert [e.id for e in t] == ["a", "b", "u"]
    assert [e.id for e in t.undated] == ["u"]
    assert t.get("b").id == "b" and "u" in t


def test_until_keeps_known_events_only():
    t = Timeline(Patient("p"), [ev(str(i), datetime(2020, 1, i, tzinfo=UTC)) for i in range(1, 10)]
                 + [ev("u", None)])
    cut = t.until(datetime(2020, 1, 4, tzinfo=UTC))
    assert [e.id for e in cut] == ["1", "2", "3", "4", "u"]
    assert len(t.window(datetime(2020, 1, 3, tzinfo=UTC), datetime(2020, 1, 5, tzinfo=UTC))) == 3


def test_series_and_latest_pick_numeric_values_by_code():
    t = Timeline(Patient("p"), [
        ev("1", datetime(2020, 1, 1, tzinfo=UTC), value=5.0, code="hr"),
        ev("2", datetime(2020, 1, 3, tzinfo=UTC), value="n/a", code="hr"),
        ev("3", datetime(2020, 1, 5, tzinfo=UTC), value=7.0, code="hr"),
    ])
    assert [e.id for e in t.series("hr")] == ["1", "3"]
    assert t.latest("hr", datetime(2020, 1, 4, tzinfo=UTC)).id == "1"


def test_flag_from_range_when_no_interpretation():
    e = Event(id="x", kind=EventKind.LAB, time=None, display="wbc", value=16.0,
              reference_range=ReferenceRange(4, 10.5))
    assert e.flag == "H"
    assert Event(id="y", kind=EventKind.LAB, time=None, display="b", value=True).numeric is None


def test_age_and_span_activity():
    p = Patient("p", birth_date=date(2000, 6, 15))
    assert p.age_at(date(2020, 6, 14)) == 19 and p.age_at(date(2020, 6, 15)) == 20
    span = ev("m", datetime(2020, 1, 1, tzinfo=UTC), kind=EventKind.MEDICATION,
              end=datetime(2020, 2, 1, tzinfo=UTC))
    assert span.active_at(datetime(2020, 1, 15, tzinfo=UTC))
    assert not span.active_at(datetime(2020, 3, 1, tzinfo=UTC))
