"""The window on records nobody on the team wrote (skipped when ../shared/data is absent)."""

from __future__ import annotations

from osler.ui.main_window import MainWindow
from tests.conftest import shared
from tests.ui.conftest import open_and_wait


def test_longest_synthea_record_shows_every_dated_event(qtbot, window):
    folder = shared("synthea_r4")
    longest = max(folder.glob("*.json"), key=lambda p: p.stat().st_size)  # non-ASCII name
    timeline = open_and_wait(qtbot, window, longest)
    dated: dict[str, int] = {}
    for e in timeline.dated:
        dated[e.kind.value] = dated.get(e.kind.value, 0) + 1
    assert window.timeline_view.lane_counts() == dated
    window.timeline_view.grab()
    assert window.timeline_view.stats.lanes == len(dated)
    assert window.timeline_view.set_search("encounter") > 0


def test_bulk_export_folder_offers_every_patient(qtbot, window, monkeypatch):
    folder = shared("synthea_bulk_ndjson")
    offered = []

    def choose(self, loaded):
        offered.extend(t.patient.id for t in loaded.result.timelines)
        return offered[-1]

    monkeypatch.setattr(MainWindow, "choose_patient", choose)
    timeline = open_and_wait(qtbot, window, folder)
    assert len(offered) == 13 and timeline.patient.id == offered[-1]
    notes = window.timeline_view.lane_counts().get("note", 0)
    assert notes > 0  # DocumentReference notes are on the timeline
