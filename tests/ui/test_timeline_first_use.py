"""Issue 13, items 5 and 8: the timeline on first use. It opens on the current episode,
zooms around 'now', zooms evidence to the event's own scale, marks abnormal values as the
findings judge them, lists stacks and report analytes, shows values at clinical precision,
clears the trend for non-measurements, wraps the lane filters and never overlaps labels."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from osler.fhir import load_timeline
from osler.fhir.builder import BundleBuilder
from osler.record import Event, EventKind, Patient, Timeline
from osler.record.values import format_value
from osler.ui.timeline_layout import build_layout
from osler.ui.timeline_view import LABEL_W, TimelineView
from tests.conftest import shared
from tests.ui.conftest import open_and_wait

DAY = 86400.0


def _named(timeline, text: str) -> Event:
    return next(e for e in timeline if text in e.display)


def _ts(when: datetime) -> float:
    return when.timestamp()


@pytest.fixture
def demo_view(qtbot):
    from osler.ui.resources import demo_case

    v = TimelineView()
    qtbot.addWidget(v)
    v.resize(1100, 520)
    v.show()
    qtbot.waitExposed(v)
    v.set_record(build_layout(load_timeline(demo_case())))
    return v


def _write(tmp_path: Path, builder: BundleBuilder, name: str = "record.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(builder.bundle()), encoding="utf-8")
    return path


def _lab_bundle() -> tuple[BundleBuilder, dict[str, str]]:
    """A woman with a low glucose (no flag, no range), a long-decimal haemoglobin and a
    report listing both plus a blood-pressure panel that has only components."""
    b = BundleBuilder("first-use")
    b.patient("Iris", "Testperson", "female", "1960-02-02")
    when = "2024-05-02T08:00:00+00:00"
    ids = {
        "glucose": b.observation(when, "2345-7", "Glucose [Mass/volume] in Serum or Plasma",
                                 65, "mg/dL"),
        "glucose_ok": b.observation("2024-04-01T08:00:00+00:00", "2345-7",
                                    "Glucose [Mass/volume] in Serum or Plasma", 90, "mg/dL"),
        "hb": b.observation(when, "718-7", "Hemoglobin [Mass/volume] in Blood", 11.4634,
                            "g/dL"),
        "bp": b.blood_pressure(when, 128, 82),
    }
    ids["report"] = b.raw({
        "resourceType": "DiagnosticReport", "status": "final",
        "code": {"text": "Morning bloods"}, "effectiveDateTime": when,
        "subject": {"reference": f"urn:uuid:{b.patient_id}"},
        "result": [{"reference": f"urn:uuid:{ids[k]}"} for k in ("glucose", "hb", "bp")],
    })
    b.note("2024-05-02T09:00:00+00:00", "Feels shaky before breakfast.", title="Clinic note")
    return b, ids


# --- 5a: the current episode ----------------------------------------------------------


def test_a_record_opens_on_its_current_episode_not_the_whole_record(qtbot, demo_window):
    view, timeline = demo_window.timeline_view, demo_window.current
    ed = _named(timeline, "Emergency department visit")
    troponin = _named(timeline, "Troponin")
    t0, t1 = view.window()
    assert t0 < _ts(ed.time) and t1 > _ts(troponin.time)
    assert t1 - t0 < DAY  # the ED visit, not 2012-2024
    assert view.event_rect(troponin.id) is not None
    view.fit_whole_record()
    t0, t1 = view.window()
    assert t0 <= view.record.start and t1 >= view.record.end
    view.show_current_episode()
    assert view.window()[1] - view.window()[0] < DAY
    view.fit_all()  # the old name still fits the whole record
    assert view.window()[0] <= view.record.start


def test_the_episode_follows_the_now_cursor(qtbot, window):
    from osler.ui.app import parse_at
    from osler.ui.resources import demo_case

    inside = parse_at("2024-02-21T10:00:00Z")  # during the knee replacement admission
    timeline = open_and_wait(qtbot, window, demo_case(), now=inside)
    view = window.timeline_view
    admission = _named(timeline, "Admission for knee replacement")
    ed = _named(timeline, "Emergency department visit")
    t0, t1 = view.window()
    assert t0 < _ts(admission.time) and t1 > _ts(admission.end) and t1 < _ts(ed.time)
    between = datetime(2024, 2, 28, tzinfo=UTC)  # after the admission, before the ED visit
    view.set_now(between)
    view.show_current_episode()
    t0, t1 = view.window()
    assert t0 < _ts(admission.time) and t1 >= _ts(between) and t1 < _ts(ed.time)


# --- 5b: keyboard zoom around 'now' ----------------------------------------------------


def test_keyboard_zoom_centres_on_now(qtbot, demo_view):
    view = demo_view
    view.fit_all()
    now = datetime(2016, 6, 1, tzinfo=UTC)
    view.set_now(now)
    middle = LABEL_W + view.plot_width / 2
    assert abs(view.x_of(_ts(now)) - middle) > 50
    view.setFocus()
    spp = view.seconds_per_pixel()
    qtbot.keyClick(view, Qt.Key.Key_Plus)
    assert view.seconds_per_pixel() == pytest.approx(spp / 1.5)
    assert view.x_of(_ts(now)) == pytest.approx(middle, abs=2)
    view.pan_by(200)
    qtbot.keyClick(view, Qt.Key.Key_Minus)
    assert view.x_of(_ts(now)) == pytest.approx(middle, abs=2)


# --- 5c: evidence zooms to the event's own scale ---------------------------------------


def test_highlight_zooms_to_the_scale_of_the_event(qtbot, demo_window):
    view, timeline = demo_window.timeline_view, demo_window.current
    view.fit_all()
    troponin = _named(timeline, "Troponin")
    assert demo_window.highlight_event(troponin.id)
    t0, t1 = view.window()
    assert 0.5 * DAY <= t1 - t0 <= 1.5 * DAY  # a day around a lab
    assert (t0 + t1) / 2 == pytest.approx(_ts(troponin.time), abs=0.05 * (t1 - t0))
    admission = _named(timeline, "Admission for knee replacement")
    assert demo_window.highlight_event(admission.id)
    t0, t1 = view.window()
    stay = _ts(admission.end) - _ts(admission.time)
    assert t0 < _ts(admission.time) and t1 > _ts(admission.end) and t1 - t0 < 2 * stay
    lisinopril = _named(timeline, "lisinopril")  # since 2012, still taken
    assert demo_window.highlight_event(lisinopril.id)
    t0, t1 = view.window()
    assert t0 < _ts(lisinopril.time) and t1 >= view.record.end
    assert view.selected_event() == lisinopril


# --- 5d: abnormal as the findings judge it ---------------------------------------------


def test_a_low_glucose_without_flag_or_range_is_marked_abnormal_everywhere(
        qtbot, window, tmp_path):
    from osler.findings.abnormal import is_abnormal_measurement
    from osler.findings.record import findings_from_record
    from osler.knowledge.pack import default_kb

    b, ids = _lab_bundle()
    timeline = open_and_wait(qtbot, window, _write(tmp_path, b))
    low, ok = (next(e for e in timeline if e.id.endswith(ids[k])) for k in
               ("glucose", "glucose_ok"))
    assert low.flag is None and low.reference_range is None
    findings = findings_from_record(timeline, default_kb())
    assert any(f.id == "hypoglycaemia" and f.present for f in findings)
    assert is_abnormal_measurement(default_kb(), low, "female", 64)
    layout = window.timeline_view.record
    assert layout.is_abnormal(low) and not layout.is_abnormal(ok)
    window.timeline_view.select_event(low.id)
    text = window.detail.toPlainText()
    assert "65 mg/dL" in text and "low" in text and "Hypoglycaemia" in text
    assert list(window.trend.series[0].abnormal) == [False, True]


# --- 5e: a stack of labs ---------------------------------------------------------------


def test_clicking_a_stack_of_labs_lists_them_all(qtbot, demo_window):
    view, timeline = demo_window.timeline_view, demo_window.current
    labs = [e for e in timeline if e.kind == EventKind.LAB]
    assert len(labs) == 4 and len({e.time for e in labs}) == 1
    centre = view.event_rect(labs[0].id).center().toPoint()
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=centre)
    text = demo_window.detail.toPlainText()
    assert "4 events here" in text
    for lab in labs:
        assert lab.display in text


# --- 5f: clinical precision ------------------------------------------------------------


def test_values_read_at_clinical_precision(qtbot, window, tmp_path):
    assert format_value(11.4634, "g/dL") == "11.5 g/dL"
    assert format_value(72.0, "/min") == "72 /min"
    assert format_value(0.04632, "ng/mL") == "0.0463 ng/mL"
    assert format_value(1234.4, "ng/mL") == "1234 ng/mL"
    assert format_value(100.4, "[degF]") == "100.4 [degF]"
    b, ids = _lab_bundle()
    timeline = open_and_wait(qtbot, window, _write(tmp_path, b))
    hb = next(e for e in timeline if e.id.endswith(ids["hb"]))
    view = window.timeline_view
    view.highlight_event(hb.id)
    text = window.detail.toPlainText()
    assert "11.5 g/dL" in text and "11.4634" not in text
    assert window.trend.value_text == "11.5 g/dL"
    view.set_kind_visible(EventKind.LAB, True)
    view.grab()
    labels = [t for _, t in view.stats.labels]
    assert any("11.5 g/dL" in t for t in labels) and not any("11.46" in t for t in labels)


# --- 5g: a report lists its analytes ---------------------------------------------------


def test_a_report_lists_its_analytes_not_observation_ids(qtbot, window, tmp_path):
    b, _ = _lab_bundle()
    timeline = open_and_wait(qtbot, window, _write(tmp_path, b))
    report = next(e for e in timeline if e.kind == EventKind.REPORT)
    window.timeline_view.select_event(report.id)
    text = window.detail.toPlainText()
    assert "Observation/" not in text
    for expected in ("Glucose", "65", "mg/dL", "Hemoglobin", "11.5", "g/dL",
                     "Systolic blood pressure", "128", "mm[Hg]"):
        assert expected in text, expected
    assert "low" in text  # glucose 65 (hypoglycaemia) and Hb 11.5 in a woman (anaemia)


# --- 5h: the trend clears for non-measurements -----------------------------------------


def test_the_trend_clears_when_a_non_measurement_is_selected(qtbot, demo_window):
    view, timeline, trend = demo_window.timeline_view, demo_window.current, \
        demo_window.trend
    view.select_event(_named(timeline, "Troponin").id)
    assert trend.series and trend._stack.currentWidget() is not trend._hint
    view.select_event(_named(timeline, "Triage note").id)
    assert trend.series == [] and trend._stack.currentWidget() is trend._hint
    view.select_event(_named(timeline, "Heart rate").id)
    assert trend.series
    view.select_event(_named(timeline, "lisinopril").id)
    assert trend.series == []


# --- 8: lane filters wrap; labels never overlap ----------------------------------------


def test_lane_filters_wrap_instead_of_scrolling(qtbot):
    from PySide6.QtWidgets import QAbstractScrollArea

    from osler.ui.resources import demo_case
    from osler.ui.timeline_panel import TimelinePanel

    panel = TimelinePanel()
    qtbot.addWidget(panel)
    panel.resize(460, 420)
    panel.show()
    panel.set_record(build_layout(load_timeline(demo_case())))
    host = panel._filter_host
    qtbot.waitUntil(lambda: all(b.isVisible() for b in panel.checkboxes.values()), timeout=2000)
    qtbot.wait(10)
    rows = {box.geometry().top() for box in panel.checkboxes.values()}
    assert len(rows) >= 2
    for box in panel.checkboxes.values():
        assert host.rect().contains(box.geometry())
    parent = host.parentWidget()
    while parent is not None and parent is not panel:
        assert not isinstance(parent, QAbstractScrollArea)
        parent = parent.parentWidget()
    panel.resize(1400, 420)
    qtbot.waitUntil(lambda: len({b.geometry().top() for b in panel.checkboxes.values()}) == 1,
                    timeout=2000)


def _no_label_overlaps(view: TimelineView) -> list[tuple[str, str]]:
    labels = view.stats.labels
    return [(a[1], b[1]) for i, a in enumerate(labels) for b in labels[i + 1:]
            if a[0].intersects(b[0])]


def test_medication_labels_never_overlap(qtbot):
    t0 = datetime(2020, 1, 1, tzinfo=UTC)
    meds = [Event(f"MedicationRequest/{i}", EventKind.MEDICATION, t0 + timedelta(days=20 * i),
                  f"medication number {i} 10 MG Oral Tablet", ongoing=True)
            for i in range(14)]  # more than MAX_ROWS at once: rows are shared
    meds.append(Event("Encounter/x", EventKind.ENCOUNTER, t0 + timedelta(days=400), "Visit"))
    v = TimelineView()
    qtbot.addWidget(v)
    v.resize(1200, 700)
    v.show()
    v.set_record(build_layout(Timeline(Patient("p"), meds)))
    v.fit_whole_record()
    v.grab()
    drawn = [t for _, t in v.stats.labels]
    assert len(drawn) >= 8
    assert _no_label_overlaps(v) == []


def test_no_labels_overlap_on_synthea_records(qtbot):
    folder = shared("synthea_r4")
    v = TimelineView()
    qtbot.addWidget(v)
    v.resize(1200, 700)
    v.show()
    for path in sorted(folder.glob("*.json")):
        v.set_record(build_layout(load_timeline(path)))
        for show in (v.show_current_episode, v.fit_whole_record):
            show()
            v.grab()
            assert _no_label_overlaps(v) == [], (path.name, show.__name__)
