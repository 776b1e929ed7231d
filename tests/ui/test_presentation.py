"""The presentation box: type a presentation, see the findings read and the differential;
correct a misreading; a case without a record; text beside a record; nothing typed on disk."""

from __future__ import annotations

import threading

from PySide6.QtCore import Qt

from osler.reasoning.service import DdxService
from osler.ui.resources import demo_case
from tests.ui.conftest import shown

TEXT = "Three days of fever and productive cough. No chest pain. Breathless on stairs."


def _items(box) -> dict[str, str]:
    return {box.findings.item(i).data(Qt.ItemDataRole.UserRole): box.findings.item(i).text()
            for i in range(box.findings.count())}


def test_new_case_from_a_typed_presentation(qtbot, window, clinical, monkeypatch):
    threads = []
    real = DdxService.run

    def recording(self, *args, **kwargs):
        threads.append(threading.get_ident())
        return real(self, *args, **kwargs)

    monkeypatch.setattr(DdxService, "run", recording)
    box = clinical.presentation
    window.new_case_action.trigger()
    assert window.current is None and "New case" in window.patient_label.text()
    assert box.age.isVisible() and box.sex.isVisible()
    assert box.editor.hasFocus() or box.editor.isVisible()
    box.age.setValue(67)
    box.sex.setCurrentText("male")
    result = shown(qtbot, clinical, lambda: qtbot.keyClicks(box.editor, TEXT))
    assert threads and threading.get_ident() not in threads, "the UI thread read the text"
    diff = result.differential
    assert diff.case.age == 67 and diff.case.sex == "male"
    assert clinical.panel.list.count() > 0
    items = _items(box)
    assert items["fever"].startswith("✚") and items["chest-pain"].startswith("−")
    assert len(box.editor.extraSelections()) == len(items), "every finding read is highlighted"
    start = TEXT.index("fever")
    assert box.span_at(start + 1) == ("Fever", "present")
    assert box.span_at(TEXT.index("chest pain") + 2)[1] == "absent"


def test_a_misread_finding_is_corrected_in_place(qtbot, window, clinical):
    box = clinical.presentation
    window.new_case_action.trigger()
    box.age.setValue(40)
    shown(qtbot, clinical, lambda: qtbot.keyClicks(box.editor, TEXT))
    box.findings.setCurrentItem(box.finding_item("fever"))
    box.findings.setFocus()
    result = shown(qtbot, clinical, lambda: qtbot.keyClick(box.findings, Qt.Key.Key_Space))
    assert ("fever", "-") in result.differential.case.findings
    assert _items(box)["fever"].startswith("−") and "(corrected)" in _items(box)["fever"]
    assert not result.whatif.active, "a correction is not a what-if"
    assert clinical.session.overrides_allowed()[0]
    result = shown(qtbot, clinical, lambda: qtbot.keyClick(box.findings, Qt.Key.Key_Delete))
    assert "fever" not in dict(result.differential.case.findings)


def test_text_adds_to_the_open_record_and_a_new_record_clears_it(qtbot, window, clinical,
                                                                 small_path):
    box = clinical.presentation
    shown(qtbot, clinical, lambda: window.open_path(demo_case()))
    assert not box.age.isVisible(), "a record gives age and sex"
    result = shown(qtbot, clinical,
                   lambda: qtbot.keyClicks(box.editor, "Known sickle cell disease."))
    ids = {f.id for f in result.differential.findings}
    assert {"raised-d-dimer", "history-sickle-cell-disease"} <= ids
    shown(qtbot, clinical, lambda: window.open_path(small_path))
    assert box.text() == "" and box.findings.count() == 0


def test_typed_text_never_reaches_the_settings(qtbot, window, clinical, settings_file,
                                               private_settings):
    box = clinical.presentation
    window.new_case_action.trigger()
    secret = "Zebulon Quargle, fever and cough since Tuesday"
    shown(qtbot, clinical, lambda: qtbot.keyClicks(box.editor, secret))
    window.save_settings()
    files = [settings_file, *private_settings.rglob("*")]
    for path in files:
        if path.is_file():
            data = path.read_bytes()
            assert b"Quargle" not in data and b"Zebulon" not in data, path


def test_the_empty_timeline_of_a_typed_case_points_to_the_presentation_box(qtbot, window,
                                                                           clinical):
    window.new_case_action.trigger()
    assert "Presentation box" in window.timeline_view.empty_text
    shown(qtbot, clinical, lambda: window.open_path(demo_case()))
    assert window.timeline_view.empty_text is None
