"""The differential beside the timeline, driven through the real window offscreen.

Real parts throughout: the project KB, its own posterior as the engine (the same engine the
CLI runs with --engine naive-bayes), the model thread, the timeline and the details pane.
"""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QLineEdit,
    QListWidget,
    QTextBrowser,
    QTreeWidget,
)

from osler.fhir import import_path
from osler.reasoning.service import DdxService
from osler.ui.app import parse_at
from osler.ui.ddx_panel import EVENT_ROLE, FINDING_ROLE, SPAN_ROLE
from osler.ui.resources import demo_case
from tests.ui.conftest import open_and_wait, shown


@pytest.fixture(scope="module")
def headless():
    """The same pipeline without a window, to compare what the window shows."""
    return DdxService.create(engine="naive-bayes", semantic=False)


@pytest.fixture
def demo(qtbot, clinical):
    result = shown(qtbot, clinical, lambda: clinical.window.open_path(demo_case()))
    return clinical, result


def test_opening_the_demo_shows_its_differential_computed_off_the_ui_thread(
        qtbot, window, clinical, headless, monkeypatch):
    threads = []
    real_run = DdxService.run

    def recording_run(self, *args, **kwargs):
        threads.append(threading.get_ident())
        return real_run(self, *args, **kwargs)

    monkeypatch.setattr(DdxService, "run", recording_run)
    result = shown(qtbot, clinical, lambda: window.open_path(demo_case()))
    assert threads and threading.get_ident() not in threads, "the UI thread ran the model"

    expected = headless.run(timeline=import_path(demo_case()).timeline())
    panel = clinical.panel
    assert window.side_widget is panel and panel.isVisible()
    assert panel.names() == [d.name for d in expected.diagnoses]
    assert [round(d.probability, 6) for d in result.differential.diagnoses] == \
        [round(d.probability, 6) for d in expected.diagnoses]
    top = result.differential.diagnoses[0]
    assert top.name == "Pulmonary embolism" and top.cant_miss and top.icd10 == ("I26.99",)
    spoken = panel.list.item(0).data(Qt.ItemDataRole.AccessibleTextRole)
    assert "Pulmonary embolism" in spoken and "can't miss" in spoken and "I26.99" in spoken
    assert "not a diagnosis" in panel.disclaimer.text().lower()
    assert "24 findings" in panel.status.text()
    assert window.notice.isVisible()


def test_clicking_evidence_highlights_its_event_and_the_note_span(qtbot, demo):
    controller, _ = demo
    panel, window = controller.panel, controller.window
    panel.list.setCurrentRow(0)
    rows = [i for i in panel.evidence_items() if i.data(0, EVENT_ROLE)]
    lab = next(i for i in rows if i.data(0, FINDING_ROLE) == "raised-d-dimer")
    assert lab.text(0) == "✚ Raised D-dimer"  # the state is always visible
    rect = panel.evidence.visualItemRect(lab)
    qtbot.mouseClick(panel.evidence.viewport(), Qt.MouseButton.LeftButton,
                     pos=rect.center())
    assert window.timeline_view.selected_event().id == lab.data(0, EVENT_ROLE)
    assert window.detail.event.display.startswith("Fibrin D-dimer")

    note = next(i for i in rows if i.data(0, SPAN_ROLE) is not None
                and i.data(0, FINDING_ROLE) == "unilateral-leg-swelling")
    panel.evidence.setCurrentItem(note)
    qtbot.keyClick(panel.evidence, Qt.Key.Key_Return)
    selected = window.timeline_view.selected_event()
    assert selected.id == note.data(0, EVENT_ROLE) and selected.display == "Triage note"
    start, end = note.data(0, SPAN_ROLE)
    assert window.detail.span == (start, end)
    assert selected.text[start:end] == "calf swollen"
    assert "“calf swollen”" in note.text(2)


def test_the_now_cursor_recomputes_for_the_record_as_known_then(qtbot, demo, headless):
    controller, whole = demo
    window = controller.window
    triage = parse_at("2024-03-04T14:07:00Z")
    seen = []
    controller.differentialShown.connect(seen.append)
    with qtbot.waitSignal(controller.differentialShown, timeout=30_000):
        for minute in (1, 3, 5):  # a drag: several moves, one recompute once it rests
            window.set_now(parse_at(f"2024-03-04T14:0{minute}:00Z"))
        window.set_now(triage)
    qtbot.wait(200)
    assert len(seen) == 1, "a stale differential was shown"
    result = seen[0]
    assert result.at == triage and result.seq == controller.seq
    expected = headless.run(timeline=controller.timeline, at=triage)
    assert [f.id for f in result.record_findings] == [f.id for f in expected.findings]
    assert len(result.record_findings) < len(whole.record_findings)
    assert "raised-d-dimer" not in {f.id for f in result.record_findings}
    assert "record up to" in controller.panel.status.text()

    back = shown(qtbot, controller, lambda: window.set_now(None))
    assert back.at is None and len(back.record_findings) == len(whole.record_findings)


def test_what_if_toggles_recompute_are_marked_and_never_touch_the_record(qtbot, demo):
    controller, before = demo
    panel, window = controller.panel, controller.window
    events_before = list(window.current)
    pe = before.differential.diagnoses[0]
    panel.tabs.setCurrentIndex(1)
    item = panel.finding_item("raised-d-dimer")
    panel.findings.setCurrentItem(item)
    after = shown(qtbot, controller, lambda: qtbot.keyClick(panel.findings, Qt.Key.Key_Space))
    new_pe = next(d for d in after.differential.diagnoses if d.name == pe.name)
    assert new_pe.probability < pe.probability
    assert after.whatif.describe() == ["Raised D-dimer: absent"]
    assert panel.whatif_banner.isVisible() and "WHAT IF" in panel.whatif_banner.text()
    item = panel.finding_item("raised-d-dimer")
    assert "(what if)" in item.text() and item.font().italic()
    assert not panel.accept_button.isEnabled() and not panel.reject_button.isEnabled()
    evidence = {i.data(0, 2 + Qt.ItemDataRole.UserRole): i for i in panel.evidence_items()}
    assert evidence["raised-d-dimer"].text(2) == "what if (hypothetical)"
    assert evidence["raised-d-dimer"].data(0, EVENT_ROLE) is None

    removed = shown(qtbot, controller, lambda: controller.toggle_finding("raised-d-dimer"))
    assert "raised-d-dimer" not in {fid for fid, _ in removed.differential.case.findings}
    panel.finding_search.setText("Cough")
    added = shown(qtbot, controller, lambda: qtbot.keyClick(panel.finding_search,
                                                            Qt.Key.Key_Return))
    # Cough is already documented by haemoptysis: adding it changes nothing in the model
    # input (counted once), but the list marks it as a what-if.
    assert panel.finding_item("cough").text().endswith("(what if)")
    panel.finding_search.setText("Vomiting")
    added = shown(qtbot, controller, lambda: qtbot.keyClick(panel.finding_search,
                                                            Qt.Key.Key_Return))
    assert ("vomiting", "+") in added.differential.case.findings
    assert panel.finding_item("vomiting").text().endswith("(what if)")

    reset = shown(qtbot, controller, lambda: qtbot.mouseClick(panel.reset_button,
                                                              Qt.MouseButton.LeftButton))
    assert not reset.whatif.active and not panel.whatif_banner.isVisible()
    assert [d.probability for d in reset.differential.diagnoses] == \
        [d.probability for d in before.differential.diagnoses]
    assert panel.accept_button.isEnabled()
    assert list(window.current) == events_before, "a what-if changed the record"


def test_next_best_findings_and_pertinent_negatives_are_listed(demo):
    controller, result = demo
    panel = controller.panel
    assert panel.next_best.topLevelItemCount() == len(result.differential.next_best) > 0
    assert panel.next_best.topLevelItem(0).text(0) == result.differential.next_best[0].label
    groups = [panel.evidence.topLevelItem(i).text(0)
              for i in range(panel.evidence.topLevelItemCount())]
    assert groups[:2] == ["For Pulmonary embolism", "Against Pulmonary embolism"]
    assert "Pertinent negatives" in groups


def test_a_new_record_forgets_what_ifs_and_recomputes(qtbot, demo, small_path):
    controller, _ = demo
    shown(qtbot, controller, lambda: controller.toggle_finding("raised-d-dimer"))
    result = shown(qtbot, controller, lambda: controller.window.open_path(small_path))
    assert not result.whatif.active
    assert result.differential.patient_id == controller.window.current.patient.id
    assert not controller.panel.whatif_banner.isVisible()


def test_every_control_of_the_panel_has_an_accessible_name(demo):
    panel = demo[0].panel
    for kind in (QAbstractButton, QListWidget, QTreeWidget, QLineEdit, QTextBrowser):
        for widget in panel.findChildren(kind):
            if widget.isVisibleTo(panel) and widget.objectName() != "qt_spinbox_lineedit":
                assert widget.accessibleName() or (
                    isinstance(widget, QAbstractButton) and widget.text().strip("▲▼ ")), widget


def test_window_without_a_record_says_so(qtbot, window, clinical):
    assert "Open a record" in clinical.panel.status.text()
    assert clinical.panel.list.count() == 0 and not clinical.panel.add_button.isEnabled()
    menus = [a.text() for a in window.menuBar().actions()]
    assert menus == ["&File", "&View", "&Tools", "&Help"]
    tools = [a.text() for a in clinical.tools_menu.actions() if a.text()]
    assert tools[:3] == ["Go to the &differential", "&Model manager…", "&Audit trail…"]
    help_menu = window.menuBar().actions()[-1].menu()
    assert help_menu.actions()[0].text() == "&Self-check…"


def test_open_with_now_set_recomputes_at_that_time(qtbot, window, clinical):
    at = parse_at("2024-03-04T14:07:00Z")
    open_and_wait(qtbot, window, demo_case(), now=at)
    qtbot.waitUntil(lambda: clinical.result is not None and clinical.result.at == at,
                    timeout=30_000)
    assert clinical.result.at == at
