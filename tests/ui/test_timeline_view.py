"""The timeline widget, driven like a user would: lanes, zoom, pan, filter, search, click,
highlight and the 'now' cursor."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from osler.fhir import load_timeline
from osler.record import EventKind
from osler.ui.timeline_layout import build_layout
from osler.ui.timeline_view import AXIS_H, LABEL_W, TimelineView
from tests.ui.conftest import open_and_wait


@pytest.fixture
def small_timeline(small_path):
    return load_timeline(small_path)


@pytest.fixture
def view(qtbot, small_timeline):
    v = TimelineView()
    qtbot.addWidget(v)
    v.resize(1000, 420)
    v.show()
    qtbot.waitExposed(v)
    v.set_record(build_layout(small_timeline))
    v.fit_whole_record()  # a record opens on its current episode; these tests want it all
    return v


def _event(timeline, display, value=None):
    return next(e for e in timeline if e.display == display
                and (value is None or e.value == value))


def test_one_lane_per_kind_present_in_clinical_order(view, small_timeline):
    kinds = [lane.kind for lane in view.visible_lanes()]
    assert kinds == [EventKind.ENCOUNTER, EventKind.CONDITION, EventKind.MEDICATION,
                     EventKind.VITAL, EventKind.LAB, EventKind.PROCEDURE, EventKind.NOTE,
                     EventKind.IMMUNIZATION, EventKind.ALLERGY]
    assert sum(view.lane_counts().values()) == len(small_timeline.dated)


def test_spans_are_bars_and_ongoing_ones_reach_the_right_edge(view, small_timeline):
    metformin = _event(small_timeline, "metformin 500 MG Oral Tablet")
    rect = view.event_rect(metformin.id)
    assert rect is not None and rect.width() > 100
    assert rect.right() >= view.width()
    colonoscopy = _event(small_timeline, "Colonoscopy")
    assert view.event_rect(colonoscopy.id).width() <= 10


def test_click_selects_the_event_under_the_pointer(qtbot, view, small_timeline):
    wbc = _event(small_timeline, "Leukocytes [#/volume] in Blood", 16.2)
    view.set_window(wbc.time.timestamp() - 86400 * 5, wbc.time.timestamp() + 86400 * 5)
    centre = view.event_rect(wbc.id).center().toPoint()
    with qtbot.waitSignal(view.eventSelected, timeout=2000) as selected:
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=centre)
    assert selected.args == [wbc.id]
    assert view.selected_event() == wbc


def test_clicking_a_stack_of_simultaneous_events_steps_through_them(qtbot, view, small_timeline):
    hr = _event(small_timeline, "Heart rate")
    view.set_window(hr.time.timestamp() - 3600 * 24, hr.time.timestamp() + 3600 * 24)
    centre = view.event_rect(hr.id).center().toPoint()
    stack = {e.id for e in view.events_at(centre)}
    assert len(stack) == 4  # heart rate, temperature, systolic, diastolic at 09:10
    seen = set()
    for _ in range(4):
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=centre)
        seen.add(view.selected_event().id)
    assert seen == stack


def test_hover_lists_the_events_under_the_pointer(qtbot, view, small_timeline):
    from PySide6.QtWidgets import QToolTip

    wbc = _event(small_timeline, "Leukocytes [#/volume] in Blood", 16.2)
    view.set_window(wbc.time.timestamp() - 86400, wbc.time.timestamp() + 86400)
    centre = view.event_rect(wbc.id).center().toPoint()
    qtbot.mouseMove(view, centre)
    qtbot.waitUntil(lambda: "Leukocytes" in QToolTip.text(), timeout=2000)
    assert "16.2" in QToolTip.text() and "high" in QToolTip.text()


def test_zoom_with_keys_wheel_and_fit(qtbot, view):
    view.setFocus()
    spp = view.seconds_per_pixel()
    qtbot.keyClick(view, Qt.Key.Key_Plus)
    assert view.seconds_per_pixel() == pytest.approx(spp / 1.5)
    qtbot.keyClick(view, Qt.Key.Key_Minus)
    assert view.seconds_per_pixel() == pytest.approx(spp)
    anchor = QPointF(600, 200)
    t_anchor = view.time_at(anchor.x())
    view.zoom_by(4.0, anchor.x())
    assert view.time_at(anchor.x()) == pytest.approx(t_anchor, abs=view.seconds_per_pixel())
    qtbot.keyClick(view, Qt.Key.Key_0)
    assert view.seconds_per_pixel() == pytest.approx(spp)


def test_wheel_zooms_and_shift_wheel_pans(qtbot, view):
    from PySide6.QtCore import QPoint as P
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    def wheel(dy, mods=Qt.KeyboardModifier.NoModifier):
        pos = QPointF(500, 200)
        ev = QWheelEvent(pos, view.mapToGlobal(pos), P(0, 0), P(0, dy),
                         Qt.MouseButton.NoButton, mods, Qt.ScrollPhase.NoScrollPhase, False)
        QApplication.sendEvent(view, ev)

    view.zoom_by(8.0)
    spp = view.seconds_per_pixel()
    wheel(120)
    assert view.seconds_per_pixel() < spp
    t0 = view.window()[0]
    wheel(-120, Qt.KeyboardModifier.ShiftModifier)
    assert view.window()[0] > t0


def test_pan_with_arrows_drag_home_and_end(qtbot, view):
    view.zoom_by(20.0)
    view.setFocus()
    t0 = view.window()[0]
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert view.window()[0] > t0
    qtbot.keyClick(view, Qt.Key.Key_Left)
    assert view.window()[0] == pytest.approx(t0)
    qtbot.keyClick(view, Qt.Key.Key_Home)
    start = view.window()[0]
    assert start <= view.record.start
    qtbot.keyClick(view, Qt.Key.Key_End)
    assert view.window()[1] >= view.record.end
    before = view.window()[0]
    y = int(view.visible_lanes() and 200)
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(700, y))
    qtbot.mouseMove(view, QPoint(500, y))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(500, y))
    assert view.window()[0] > before  # dragging left shows later times


def test_kind_filter_hides_lanes_and_their_matches(view):
    view.set_search("leukocytes")
    assert len(view.matches()) == 2
    view.set_kind_visible(EventKind.LAB, False)
    assert "lab" not in view.lane_counts()
    assert view.matches() == []
    view.set_kind_visible("lab", True)
    assert view.lane_counts()["lab"] == 2 and len(view.matches()) == 2


def test_search_matches_display_code_and_note_text(view, small_timeline):
    assert view.set_search("PENICILLIN") == 1
    assert view.set_search("6690-2") == 2  # LOINC code
    assert view.set_search("denies chest pain") == 1  # inside the note text
    assert view.set_search("zzz-no-such-thing") == 0
    assert view.set_search("") == 0


def test_next_and_previous_match_select_and_wrap(qtbot, view, small_timeline):
    view.set_search("leukocytes")
    old, new = sorted((e for e in small_timeline if e.display.startswith("Leukocytes")),
                      key=lambda e: e.time)
    with qtbot.waitSignal(view.searchResults) as results:
        assert view.next_match() == old.id
    assert results.args == [1, 2]
    assert view.next_match() == new.id
    assert view.next_match() == old.id  # wraps
    assert view.previous_match() == new.id
    assert view.selected_event() == new


def test_search_highlights_are_painted(qtbot, view, small_timeline):
    proc = _event(small_timeline, "Colonoscopy")
    view.set_window(proc.time.timestamp() - 86400 * 30, proc.time.timestamp() + 86400 * 30)
    rect = view.event_rect(proc.id)
    probe = QPoint(int(rect.center().x()), int(rect.top()) - 2)
    plain = view.grab().toImage().pixelColor(probe)
    view.set_search("colonoscopy")
    lit = view.grab().toImage().pixelColor(probe)
    assert plain != lit and lit.red() > 200  # the amber match halo


def test_highlight_event_scrolls_selects_and_flashes(qtbot, view, small_timeline):
    wbc = _event(small_timeline, "Leukocytes [#/volume] in Blood", 7.1)
    view.set_window(datetime(2005, 1, 1, tzinfo=UTC).timestamp(),
                    datetime(2006, 1, 1, tzinfo=UTC).timestamp())
    assert view.event_rect(wbc.id) is None
    with qtbot.waitSignal(view.eventHighlighted) as hl:
        assert view.highlight_event(wbc.id)
    assert hl.args == [wbc.id, None]
    t0, t1 = view.window()
    assert t0 < wbc.time.timestamp() < t1
    assert view.selected_event() == wbc and view.event_rect(wbc.id) is not None
    assert view._flash.isActive()
    assert not view.highlight_event("Observation/not-in-this-record")


def test_highlight_shows_a_hidden_lane(view, small_timeline):
    note = _event(small_timeline, "ED note")
    view.set_kind_visible(EventKind.NOTE, False)
    assert view.highlight_event(note.id, (10, 20))
    assert "note" in view.lane_counts()


def test_highlight_zooms_into_a_dense_record(qtbot, tmp_path):
    from bench.synthetic_record import write_synthetic_bundle

    timeline = load_timeline(write_synthetic_bundle(tmp_path / "dense.json", events=4000))
    v = TimelineView()
    qtbot.addWidget(v)
    v.resize(900, 500)
    v.show()
    v.set_record(build_layout(timeline))
    v.fit_whole_record()
    v.grab()
    assert v.stats.aggregated_lanes >= 2  # vitals and labs drawn as density at fit-all
    lab = next(e for e in timeline.dated if e.kind == EventKind.LAB)
    v.highlight_event(lab.id)
    v.grab()
    lane = next(la for la in v.visible_lanes() if la.kind == EventKind.LAB)
    t0, t1 = v.window()
    assert len(lane.visible_points(t0, t1)) <= v.plot_width / 2
    assert v.event_rect(lab.id) is not None


def test_now_cursor_emits_and_greys_later_events(qtbot, view, small_timeline):
    wbc_new = _event(small_timeline, "Leukocytes [#/volume] in Blood", 16.2)
    wbc_old = _event(small_timeline, "Leukocytes [#/volume] in Blood", 7.1)
    view.set_window(wbc_old.time.timestamp() - 86400 * 60, wbc_new.time.timestamp() + 86400 * 60)
    centre = view.event_rect(wbc_new.id).center().toPoint()
    before = view.grab().toImage().pixelColor(centre)
    cut = datetime(2024, 1, 1, tzinfo=UTC)
    with qtbot.waitSignal(view.nowChanged) as changed:
        view.set_now(cut)
    assert changed.args == [cut]
    assert view.is_greyed(wbc_new.id) and not view.is_greyed(wbc_old.id)
    after = view.grab().toImage().pixelColor(centre)
    assert after.lightness() > before.lightness() + 40  # washed out toward the background
    old_centre = view.event_rect(wbc_old.id).center().toPoint()
    view.set_now(None)
    old_before = view.grab().toImage().pixelColor(old_centre)
    view.set_now(cut)
    assert view.grab().toImage().pixelColor(old_centre) == old_before  # earlier: not greyed


def test_dragging_the_now_cursor_sets_the_time_under_the_pointer(qtbot, view):
    view.set_now(datetime(2023, 6, 1, tzinfo=UTC))
    x0 = int(view.x_of(view.now().timestamp()))
    y = AXIS_H + 40
    target = x0 - 150
    with qtbot.waitSignal(view.nowChanged) as changed:
        qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(x0, y))
        qtbot.mouseMove(view, QPoint(target, y))
        qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(target, y))
    assert changed.args[0].timestamp() == pytest.approx(view.time_at(target),
                                                        abs=view.seconds_per_pixel() * 2)
    with qtbot.waitSignal(view.nowChanged) as cleared:
        view.set_now(None)
    assert cleared.args == [None]


def test_keyboard_selection_moves_along_and_across_lanes(qtbot, view):
    view.setFocus()
    with qtbot.waitSignal(view.eventSelected):
        qtbot.keyClick(view, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    first = view.selected_event()
    assert first is not None and first.kind == EventKind.ENCOUNTER
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert view.selected_event().kind == EventKind.CONDITION
    qtbot.keyClick(view, Qt.Key.Key_Down)
    qtbot.keyClick(view, Qt.Key.Key_Down)
    vital = view.selected_event()
    assert vital.kind == EventKind.VITAL
    qtbot.keyClick(view, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    assert view.selected_event().kind == EventKind.VITAL
    assert "Selected:" in view.accessibleDescription()
    qtbot.keyClick(view, Qt.Key.Key_Escape)
    assert view.selected_event() is None


def test_empty_and_undated_records_paint_a_hint(qtbot):
    from osler.record import Event, Patient, Timeline

    v = TimelineView()
    qtbot.addWidget(v)
    v.resize(600, 300)
    v.show()
    v.grab()  # no record
    undated = Timeline(Patient("p"), [Event("Observation/x", EventKind.LAB, None, "Thing")])
    v.set_record(build_layout(undated))
    v.grab()
    assert v.visible_lanes() == [] and v.stats.lanes == 0


def test_clicking_in_the_gutter_or_axis_selects_nothing(qtbot, view):
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(LABEL_W // 2, 100))
    assert view.selected_event() is None


# --- through the window: details, trends, highlight with a note span -------------------


def test_selecting_an_event_shows_its_details(qtbot, window, small_path):
    timeline = open_and_wait(qtbot, window, small_path)
    wbc = _event(timeline, "Leukocytes [#/volume] in Blood", 16.2)
    window.timeline_view.select_event(wbc.id)
    text = window.detail.toPlainText()
    assert "Leukocytes" in text and "16.2 10*3/uL" in text and "high" in text
    assert "4–10.5" in text and "LOINC 6690-2" in text
    assert "Emergency department visit (01 Mar 2024 09:00 UTC" in text  # its encounter


def test_lab_trend_has_its_reference_range(qtbot, window, small_path):
    timeline = open_and_wait(qtbot, window, small_path)
    wbc = _event(timeline, "Leukocytes [#/volume] in Blood", 16.2)
    window.timeline_view.select_event(wbc.id)
    assert [len(s.events) for s in window.trend.series] == [2]
    assert window.trend.range_shown == (4.0, 10.5)
    assert list(window.trend.series[0].abnormal) == [False, True]


def test_blood_pressure_trend_plots_systolic_and_diastolic(qtbot, demo_window):
    systolic = next(e for e in demo_window.current if e.id.endswith("#8480-6"))
    demo_window.timeline_view.select_event(systolic.id)
    codes = [s.code for s in demo_window.trend.series]
    assert codes == ["8480-6", "8462-4"]
    assert [len(s.events) for s in demo_window.trend.series] == [2, 2]


def test_highlight_with_a_note_span_marks_the_cited_text(qtbot, demo_window):
    note = next(e for e in demo_window.current if e.display == "Triage note")
    start = note.text.index("Sharp chest pain")
    span = (start, start + len("Sharp chest pain"))
    assert demo_window.highlight_event(note.id, span)
    assert demo_window.timeline_view.selected_event() == note
    assert demo_window.detail.marked_text() == "Sharp chest pain"
    demo_window.timeline_view.select_event(note.id)  # a plain selection marks nothing
    assert demo_window.detail.marked_text() == ""


def test_window_now_changes_reach_the_trend_and_the_window_signal(qtbot, demo_window):
    hr = next(e for e in demo_window.current if e.display == "Heart rate")
    demo_window.timeline_view.select_event(hr.id)
    when = datetime(2024, 3, 1, tzinfo=UTC)
    with qtbot.waitSignal(demo_window.nowChanged) as changed:
        demo_window.set_now(when)
    assert changed.args == [when]
    assert demo_window.trend._now_line is not None
    assert "Now: 01 Mar 2024" in demo_window.timeline_panel.now_label.text()


def test_open_with_at_sets_the_now_cursor(qtbot, window):
    from osler.ui.app import parse_at
    from osler.ui.resources import demo_case

    when = parse_at("2024-03-04T14:07:00Z")
    open_and_wait(qtbot, window, demo_case(), now=when)
    assert window.timeline_view.now() == when
    greyed = [e for e in window.current.dated if window.timeline_view.is_greyed(e.id)]
    assert greyed and all(e.time > when for e in greyed)


def test_lane_checkboxes_stay_fully_visible_when_they_overflow(qtbot, small_timeline):
    from osler.ui.timeline_panel import TimelinePanel

    panel = TimelinePanel()
    qtbot.addWidget(panel)
    panel.resize(500, 400)
    panel.show()
    panel.set_record(build_layout(small_timeline))
    host = panel._filter_host
    qtbot.waitUntil(lambda: all(b.isVisible() for b in panel.checkboxes.values()), timeout=2000)
    for box in panel.checkboxes.values():  # wrapped onto more lines, none cut off
        assert host.rect().contains(box.geometry())
    panel.checkboxes["lab"].setChecked(False)
    assert "lab" not in panel.view.lane_counts()
