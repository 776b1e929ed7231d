"""First-use faults of the differential panel (issue 13, items 1, 2 and 4)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from osler.ui.model_worker import ModelRequest
from osler.ui.resources import demo_case
from tests.ui.conftest import shown


def test_a_new_ranking_scrolls_to_the_top_and_the_selection_follows_its_diagnosis(
        qtbot, clinical):
    panel = clinical.panel
    shown(qtbot, clinical, lambda: clinical.window.open_path(demo_case()))
    panel.list.setCurrentRow(panel.list.count() - 1)
    panel.list.scrollToBottom()
    chosen = panel.selected_diagnosis().name
    assert panel.list.verticalScrollBar().value() > 0
    before = panel.names()
    result = shown(qtbot, clinical, lambda: clinical.add_finding("consolidation-on-imaging"))
    after = [d.name for d in result.differential.diagnoses]
    assert after != before[:len(after)], "the what-if was meant to change the ranking"
    assert panel.list.verticalScrollBar().value() == 0
    selected = panel.selected_diagnosis()
    if chosen in after:
        assert selected.name == chosen
    else:
        assert panel.list.currentRow() == 0


def test_evidence_rows_show_their_state_and_elide_in_the_middle(qtbot, clinical):
    panel = clinical.panel
    shown(qtbot, clinical, lambda: clinical.window.open_path(demo_case()))
    assert panel.evidence.textElideMode() == Qt.TextElideMode.ElideMiddle
    rows = panel.evidence_items()
    absent = [r for r in rows if r.text(0).endswith("(absent)")]
    assert absent, "the demo has absent findings among the evidence"
    for r in rows:
        if r.data(0, Qt.ItemDataRole.UserRole + 1) is None and not r.toolTip(0):
            continue
        if r.text(0) and r.text(0)[0] in "✚−?•":
            assert r.toolTip(0).startswith(r.text(0)[0]), r.toolTip(0)
    for r in absent:
        assert "(absent)" in r.toolTip(0)
    # A narrow panel keeps "(absent)" visible: middle elision keeps both ends.
    longest = max(absent, key=lambda r: len(r.text(0))).text(0)
    metrics = panel.evidence.fontMetrics()
    width = metrics.horizontalAdvance(longest) * 2 // 3
    shown_text = metrics.elidedText(longest, panel.evidence.textElideMode(), width)
    assert "…" in shown_text and shown_text.endswith("(absent)"), shown_text


def test_decisions_are_cleared_and_said_so_when_the_model_changes(qtbot, clinical):
    panel = clinical.panel
    shown(qtbot, clinical, lambda: clinical.window.open_path(demo_case()))
    panel.list.setCurrentRow(0)
    with qtbot.waitSignal(clinical.auditAppended, timeout=30_000):
        clinical.accept(1)
    name = panel.names()[0]
    assert clinical.session.decisions_for() == {name: "accept"}
    with qtbot.waitSignal(clinical.differentialShown, timeout=60_000):
        clinical.load_model(ModelRequest("shipped", device="cpu", quantization="none"))
    assert clinical.session.decisions_for() == {}
    assert "cleared" in panel.notice.text() and panel.notice.isVisible()
    assert panel.decisions == {}
    assert all("accepted" not in panel.list.item(i).text() for i in range(panel.list.count()))
