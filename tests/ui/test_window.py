"""The real main window, offscreen: opening records on the worker, errors, drops, settings."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QAbstractButton, QApplication, QCheckBox, QLineEdit

from osler.fhir import import_path
from osler.ui.main_window import MainWindow
from osler.ui.resources import demo_case, demo_cases
from tests.ui.conftest import open_and_wait, two_patient_bundle


def test_demo_record_opens_through_the_worker(qtbot, window, monkeypatch):
    import osler.ui.import_worker as worker

    threads = []
    real_import = worker.import_path

    def recording_import(path, cancel, *rest):
        threads.append(threading.get_ident())
        return real_import(path, cancel, *rest)

    monkeypatch.setattr(worker, "import_path", recording_import)
    timeline = open_and_wait(qtbot, window, demo_case())

    assert threads and threads[0] != threading.get_ident(), "the UI thread parsed the file"
    expected = import_path(demo_case()).timeline()
    assert len(timeline) == len(expected) == 20
    assert window.current is timeline
    assert timeline.patient.name == "Walter Demo"
    dated = {}
    for e in expected.dated:
        dated[e.kind.value] = dated.get(e.kind.value, 0) + 1
    assert window.timeline_view.lane_counts() == dated
    assert "Walter Demo" in window.patient_label.text()
    assert window.windowTitle() == "Osler — Walter Demo"


def test_timeline_draws_every_event_of_a_small_record(qtbot, window, small_path):
    timeline = open_and_wait(qtbot, window, small_path)
    window.timeline_view.fit_whole_record()  # it opens on the current episode
    window.timeline_view.grab()
    stats = window.timeline_view.stats
    assert stats.aggregated_lanes == 0
    assert stats.points + stats.spans == len(timeline.dated) == 13
    assert stats.lanes == len(window.timeline_view.visible_lanes()) == 9


def test_not_a_diagnosis_notice_is_always_visible(demo_window):
    notice = demo_window.notice
    assert notice.isVisible()
    assert "not a diagnosis" in notice.text().lower()
    assert not notice.findChildren(QAbstractButton), "the notice must not be dismissable"


def test_broken_file_shows_a_message_and_keeps_the_previous_record(
        qtbot, demo_window, messages, tmp_path):
    before = demo_window.current
    broken = tmp_path / "broken.json"
    broken.write_text('{"resourceType": "Bundle", "entry": [', encoding="utf-8")
    with qtbot.waitSignal(demo_window.recordFailed, timeout=10_000) as failed:
        demo_window.open_path(broken)
    assert messages, "no message box shown"
    title, text = messages[-1]
    assert title == "Could not open record"
    assert str(broken) in text and "invalid JSON at line 1" in text
    assert "previous record stays open" in text
    assert str(broken) in failed.args[0]
    assert demo_window.current is before
    assert demo_window.timeline_view.record.timeline is before
    assert not demo_window.progress.isVisible()


def test_not_fhir_and_missing_files_name_what_is_wrong(qtbot, window, messages, tmp_path):
    not_fhir = tmp_path / "data.json"
    not_fhir.write_text('{"hello": 1}', encoding="utf-8")
    with qtbot.waitSignal(window.recordFailed, timeout=10_000):
        window.open_path(not_fhir)
    assert "missing resourceType" in messages[-1][1] and str(not_fhir) in messages[-1][1]
    with qtbot.waitSignal(window.recordFailed, timeout=10_000):
        window.open_path(tmp_path / "nowhere.json")
    assert "no such file or folder" in messages[-1][1]
    assert window.current is None


def _drag_enter(pos: QPointF, mime: QMimeData) -> QDragEnterEvent:
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier)
    try:
        return QDragEnterEvent(pos, *args)  # PySide6 >= 6.12
    except TypeError:
        return QDragEnterEvent(pos.toPoint(), *args)


def _drop(window: MainWindow, paths: list[Path]) -> tuple[bool, bool]:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = QPointF(window.width() / 2, window.height() / 2)
    enter = _drag_enter(pos, mime)
    QApplication.sendEvent(window, enter)
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
    return enter.isAccepted(), drop.isAccepted()


def test_dropping_a_file_opens_it(qtbot, demo_window, small_path):
    with qtbot.waitSignal(demo_window.recordLoaded, timeout=10_000) as loaded:
        accepted = _drop(demo_window, [small_path])
    assert accepted == (True, True)
    assert loaded.args[0].patient.name == "Ada Testperson"
    assert demo_window.current_path == small_path


def test_dropping_a_folder_of_ndjson_opens_it(qtbot, window, tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    bundle = json.loads(demo_case().read_text(encoding="utf-8"))
    lines = [json.dumps(e["resource"]) for e in bundle["entry"]]
    (folder / "all.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with qtbot.waitSignal(window.recordLoaded, timeout=10_000) as loaded:
        _drop(window, [folder])
    assert len(loaded.args[0]) == 20


def test_text_drop_is_refused(window):
    mime = QMimeData()
    mime.setText("not a file")
    enter = _drag_enter(QPointF(10, 10), mime)
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted()


def test_settings_round_trip_without_patient_data(qtbot, window, app_settings, settings_file,
                                                  small_path):
    open_and_wait(qtbot, window, small_path)
    window.resize(760, 540)  # inside the offscreen platform's 800x600 screen
    qtbot.wait(10)
    window.set_theme("dark")
    window.timeline_panel.checkboxes["lab"].setChecked(False)
    window.main_splitter.setSizes([500, 250])
    sizes = window.main_splitter.sizes()
    window.close()

    text = settings_file.read_text(encoding="utf-8", errors="replace")
    for private in ("Ada", "Testperson", "MRN-0001", "Test Street", "penicillin"):
        assert private not in text, f"settings hold patient data: {private}"

    again = MainWindow(settings=app_settings)
    qtbot.addWidget(again)
    again.show()
    qtbot.wait(10)
    assert again.size() == window.size()
    assert again.theme == "dark"
    assert app_settings.recent_files()[0] == small_path.resolve()
    assert app_settings.last_opened() == small_path.resolve()
    assert "lab" in {k.value for k in again.timeline_view.hidden_kinds()}
    assert abs(again.main_splitter.sizes()[0] - sizes[0]) <= 2
    again.set_theme("light")
    assert app_settings.theme() == "light"


def test_recent_files_menu_and_clear(qtbot, window, small_path, app_settings):
    open_and_wait(qtbot, window, small_path)
    window._fill_recent_menu()
    entries = [a.text() for a in window.recent_menu.actions() if a.text()]
    assert str(small_path.resolve()) in entries
    app_settings.add_recent(small_path.parent / "gone.json")
    window._fill_recent_menu()
    gone = [a for a in window.recent_menu.actions() if a.text().endswith("gone.json")]
    assert gone and not gone[0].isEnabled()
    window.clear_recent_action.trigger()
    assert app_settings.recent_files() == []


def test_demo_menu_lists_every_shipped_case(window):
    titles = [a.text() for a in window.demo_menu.actions()]
    assert len(titles) == len(demo_cases()) >= 1
    assert titles[0] == "Demo chest pain"


def test_multi_patient_input_asks_which_patient(qtbot, window, tmp_path, monkeypatch):
    path = tmp_path / "two.json"
    path.write_text(json.dumps(two_patient_bundle()), encoding="utf-8")
    offered = []

    def choose(self, loaded):
        offered.extend(t.patient.name for t in loaded.result.timelines)
        return loaded.result.timelines[1].patient.id

    monkeypatch.setattr(MainWindow, "choose_patient", choose)
    timeline = open_and_wait(qtbot, window, path)
    assert offered == ["Alma First", "Bert Second"]
    assert timeline.patient.name == "Bert Second" and len(timeline) == 2


def test_choosing_another_patient_of_a_large_input_reads_it_again(qtbot, window, tmp_path,
                                                                   monkeypatch):
    # A large input keeps only its first patient's events; choosing the second opens the
    # file again for that patient alone (0 MB: every input counts as large here).
    monkeypatch.setenv("OSLER_ALL_PATIENTS_MB", "0")
    path = tmp_path / "two.json"
    path.write_text(json.dumps(two_patient_bundle()), encoding="utf-8")
    offered = []

    def choose(self, loaded):
        offered.append([(e.patient.name, e.resources, e.events) for e in loaded.result.roster])
        return loaded.result.roster[1].patient.id

    monkeypatch.setattr(MainWindow, "choose_patient", choose)
    timeline = open_and_wait(qtbot, window, path)
    assert offered == [[("Alma First", 1, 1), ("Bert Second", 2, None)]]  # asked once
    assert timeline.patient.name == "Bert Second" and len(timeline) == 2
    assert window.current is timeline and "Bert Second" in window.patient_label.text()


def test_declining_the_patient_choice_keeps_the_previous_record(qtbot, demo_window, tmp_path,
                                                               monkeypatch):
    path = tmp_path / "two.json"
    path.write_text(json.dumps(two_patient_bundle()), encoding="utf-8")
    monkeypatch.setattr(MainWindow, "choose_patient", lambda self, loaded: None)
    before = demo_window.current
    with qtbot.waitSignal(demo_window.importCancelled, timeout=10_000):
        demo_window.open_path(path)
    assert demo_window.current is before


def test_patient_chooser_dialog_lists_filters_and_returns_the_choice(qtbot, tmp_path):
    from osler.ui.patient_chooser import PatientChooser

    path = tmp_path / "two.json"
    path.write_text(json.dumps(two_patient_bundle()), encoding="utf-8")
    result = import_path(path)
    timelines = result.timelines
    dialog = PatientChooser(str(path), result.roster)
    qtbot.addWidget(dialog)
    names = {dialog.list.topLevelItem(i).text(0) for i in range(dialog.list.topLevelItemCount())}
    assert names == {"Alma First", "Bert Second"}
    assert dialog.chosen() in {t.patient.id for t in timelines}
    dialog.filter.setText("bert")
    assert dialog.chosen() == timelines[1].patient.id
    assert dialog.select(timelines[1].patient.id)


def test_cancel_stops_a_long_import_and_keeps_the_record(qtbot, demo_window, tmp_path):
    from bench.synthetic_record import write_synthetic_bundle

    big = write_synthetic_bundle(tmp_path / "big.json", events=15_000)
    before = demo_window.current
    job = demo_window.open_path(big)
    qtbot.wait(150)  # let it get into the import
    assert demo_window.progress.isVisible() and demo_window.cancel_button.isVisible()
    with qtbot.waitSignal(demo_window.importCancelled, timeout=5_000):
        demo_window.cancel_button.click()
    assert job.token.cancelled
    assert demo_window.current is before, "a cancelled import replaced the record"
    assert not demo_window.progress.isVisible()
    assert demo_window.pool.waitForDone(5_000)
    # The worker threads are clean afterwards: the next import runs normally.
    assert len(open_and_wait(qtbot, demo_window, demo_case())) == 20


def test_about_box_states_intended_use_and_sources(qtbot):
    from osler.ui.about import AboutDialog

    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    text = dialog.text.toPlainText()
    assert "Not a diagnosis" in text
    assert "SymCat" in text and "research and demonstration use" in text
    assert "DDXPlus" in text and "CC-BY 4.0" in text


def test_import_warnings_are_listed(qtbot, window, tmp_path):
    from osler.fhir.builder import BundleBuilder
    from osler.ui.issues_dialog import ImportIssuesDialog

    b = BundleBuilder("warn")
    b.patient("Wendy", "Warning", "female", "1990-01-01")
    b.vital("2024-01-01T10:00:00+00:00", "8867-4", "Heart rate", 70, "/min")
    b.entries[-1]["resource"]["effectiveDateTime"] = "yesterday"
    path = tmp_path / "warn.json"
    path.write_text(json.dumps(b.bundle()), encoding="utf-8")
    open_and_wait(qtbot, window, path)
    assert window.warnings_action.isEnabled()
    assert window.warnings_button.isVisible() and "1 import warning" in \
        window.warnings_button.text()
    dialog = ImportIssuesDialog(window.loaded.result, window)
    qtbot.addWidget(dialog)
    assert "effectiveDateTime" in dialog.list.item(0).text()
    assert window.timeline_panel.undated_button.text() == "Undated (1)"


def test_side_panel_seam_replaces_the_placeholder(window):
    from PySide6.QtWidgets import QLabel

    panel = QLabel("differential")
    old = window.set_side_panel(panel)
    assert old.objectName() == "sidePanelPlaceholder"
    assert window.side_widget is panel and panel.parent() is window.side


def test_every_control_has_an_accessible_name_or_text(demo_window):
    missing = []
    for w in demo_window.findChildren(QAbstractButton) + demo_window.findChildren(QLineEdit):
        if not w.isVisibleTo(demo_window):
            continue
        if not (w.accessibleName() or (isinstance(w, QAbstractButton) and w.text())):
            missing.append(f"{type(w).__name__} {w.objectName()}")
    assert not missing
    boxes = demo_window.timeline_panel.findChildren(QCheckBox)
    assert boxes and all(b.accessibleName().startswith("Show ") for b in boxes)
    assert demo_window.timeline_view.accessibleName() == "Patient timeline"


def test_keyboard_shortcuts_are_bound(window):
    from PySide6.QtGui import QKeySequence

    def keys(action):
        return {k.toString() for k in action.shortcuts()}

    assert QKeySequence(QKeySequence.StandardKey.Open).toString() in keys(window.open_action)
    assert {"+", "-", "0"} <= keys(window.zoom_in_action) | keys(window.zoom_out_action) | \
        keys(window.fit_action)
    assert QKeySequence(QKeySequence.StandardKey.Find).toString() in keys(window.find_action)
    window.find_action.trigger()
    assert QApplication.focusWidget() in (window.timeline_panel.search, None)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_themes_change_the_palette_and_timeline(demo_window, theme):
    demo_window.set_theme(theme)
    image = demo_window.timeline_view.grab().toImage()
    corner = image.pixelColor(image.width() - 3, image.height() - 3)
    assert (corner.lightness() > 128) == (theme == "light")
    assert demo_window.theme_actions[theme].isChecked()


def test_enter_on_an_event_moves_focus_to_its_details(qtbot, demo_window):
    view = demo_window.timeline_view
    hr = next(e for e in demo_window.current if e.display == "Heart rate")
    view.select_event(hr.id)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert demo_window.detail.hasFocus() or QApplication.focusWidget() is demo_window.detail
    assert "Heart rate" in demo_window.detail.toPlainText()


def test_shift_enter_in_search_goes_backwards(qtbot, window, small_path):
    open_and_wait(qtbot, window, small_path)
    panel = window.timeline_panel
    panel.search.setFocus()
    qtbot.keyClicks(panel.search, "blood")  # pressures and leukocytes "in Blood": 4 events
    qtbot.keyClick(panel.search, Qt.Key.Key_Return)
    first = window.timeline_view.selected_event()
    qtbot.keyClick(panel.search, Qt.Key.Key_Return)
    second = window.timeline_view.selected_event()
    qtbot.keyClick(panel.search, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert first != second and window.timeline_view.selected_event() == first
    assert panel.match_label.text() == "1 of 4"


def test_opening_another_record_supersedes_a_running_import(qtbot, window, tmp_path):
    from bench.synthetic_record import write_synthetic_bundle

    big = write_synthetic_bundle(tmp_path / "big.json", events=8_000)
    cancelled: list[bool] = []
    window.importCancelled.connect(lambda: cancelled.append(True))
    first = window.open_path(big)
    timeline = open_and_wait(qtbot, window, demo_case())
    assert first.token.cancelled and timeline.patient.name == "Walter Demo"
    assert window.pool.waitForDone(10_000)
    qtbot.wait(100)  # the superseded worker's report, however late, has been delivered
    # the superseded import never replaces the record nor reports a cancel the user did
    # not ask for, even when its worker notices after the newer import has finished
    assert window.current is timeline and cancelled == []


def test_a_superseded_import_that_stops_late_stays_quiet(qtbot, window, tmp_path,
                                                         monkeypatch):
    import threading

    from osler.ui import main_window as mw

    started, release = threading.Event(), threading.Event()
    real = mw.load_record

    def slow_first(path, token, patient_id=None):
        if path.name == "big.json":
            started.set()
            release.wait(10)  # ignores the cancel until the newer import is done
            token.check()
        return real(path, token, patient_id)

    big = tmp_path / "big.json"
    big.write_text(demo_case().read_text())
    cancelled: list[bool] = []
    window.importCancelled.connect(lambda: cancelled.append(True))
    monkeypatch.setattr(mw, "load_record", slow_first)
    window.open_path(big)
    assert started.wait(10)
    timeline = open_and_wait(qtbot, window, demo_case())
    release.set()
    assert window.pool.waitForDone(10_000)
    qtbot.wait(100)
    assert cancelled == [] and window.current is timeline
