"""Issue 12 in the window: finding roles in the Findings tab, prerequisites in the evidence,
the 'not in this list' share, and 'not enough information to rank' (real window offscreen,
the KB's own posterior as engine)."""

from __future__ import annotations

from pathlib import Path

from osler.ui.ddx_panel import FINDING_ROLE
from tests.ui.conftest import shown

BUNDLES = Path(__file__).resolve().parents[1] / "reasoning" / "bundles"


def test_conflicting_problem_is_listed_not_toggleable_and_requirements_are_shown(
        qtbot, clinical):
    result = shown(qtbot, clinical,
                   lambda: clinical.window.open_path(BUNDLES / "stale_problem.json"))
    panel = clinical.panel
    rows = [panel.findings.item(i) for i in range(panel.findings.count())]
    conflict = [r for r in rows if "conflict" in r.text()]
    assert len(conflict) == 1 and "naemia" in conflict[0].text().replace("Anemia", "naemia")
    assert conflict[0].data(FINDING_ROLE) is None  # nothing to toggle
    assert "newer result" in conflict[0].toolTip()
    before = len(panel.findings.selectedItems())
    panel._toggle_item(conflict[0])  # a click on it does nothing
    assert len(panel.findings.selectedItems()) == before
    acs = next(d for d in result.differential.diagnoses
               if d.condition_id == "acute-chest-syndrome")
    panel.list.setCurrentRow(panel.names().index(acs.name))
    groups = [panel.evidence.topLevelItem(i) for i in range(panel.evidence.topLevelItemCount())]
    pre = next(g for g in groups if g.text(0) == "Prerequisites")
    assert "not documented" in pre.child(0).text(0)
    assert not panel.adequacy_banner.isVisible()


def test_a_vague_presentation_says_it_cannot_rank_and_opens_check_next(qtbot, clinical):
    result = shown(qtbot, clinical,
                   lambda: clinical.window.open_path(BUNDLES / "vague.json"))
    panel = clinical.panel
    assert not result.differential.adequacy.sufficient
    assert panel.adequacy_banner.isVisible()
    assert "Not enough information to rank" in panel.adequacy_banner.text()
    assert panel.tabs.currentWidget() is panel.next_best
    assert panel.next_best.topLevelItemCount() >= 1
