"""Presentation mode: large type, high contrast, and no identifiers anywhere on screen."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QAction, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QTableWidget,
    QTextEdit,
    QWidget,
)

from osler.teaching.library import CaseLibrary, load_timeline
from osler.ui.teaching.window import TeachingWindow
from tests.teaching.case_fixtures import (  # noqa: F401
    IDENTIFIERS,
    nb_service,
    private_case_folder,
    write_mini_case,
)


def screen_texts(win: TeachingWindow) -> str:
    """Every text the window can show: widgets (visible or not), actions, the timeline's
    events and the status bar."""
    texts = [win.windowTitle(), win.statusBar().currentMessage()]
    for w in win.findChildren(QWidget):
        texts += [w.toolTip(), w.windowTitle(), w.accessibleName(), w.statusTip(),
                  w.whatsThis()]
        if isinstance(w, QLabel | QAbstractButton):
            texts.append(w.text())
        if isinstance(w, QLineEdit):
            texts += [w.text(), w.placeholderText()]
        if isinstance(w, QTextEdit | QPlainTextEdit):
            texts.append(w.toPlainText())
        if isinstance(w, QComboBox):
            texts += [w.itemText(i) for i in range(w.count())]
        if isinstance(w, QListWidget):
            texts += [w.item(i).text() for i in range(w.count())]
        if isinstance(w, QTableWidget):
            texts += [w.item(r, c).text() for r in range(w.rowCount())
                      for c in range(w.columnCount()) if w.item(r, c) is not None]
    texts += [a.text() + a.toolTip() for a in win.findChildren(QAction)]
    record = win.session_page.timeline_view.record
    if record is not None:
        texts.append(repr(record.timeline.patient))
        for e in record.timeline:
            texts += [e.display, str(e.value), e.text or "", repr(e.extra), repr(e.source)]
    return "\n".join(texts)


@pytest.fixture
def mini_window(qtbot, messages, tmp_path, nb_service):  # noqa: F811
    user = tmp_path / "cases"
    write_mini_case(user)
    win = TeachingWindow(CaseLibrary.load(user=user), service=nb_service, presentation=True)
    qtbot.addWidget(win)
    win.resize(1600, 1000)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.runner.wait(30_000)


def run_whole_session(qtbot, win: TeachingWindow) -> None:
    lp, sp = win.library_page, win.session_page
    assert lp.select_case("mini-breathless")
    lp.trainees.setText("Ana")
    lp.start_button.click()
    sp.all_button.click()
    for e in sp.visible:  # open every event's details, one after another
        sp.timeline_view.select_event(e.id)
        assert sp.detail.event is not None
    sp.trainees.add_entry("pulmonary embolism")
    sp.trainees.commit_button.click()
    with qtbot.waitSignal(sp.modelShown, timeout=30_000):
        sp.model.show_button.click()
    sp.model.gold_button.click()


def test_presentation_mode_shows_no_identifiers(qtbot, mini_window):
    win = mini_window
    run_whole_session(qtbot, win)
    shown = screen_texts(win)
    for identifier in IDENTIFIERS:
        assert identifier not in shown, identifier
    assert "66-year-old male" in shown and "[name]" in shown
    assert "sudden shortness of breath" in shown  # the clinical content is all there
    # The walk would catch an identifier: without presentation mode the note names him.
    win.set_presentation(False)
    for e in win.session_page.visible:
        win.session_page.timeline_view.select_event(e.id)
        if "Zebedee" in win.session_page.detail.toPlainText():
            break
    else:
        pytest.fail("the trainer's view shows the record as it is")
    assert "Zebedee" in screen_texts(win)
    win.set_presentation(True)
    assert "Zebedee" not in screen_texts(win)


def test_presentation_mode_is_large_and_high_contrast(qtbot, mini_window):
    win = mini_window
    run_whole_session(qtbot, win)
    for w in (win.session_page.title, win.session_page.trainees.commit_button,
              win.library_page.table, win.session_page.model.table):
        w.ensurePolished()
        assert w.font().pointSizeF() >= 18, w.objectName()
    pal = win.palette()
    assert pal.color(QPalette.ColorRole.Window).name() == "#000000"
    assert pal.color(QPalette.ColorRole.WindowText).name() == "#ffffff"
    assert not win.library_page.show_answer.isVisible()
    win.set_presentation(False)
    win.session_page.title.ensurePolished()
    assert win.session_page.title.font().pointSizeF() < 18
    assert not win.presentation_action.isChecked()


def test_shipped_case_in_presentation_mode(qtbot, mini_window):
    win = mini_window
    lp, sp = win.library_page, win.session_page
    lp.select_case("crushing-chest-pain-at-rest")
    lp.start_button.click()
    sp.all_button.click()
    for e in sp.visible:
        sp.timeline_view.select_event(e.id)
    patient = load_timeline(win.session.meta).patient
    shown = screen_texts(win)
    for secret in (patient.name, patient.family, *patient.given, *patient.addresses,
                   *(i.value for i in patient.identifiers), patient.birth_date.isoformat()):
        assert secret not in shown, secret
