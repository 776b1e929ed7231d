"""Overrides from the window land in the real encrypted audit store; the viewer verifies it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QFileDialog

from osler.audit import AuditStore
from osler.ui.resources import demo_case
from tests.audit.tamper import sql
from tests.ui.conftest import answer_modal, attach, fast_provider, shown


@pytest.fixture
def demo(qtbot, clinical):
    shown(qtbot, clinical, lambda: clinical.window.open_path(demo_case()))
    return clinical


def appended(qtbot, controller, action, timeout=30_000):
    with qtbot.waitSignal(controller.auditAppended, timeout=timeout) as blocker:
        action()
    return blocker.args[0]


def stored(db: Path):
    with AuditStore.open(db, fast_provider(None), create=False) as store:
        return store.entries(), store


def ok(dialog):
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()


def test_accept_reject_rerank_add_comment_each_write_an_audit_entry(qtbot, demo, audit_db):
    panel, window = demo.panel, demo.window
    names = panel.names()

    panel.list.setCurrentRow(0)
    appended(qtbot, demo, lambda: qtbot.mouseClick(panel.accept_button,
                                                   Qt.MouseButton.LeftButton))

    def reject(dialog):
        assert dialog.reason.currentText() == "choose a reason…", "a reason was pre-selected"
        assert not dialog.ok.isEnabled()
        dialog.reason.setCurrentIndex(dialog.reason.findData("insufficient-evidence"))
        dialog.text.setPlainText("No consolidation on the film")
        ok(dialog)

    panel.list.setCurrentRow(1)
    titles = answer_modal(qtbot, reject)
    appended(qtbot, demo, lambda: qtbot.mouseClick(panel.reject_button,
                                                   Qt.MouseButton.LeftButton))
    assert titles == ["Reject diagnosis"]

    panel.list.setCurrentRow(2)  # Ctrl+Up moves Heart failure from rank 3 to rank 2
    answer_modal(qtbot, ok)
    appended(qtbot, demo, lambda: qtbot.keyClick(panel.list, Qt.Key.Key_Up,
                                                 Qt.KeyboardModifier.ControlModifier))
    assert panel.names()[:3] == [names[0], names[2], names[1]]

    def add(dialog):
        dialog.search.setText("migraine")
        dialog.refresh()
        assert dialog.choice() is not None and dialog.choice().name == "Migraine"
        ok_button = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
        assert dialog.reason.currentText() == "choose a reason…" and not ok_button.isEnabled()
        dialog.reason.setCurrentIndex(dialog.reason.findData("findings-not-in-record"))
        assert ok_button.isEnabled()
        ok(dialog)

    answer_modal(qtbot, add)
    appended(qtbot, demo, lambda: qtbot.mouseClick(panel.add_button,
                                                   Qt.MouseButton.LeftButton))
    assert panel.names()[-1] == "Migraine"

    def comment(dialog):
        dialog.text.setPlainText("CT pulmonary angiogram requested")
        ok(dialog)

    panel.list.setCurrentRow(0)
    answer_modal(qtbot, comment)
    appended(qtbot, demo, lambda: qtbot.mouseClick(panel.comment_button,
                                                   Qt.MouseButton.LeftButton))

    entries, store = stored(audit_db)
    assert [e.action for e in entries] == ["accept", "reject", "rerank", "add", "comment"]
    assert {e.clinician_id for e in entries} == {"dr-test"}
    assert entries[0].diagnosis["name"] == names[0] == "Pulmonary embolism"
    assert entries[1].diagnosis["name"] == names[1]
    assert entries[1].reason["code"] == "insufficient-evidence"
    assert entries[1].reason_text == "No consolidation on the film"
    assert entries[2].diagnosis["name"] == names[2] and entries[2].diagnosis["rank"] == 3
    assert entries[2].decision == {"new_rank": 2}
    assert entries[2].reason["code"] == "alternative-more-likely"
    assert entries[3].diagnosis["name"] == "Migraine" and entries[3].diagnosis["icd10"]
    assert entries[4].reason_text == "CT pulmonary angiogram requested"
    assert entries[4].diagnosis["name"] == names[0]
    patient = window.current.patient
    assert {e.patient for e in entries} == {store.pseudonym(patient.id)}
    assert all(patient.name not in e.body for e in entries)
    assert [d["name"] for d in entries[0].differential_shown] == names[:10]
    assert "accepted" in panel.list.item(0).data(Qt.ItemDataRole.AccessibleTextRole)


def test_a_cancelled_dialog_records_nothing_and_undoes_the_move(qtbot, demo, audit_db):
    panel = demo.panel
    names = panel.names()
    panel.list.setCurrentRow(0)
    titles = answer_modal(qtbot, lambda d: d.reject())
    qtbot.keyClick(panel.list, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: titles == ["Re-rank diagnosis"], timeout=5000)
    assert panel.names() == names
    assert not audit_db.exists(), "a cancelled override created the store"


def test_overrides_are_off_during_a_what_if(qtbot, demo, audit_db, messages):
    shown(qtbot, demo, lambda: demo.toggle_finding("raised-d-dimer"))
    assert demo.accept(1) is False
    assert messages and messages[-1][0] == "What-if is on"
    assert not audit_db.exists()


def test_the_clinician_id_is_asked_once_and_kept(qtbot, window, app_settings, audit_db):
    controller = attach(qtbot, window)
    try:
        shown(qtbot, controller, lambda: window.open_path(demo_case()))

        def name(dialog):
            dialog.setTextValue("dr-jones")
            dialog.accept()

        answer_modal(qtbot, name)
        entry = appended(qtbot, controller, lambda: controller.accept(1))
        assert entry.clinician_id == "dr-jones" == app_settings.clinician_id()
        entry = appended(qtbot, controller, lambda: controller.accept(2))
        assert entry.clinician_id == "dr-jones"
    finally:
        controller.shutdown()


def test_the_passphrase_is_asked_in_a_dialog_when_there_is_no_keyring(
        qtbot, window, app_settings, audit_db, monkeypatch):
    monkeypatch.delenv("OSLER_PASSPHRASE")
    app_settings.set_clinician_id("dr-test")
    controller = attach(qtbot, window)
    try:
        shown(qtbot, controller, lambda: window.open_path(demo_case()))

        def passphrase(dialog):
            assert dialog.is_new
            dialog.first.setText("short")
            dialog.second.setText("short")
            dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
            assert dialog.isVisible() and "at least 8" in dialog.problem.text()
            dialog.first.setText("a long enough passphrase")
            dialog.second.setText("a long enough passphrase")
            dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()

        titles = answer_modal(qtbot, passphrase)
        appended(qtbot, controller, lambda: controller.accept(1))
        assert titles == ["Audit trail passphrase"]
    finally:
        controller.shutdown()
    from osler.audit import KeyProvider
    from tests.audit.sample import FAST_SCRYPT_N

    provider = KeyProvider(passphrase="a long enough passphrase", use_keyring=False,
                           scrypt_n=FAST_SCRYPT_N)
    with AuditStore.open(audit_db, provider, create=False) as store:
        assert store.count() == 1


def test_audit_viewer_lists_entries_verifies_anchors_and_exports(
        qtbot, demo, audit_db, tmp_path, monkeypatch, messages):
    for rank in (1, 2):
        appended(qtbot, demo, lambda r=rank: demo.accept(r))
    viewer = demo.show_audit_viewer()
    qtbot.waitUntil(lambda: viewer.table.rowCount() == 2, timeout=10_000)
    assert viewer.table.item(0, 2).text() == "dr-test"
    assert viewer.table.item(0, 3).text() == "accept"
    assert viewer.table.item(0, 4).text().startswith("Pulmonary embolism")
    assert viewer.table.item(0, 7).text().startswith("pt-")

    qtbot.mouseClick(viewer.verify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: viewer.result.text().startswith(("OK", "NOT", "Could")),
                    timeout=10_000)
    assert viewer.result.text().startswith("OK: 2 entries"), viewer.result.text()

    anchor = tmp_path / "export" / "anchor.json"
    anchor.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(anchor), "")))
    with qtbot.waitSignal(demo.auditAnchored, timeout=10_000):
        qtbot.mouseClick(viewer.anchor_button, Qt.MouseButton.LeftButton)
    assert json.loads(anchor.read_text())["count"] == 2
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(anchor), "")))
    viewer.result.setText("")
    qtbot.mouseClick(viewer.verify_anchor_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: viewer.result.text().startswith(("OK", "NOT", "Could")),
                    timeout=10_000)
    assert "matches the anchor" in viewer.result.text()

    export = tmp_path / "export" / "audit.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(export), "")))
    with qtbot.waitSignal(demo.auditExported, timeout=10_000):
        qtbot.mouseClick(viewer.export_button, Qt.MouseButton.LeftButton)
    bundle = json.loads(export.read_text())
    assert bundle["resourceType"] == "Bundle"
    assert sorted({e["resource"]["resourceType"] for e in bundle["entry"]}) == [
        "AuditEvent", "Provenance"]
    assert sorted(p.name for p in export.parent.iterdir()) == ["anchor.json", "audit.json"]

    viewer.this_patient.setChecked(True)
    qtbot.waitUntil(lambda: "for this patient" in viewer.count.text(), timeout=10_000)
    assert viewer.table.rowCount() == 2


def test_audit_viewer_reports_a_tampered_store(qtbot, demo, audit_db):
    for rank in (1, 2, 3):
        appended(qtbot, demo, lambda r=rank: demo.accept(r))
    sql(audit_db, "UPDATE entries SET body = replace(body, 'dr-test', 'dr-evil') WHERE seq = 2")
    viewer = demo.show_audit_viewer()
    viewer.verify()
    qtbot.waitUntil(lambda: viewer.result.text().startswith(("OK", "NOT", "Could")),
                    timeout=10_000)
    assert viewer.result.text().startswith("NOT INTACT")
    assert viewer.problems.isVisible() and viewer.problems.count() >= 1
    assert "entry #2" in viewer.problems.item(0).text()


def test_dragging_a_diagnosis_re_ranks_it_with_a_reason(qtbot, demo, audit_db):
    from PySide6.QtCore import QModelIndex

    panel = demo.panel
    names = panel.names()

    def reason(dialog):
        assert "from rank 4 to rank 1" in dialog.findChild(type(dialog.problem)).text()
        dialog.reason.setCurrentIndex(dialog.reason.findData("findings-not-in-record"))
        ok(dialog)

    answer_modal(qtbot, reason)
    # What QListWidget's internal-move drop does: move the row in its model.
    entry = appended(qtbot, demo, lambda: panel.list.model().moveRow(
        QModelIndex(), 3, QModelIndex(), 0))
    assert entry.action == "rerank" and entry.diagnosis["name"] == names[3]
    assert entry.diagnosis["rank"] == 4 and entry.decision == {"new_rank": 1}
    assert panel.names()[:4] == [names[3], *names[:3]]
    assert "moved" in panel.list.item(0).data(Qt.ItemDataRole.AccessibleTextRole)
