"""The drawable layout of a record: lanes, span rows, abnormal flags, search text."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from osler.record import Coding, Event, EventKind, Patient, ReferenceRange, Timeline
from osler.ui.timeline_layout import MAX_ROWS, build_layout, is_abnormal

T0 = datetime(2020, 1, 1, tzinfo=UTC)


def ev(i, kind, days, end_days=None, ongoing=False, **kw):
    return Event(f"X/{i}", kind, T0 + timedelta(days=days), kw.pop("display", f"e{i}"),
                 end=None if end_days is None else T0 + timedelta(days=end_days),
                 ongoing=ongoing, **kw)


def test_overlapping_spans_get_their_own_rows_and_ongoing_ones_never_end():
    events = [ev(1, EventKind.MEDICATION, 0, 10), ev(2, EventKind.MEDICATION, 5, 20),
              ev(3, EventKind.MEDICATION, 12, 14), ev(4, EventKind.MEDICATION, 30, ongoing=True)]
    lane = build_layout(Timeline(Patient("p"), events)).lanes[0]
    rows = dict(zip((e.id for e in lane.events), lane.rows.tolist()))
    assert rows["X/1"] != rows["X/2"]
    assert rows["X/3"] == rows["X/1"]  # reuses the row freed at day 10
    assert math.isinf(lane.ends[3]) and lane.spans.all()
    assert lane.row_count == 2


def test_rows_are_capped():
    events = [ev(i, EventKind.CONDITION, i, ongoing=True) for i in range(20)]
    lane = build_layout(Timeline(Patient("p"), events)).lanes[0]
    assert lane.row_count == MAX_ROWS and lane.rows.max() == MAX_ROWS - 1


def test_lanes_follow_clinical_order_and_undated_events_are_kept_aside():
    events = [ev(1, EventKind.LAB, 3), ev(2, EventKind.ENCOUNTER, 1, 1.1),
              Event("X/u", EventKind.NOTE, None, "undated note")]
    lay = build_layout(Timeline(Patient("p"), events))
    assert [lane.kind for lane in lay.lanes] == [EventKind.ENCOUNTER, EventKind.LAB]
    assert [e.id for e in lay.undated] == ["X/u"]
    assert lay.locate("X/1") == (1, 0) and lay.locate("X/u") is None
    assert lay.start == (T0 + timedelta(days=1)).timestamp()


def test_visible_queries_use_the_time_window():
    events = [ev(i, EventKind.VITAL, i) for i in range(100)] + [
        ev(200, EventKind.VITAL, 10, 60)]
    lane = build_layout(Timeline(Patient("p"), events)).lanes[0]
    t = lambda d: (T0 + timedelta(days=d)).timestamp()  # noqa: E731
    assert len(lane.visible_points(t(20), t(29))) == 10
    assert [lane.events[i].id for i in lane.visible_spans(t(50), t(70))] == ["X/200"]
    assert len(lane.visible_spans(t(61), t(70))) == 0


def test_abnormal_flags_from_interpretation_or_range():
    rr = ReferenceRange(4.0, 10.5)
    assert is_abnormal(ev(1, EventKind.LAB, 0, value=16.2, reference_range=rr))
    assert not is_abnormal(ev(2, EventKind.LAB, 0, value=7.0, reference_range=rr))
    assert is_abnormal(ev(3, EventKind.LAB, 0, value="pos", interpretation="POS"))
    assert not is_abnormal(ev(4, EventKind.LAB, 0, value="neg", interpretation="N"))
    assert not is_abnormal(ev(5, EventKind.LAB, 0, value=7.0))


def test_search_covers_codes_values_and_note_text():
    events = [
        ev(1, EventKind.LAB, 0, display="Hemoglobin", codes=(Coding("http://loinc.org",
                                                                   "718-7", "Hgb"),),
           value=9.1),
        ev(2, EventKind.NOTE, 1, display="Triage", text="Denies chest pain."),
    ]
    lay = build_layout(Timeline(Patient("p"), events))
    assert lay.search("718-7") == [(0, 0)]
    assert lay.search("HGB") == [(0, 0)]
    assert lay.search("chest pain") == [(1, 0)]
    assert lay.search("chest pain", {EventKind.LAB}) == []
    assert lay.search("   ") == []
