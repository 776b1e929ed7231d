"""A read-only audit store (here: rolled back behind its witness) is shown in the status
bar as soon as the window starts, before any override fails (issue 15)."""

from __future__ import annotations

import shutil

from osler.audit import AuditStore
from tests.audit.sample import provider, record
from tests.ui.conftest import attach


def _rolled_back(db, tmp_path) -> None:
    with AuditStore.open(db, provider()) as s:
        s.append(record(0))
    shutil.copy(db, tmp_path / "backup.db")
    with AuditStore.open(db, provider()) as s:
        s.append(record(1))
    shutil.copy(tmp_path / "backup.db", db)  # "restore last week's backup"


def test_a_rolled_back_store_is_shown_read_only_at_start(qtbot, window, audit_db, tmp_path):
    audit_db.parent.mkdir(parents=True, exist_ok=True)
    _rolled_back(audit_db, tmp_path)
    controller = attach(qtbot, window)
    try:
        qtbot.waitUntil(lambda: controller.audit_read_only.isVisible(), timeout=20_000)
        tip = controller.audit_read_only.toolTip()
        assert "cannot be recorded" in tip and "reset-witness" in tip
    finally:
        controller.shutdown()


def test_a_good_store_shows_nothing(qtbot, window, audit_db, tmp_path):
    audit_db.parent.mkdir(parents=True, exist_ok=True)
    with AuditStore.open(audit_db, provider()) as s:
        s.append(record(0))
    controller = attach(qtbot, window)
    try:
        # The probe opened it (keyless here: OSLER_PASSPHRASE) without asking anything.
        qtbot.waitUntil(lambda: controller.audit.store is not None, timeout=20_000)
        qtbot.wait(50)  # the queued `opened` reaches the window
        assert controller.audit.store.read_only is None
        assert not controller.audit_read_only.isVisible()
    finally:
        controller.shutdown()
