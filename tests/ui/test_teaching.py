"""Teaching mode end to end, offscreen: library → case → stages → commit → model → export."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QFileDialog

from osler.teaching.library import CaseLibrary
from osler.ui.teaching.window import TeachingWindow
from tests.conftest import small_bundle
from tests.teaching.case_fixtures import (  # noqa: F401
    nb_service,
    private_case_folder,
    write_mini_case,
)


@pytest.fixture
def teaching(qtbot, messages, tmp_path, nb_service):  # noqa: F811
    win = TeachingWindow(CaseLibrary.load(user=tmp_path / "my-cases"), service=nb_service)
    qtbot.addWidget(win)
    win.resize(1400, 880)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.runner.wait(30_000)


def click(qtbot, button) -> None:
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def add(qtbot, panel, text: str) -> None:
    qtbot.keyClicks(panel.entry, text)
    click(qtbot, panel.add_button)


def test_library_filters(qtbot, teaching):
    lp = teaching.library_page
    total = lp.table.rowCount()
    assert total >= 8 and not lp.problems.text()
    lp.specialty.setCurrentText("respiratory")
    assert {c.specialty for c in lp.shown} == {"respiratory"} and lp.table.rowCount() == 2
    lp.difficulty.setCurrentText("Advanced")
    assert lp.table.rowCount() == 0 and not lp.start_button.isEnabled()
    lp.specialty.setCurrentIndex(0)
    lp.difficulty.setCurrentIndex(0)
    qtbot.keyClicks(lp.text, "occipital")
    assert [c.id for c in lp.shown] == ["sudden-severe-headache"]
    assert "Subarachnoid" not in lp.details.toPlainText()  # the answer stays hidden...
    lp.show_answer.setChecked(True)
    assert "Subarachnoid haemorrhage" in lp.details.toPlainText()  # ...until the trainer asks
    lp.text.clear()
    assert lp.table.rowCount() == total


def test_teaching_flow_end_to_end(qtbot, teaching, messages, tmp_path, monkeypatch):
    lp, sp = teaching.library_page, teaching.session_page
    assert lp.select_case("breathless-after-knee-surgery")
    qtbot.keyClicks(lp.trainees, "Ana, Ben")
    with qtbot.waitSignal(teaching.sessionStarted, timeout=10_000) as started:
        click(qtbot, lp.start_button)
    session = started.args[0]
    assert teaching.stack.currentWidget() is sp
    assert sp.timeline_view.record is None  # nothing revealed yet
    assert "56-year-old male" in sp.title.text() and "Walter" not in sp.title.text()
    assert not teaching.export_html_action.isEnabled()

    # Stage 1: the presentation only.
    click(qtbot, sp.stage_button)
    shown = {e.display for e in sp.timeline_view.record.timeline}
    assert shown == {"Emergency department visit", "Triage note"}
    assert "History" in sp.stage_button.text()

    # Ana: two diagnoses, reordered; then commit. The model stays hidden.
    tp = sp.trainees
    assert tp.current() == "Ana"
    add(qtbot, tp, "pneumonia")
    add(qtbot, tp, "PE")
    assert [tp.picks.item(i).text() for i in range(2)] == ["Pneumonia", "Pulmonary embolism"]
    tp.picks.setCurrentRow(1)
    click(qtbot, tp.up_button)
    assert tp.picks.item(0).text() == "Pulmonary embolism"
    # A drag moves rows in the list's model; the draft follows it.
    tp.picks.model().moveRow(tp.picks.model().index(0, 0).parent(), 1,
                             tp.picks.model().index(0, 0).parent(), 0)
    assert [p.name for p in tp.drafts["Ana"]] == ["Pneumonia", "Pulmonary embolism"]
    tp.picks.setCurrentRow(0)
    click(qtbot, tp.down_button)
    click(qtbot, tp.commit_button)
    assert session.current_round().commitments["Ana"].picks[0].name == "Pulmonary embolism"
    assert tp.current() == "Ben" and "Waiting for: Ben" in tp.status.text()
    assert not sp.model.show_button.isEnabled() and sp.model.force_button.isEnabled()
    assert not sp.model.table.isVisible() and session.current_round().differential is None
    assert "waiting for Ben" in sp.model.waiting.text()

    # Ben commits; the model can be shown, with scores.
    add(qtbot, tp, "asthma")
    click(qtbot, tp.commit_button)
    assert sp.model.show_button.isEnabled()
    with qtbot.waitSignal(sp.modelShown, timeout=30_000):
        click(qtbot, sp.model.show_button)
    assert sp.model.table.isVisible() and sp.model.table.rowCount() == 10
    assert sp.model.table.item(0, 1).text() == "Pulmonary embolism"
    assert sp.model.scores.rowCount() == 2 and sp.model.scores.columnCount() == 4
    assert not tp.commit_button.isEnabled()
    assert teaching.export_html_action.isEnabled()

    # The trainer reveals the diagnosis: gold scores and teaching notes appear.
    click(qtbot, sp.model.gold_button)
    assert sp.model.gold.isVisible() and "Pulmonary embolism" in sp.model.gold.toPlainText()
    assert sp.model.scores.columnCount() == 6
    assert sp.model.scores.item(0, 4).text() == "#1"  # Ana listed it first
    assert sp.model.scores.item(1, 4).text() == "not listed"
    assert "★ gold" in sp.model.table.item(0, 1).text()

    # Event by event: a new checkpoint; the model is hidden again until commits.
    click(qtbot, sp.event_button)
    assert len(sp.timeline_view.record.timeline) == 3
    assert not sp.model.table.isVisible() and tp.commit_button.isEnabled()
    assert [tp.picks.item(i).text() for i in range(tp.picks.count())] == ["Asthma"]

    # Export the summary, only where the trainer says.
    out = tmp_path / "exports"
    out.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(out / "session.html"), "")))
    teaching.export_html_action.trigger()
    page = (out / "session.html").read_text(encoding="utf-8")
    assert "Ana" in page and "Pulmonary embolism" in page and "Walter" not in page
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(out / "session"), "")))
    teaching.export_pdf_action.trigger()
    pdf = (out / "session.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000
    assert sorted(p.name for p in out.iterdir()) == ["session.html", "session.pdf"]
    assert messages == []

    click(qtbot, sp.back_button)
    assert teaching.stack.currentWidget() is lp


def test_force_show_and_stage_controls(qtbot, teaching):
    lp, sp = teaching.library_page, teaching.session_page
    lp.select_case("sudden-severe-headache")
    lp.trainees.setText("")
    click(qtbot, lp.start_button)
    assert teaching.session.trainees == ("Group",)
    click(qtbot, sp.all_button)
    assert teaching.session.reveal.complete and not sp.stage_button.isEnabled()
    with qtbot.waitSignal(sp.modelShown, timeout=30_000):
        click(qtbot, sp.model.force_button)
    assert teaching.session.current_round().forced == ("Group",)
    click(qtbot, sp.prev_button)
    assert sp.timeline_view.record is not None
    assert "Imaging" in sp.stage_button.text()
    click(qtbot, sp.reset_button)
    assert sp.timeline_view.record is None and not sp.reset_button.isEnabled()


def test_import_a_record_through_the_dialog(qtbot, teaching, tmp_path, monkeypatch):
    record = tmp_path / "record.json"
    record.write_text(json.dumps(small_bundle()), encoding="utf-8")
    answers = iter([("Cough, fever", "Frobnitz syndrome"), ("Cough, fever", "pneumonia")])
    seen = []
    real = teaching.make_import_dialog

    def fake_dialog(src):
        dialog = real(src)

        def run():
            if seen:  # the first answer was refused: its error is on the dialog
                seen.append(dialog.error.text())
            try:
                title, gold = next(answers)
            except StopIteration:
                return QDialog.DialogCode.Rejected
            dialog.title.setText(title)
            dialog.gold.setText(gold)
            dialog.difficulty.setCurrentText("Beginner")
            dialog.objectives.setPlainText("Use CURB-65\n\n")
            seen.append(title)
            return QDialog.DialogCode.Accepted

        monkeypatch.setattr(dialog, "exec", run)
        return dialog

    monkeypatch.setattr(teaching, "make_import_dialog", fake_dialog)
    meta = teaching.import_case_dialog(record)
    assert meta is not None and meta.id == "cough-fever" and meta.objectives == ("Use CURB-65",)
    assert "names no condition" in seen[1]
    lp = teaching.library_page
    assert lp.selected().id == "cough-fever" and lp.remove_button.isEnabled()

    # A record that comes with its case file is imported without questions.
    sidecar = write_mini_case(tmp_path / "from-colleague", "colleague-case")
    assert teaching.import_case_dialog(sidecar.with_name("colleague-case.json")).id == (
        "colleague-case")
    assert {c.id for c in teaching.library.cases} >= {"cough-fever", "colleague-case"}


def test_main_window_opens_teaching_mode(qtbot, window):
    action = next(a for a in window.menuBar().actions()[0].menu().actions()
                  if a.text() == "&Teaching mode…")
    action.trigger()
    teaching = window.teaching_window
    qtbot.addWidget(teaching)
    if teaching.service is None:
        with qtbot.waitSignal(teaching.serviceReady, timeout=120_000):
            pass
    assert teaching.isVisible() and teaching.service is not None
    assert teaching.library_page.table.rowCount() >= 8
    teaching.close()
    teaching.runner.wait(30_000)
