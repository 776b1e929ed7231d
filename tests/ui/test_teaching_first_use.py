"""Teaching window fixes from first use (issue 13, item 6): the answer waits for the
trainees, the text names only menus that exist, headers and notes fit, presentation mode fits
its screen, enlarges the timeline's text and gives the window its size back."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit, QMessageBox, QWidget

from osler.teaching.library import CaseLibrary
from osler.ui.teaching.window import TeachingWindow
from tests.teaching.case_fixtures import (  # noqa: F401
    nb_service,
    private_case_folder,
    write_mini_case,
)

TEACHING_UI = Path(__file__).resolve().parents[2] / "app" / "osler" / "ui" / "teaching"


@pytest.fixture
def teaching(qtbot, messages, tmp_path, nb_service):  # noqa: F811
    user = tmp_path / "cases"
    write_mini_case(user)
    win = TeachingWindow(CaseLibrary.load(user=user), service=nb_service)
    qtbot.addWidget(win)
    win.resize(1000, 700)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.runner.wait(30_000)


def start(win: TeachingWindow, trainees: str = "Ana, Ben") -> None:
    lp, sp = win.library_page, win.session_page
    assert lp.select_case("mini-breathless")
    lp.trainees.setText(trainees)
    lp.start_button.click()
    sp.all_button.click()


def commit(win: TeachingWindow, name: str, diagnosis: str) -> None:
    tp = win.session_page.trainees
    tp.trainee.setCurrentText(name)
    tp.add_entry(diagnosis)
    tp.commit_button.click()


def test_the_diagnosis_waits_until_every_trainee_has_committed(qtbot, teaching, monkeypatch):
    sp = teaching.session_page
    start(teaching)
    model = sp.model
    assert not model.gold_button.isEnabled() and model.gold_anyway_button.isVisible()
    commit(teaching, "Ana", "pulmonary embolism")
    assert not model.gold_button.isEnabled()  # Ben has not committed

    asked: list[str] = []

    def answer(reply):
        def question(_parent, _title, text, *args, **kwargs):
            asked.append(text)
            return reply
        return staticmethod(question)

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.No))
    model.gold_anyway_button.click()
    assert asked and "Ben" in asked[0] and not teaching.session.gold_revealed
    assert not model.gold.isVisible()

    commit(teaching, "Ben", "pneumonia")
    assert model.gold_button.isEnabled() and not model.gold_anyway_button.isVisible()
    model.gold_button.click()
    assert teaching.session.gold_revealed and model.gold.isVisible()
    assert len(asked) == 1  # no question once everyone had committed


def test_the_trainer_may_reveal_early_after_confirming(qtbot, teaching, monkeypatch):
    start(teaching, "Ana")
    monkeypatch.setattr(QMessageBox, "question",
                        staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes))
    teaching.session_page.model.gold_anyway_button.click()
    assert teaching.session.gold_revealed and teaching.session_page.model.gold.isVisible()


MENU_PATH = re.compile(r"\b([A-Z]\w*) ▸ ([A-Z][^.,;:)\n]*?)(?:\s*\(|[.,;:)]|$)")


def _window_texts(win: TeachingWindow) -> list[str]:
    """Every text the window can show, hidden widgets included (they may be shown later)."""
    texts = [a.text() + " " + a.toolTip() + " " + a.statusTip()
             for a in win.findChildren(QAction)]
    for w in win.findChildren(QWidget):
        texts += [w.toolTip(), w.statusTip(), w.whatsThis(), w.accessibleDescription()]
        if isinstance(w, QLabel | QAbstractButton):
            texts.append(w.text())
        if isinstance(w, QLineEdit):
            texts.append(w.placeholderText())
    return [t for t in texts if t]


def test_text_names_only_menus_the_window_has(qtbot, teaching):
    start(teaching)  # the session page and its timeline are on screen
    menus = {a.text().replace("&", ""): a.menu() for a in teaching.menuBar().actions()}
    cited = {m.groups() for t in _window_texts(teaching) for m in MENU_PATH.finditer(t)}
    for menu, item in sorted(cited):
        assert menu in menus, f"{menu} ▸ {item}: the teaching window has no {menu} menu"
        items = [a.text().replace("&", "") for a in menus[menu].actions()]
        assert any(i.startswith(item.rstrip("…").strip()) for i in items), (
            f"{menu} ▸ {item}: not in the teaching window's {menu} menu ({items})")
    sources = " ".join(p.read_text(encoding="utf-8") for p in TEACHING_UI.glob("*.py"))
    assert not re.search(r"\b(File|Help|Tools|Edit) ▸", sources)


def test_score_headers_fit_their_columns(qtbot, teaching):
    start(teaching)
    commit(teaching, "Ana", "pulmonary embolism")
    commit(teaching, "Ben", "asthma")
    sp = teaching.session_page
    with qtbot.waitSignal(sp.modelShown, timeout=30_000):
        sp.model.show_button.click()
    sp.model.gold_button.click()
    for table in (sp.model.scores, sp.model.table):
        header = table.horizontalHeader()
        fm = header.fontMetrics()
        for c in range(table.columnCount()):
            label = table.horizontalHeaderItem(c).text()
            widest = max(fm.horizontalAdvance(line) for line in label.splitlines())
            assert header.sectionSize(c) >= widest, (table.objectName(), label)


def test_the_notes_box_grows_with_the_window(qtbot, teaching):
    start(teaching, "Ana")
    commit(teaching, "Ana", "pulmonary embolism")
    sp = teaching.session_page
    with qtbot.waitSignal(sp.modelShown, timeout=30_000):
        sp.model.show_button.click()
    sp.model.gold_button.click()
    gold, table = sp.model.gold, sp.model.table
    qtbot.wait(20)
    small = (gold.height(), table.height())
    assert small[0] >= 5 * gold.fontMetrics().lineSpacing()  # room for the notes to be read
    teaching.resize(1000, 1300)
    qtbot.waitUntil(lambda: gold.height() > small[0])
    grown = gold.height() - small[0]
    assert grown >= table.height() - small[1]  # at least the model table's share
    assert grown >= 600 / 10  # a share of the 600 pixels (the timeline beside it takes most)


def test_presentation_mode_fits_the_screen_enlarges_the_timeline_and_restores(qtbot, teaching):
    start(teaching)
    view = teaching.session_page.timeline_view
    desk_small = view._small.pointSizeF()
    teaching.resize(700, 500)
    teaching.move(30, 40)
    qtbot.wait(20)
    before = teaching.geometry()
    teaching.set_presentation(True)
    qtbot.wait(20)
    area = teaching.screen().availableGeometry()
    assert area.contains(teaching.frameGeometry())
    assert teaching.width() >= area.width() - 40 and teaching.height() >= area.height() - 80
    assert view.font().pointSizeF() >= 18
    assert view._small.pointSizeF() >= 0.8 * 18 > desk_small  # the timeline's labels too
    teaching.set_presentation(False)
    qtbot.wait(20)
    assert teaching.geometry() == before
    assert view._small.pointSizeF() == pytest.approx(desk_small)
