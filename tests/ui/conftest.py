"""Fixtures for driving the real window offscreen without touching the user's settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import small_bundle


@pytest.fixture(scope="session", autouse=True)
def private_settings(tmp_path_factory, qapp):
    """Point every QSettings (including Qt's own) at a temporary folder for the session."""
    from PySide6.QtCore import QCoreApplication, QSettings

    folder = tmp_path_factory.mktemp("qsettings")
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(folder))
        QSettings.setPath(fmt, QSettings.Scope.SystemScope, str(folder / "system"))
    QCoreApplication.setOrganizationName("OslerTests")
    QCoreApplication.setApplicationName("OslerTests")
    return folder


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    return tmp_path / "osler-settings.ini"


@pytest.fixture
def app_settings(settings_file):
    from PySide6.QtCore import QSettings

    from osler.ui.settings import AppSettings

    return AppSettings(QSettings(str(settings_file), QSettings.Format.IniFormat))


@pytest.fixture
def messages(monkeypatch) -> list[tuple[str, str]]:
    """Capture QMessageBox warnings/errors instead of blocking on a modal box."""
    from PySide6.QtWidgets import QMessageBox

    seen: list[tuple[str, str]] = []

    def capture(_parent, title, text, *args, **kwargs):
        seen.append((title, text))
        return QMessageBox.StandardButton.Ok

    for name in ("warning", "critical", "information"):
        monkeypatch.setattr(QMessageBox, name, staticmethod(capture))
    return seen


@pytest.fixture
def window(qtbot, app_settings, messages):
    from osler.ui.main_window import MainWindow

    win = MainWindow(settings=app_settings, theme="light")
    qtbot.addWidget(win)
    win.resize(1300, 820)
    win.show()
    qtbot.waitExposed(win)
    yield win
    if win.import_job is not None:
        win.cancel_import(quiet=True)
    win.pool.waitForDone(10_000)


def open_and_wait(qtbot, win, path, **kwargs):
    """Open through the worker and wait for the window's recordLoaded signal."""
    with qtbot.waitSignal(win.recordLoaded, timeout=30_000) as blocker:
        win.open_path(path, **kwargs)
    qtbot.wait(1)
    return blocker.args[0]


@pytest.fixture
def demo_window(qtbot, window):
    from osler.ui.resources import demo_case

    open_and_wait(qtbot, window, demo_case())
    return window


@pytest.fixture
def small_path(tmp_path: Path) -> Path:
    path = tmp_path / "small_bundle.json"
    path.write_text(json.dumps(small_bundle()), encoding="utf-8")
    return path


def two_patient_bundle() -> dict:
    """Two fictional patients in one Bundle (as a practice export might hold)."""
    from osler.fhir.builder import BundleBuilder

    a = BundleBuilder("two-a")
    a.patient("Alma", "First", "female", "1970-01-01")
    a.vital("2024-01-01T10:00:00+00:00", "8867-4", "Heart rate", 80, "/min")
    b = BundleBuilder("two-b")
    b.patient("Bert", "Second", "male", "1980-05-05")
    b.vital("2024-02-01T10:00:00+00:00", "8867-4", "Heart rate", 64, "/min")
    b.procedure("2023-02-01", "73761001", "Colonoscopy")
    return {"resourceType": "Bundle", "type": "collection", "entry": a.entries + b.entries}


# --- the differential, its model thread and the audit trail (issue 6, part 2) ----------

@pytest.fixture
def audit_db(tmp_path: Path, monkeypatch) -> Path:
    """A private audit store location, in passphrase mode (OSLER_PASSPHRASE), never the user's."""
    from tests.audit.sample import PASSPHRASE

    db = tmp_path / "audit" / "audit.db"
    monkeypatch.setenv("OSLER_AUDIT_DB", str(db))
    monkeypatch.setenv("OSLER_PASSPHRASE", PASSPHRASE)
    return db


def fast_provider(ask):
    """The window's key provider at the tests' scrypt cost, without the OS keyring."""
    from osler.audit import KeyProvider
    from tests.audit.sample import FAST_SCRYPT_N

    return KeyProvider(ask=ask, use_keyring=False, scrypt_n=FAST_SCRYPT_N)


def attach(qtbot, win, **options):
    """The real differential controller on WIN with the KB's own posterior (a real engine)."""
    from osler.ui.ddx_controller import attach_differential
    from osler.ui.model_worker import ModelRequest

    options.setdefault("model", ModelRequest("kb"))
    options.setdefault("semantic", False)
    options.setdefault("provider_factory", fast_provider)
    options.setdefault("debounce_ms", 20)
    controller = attach_differential(win, **options)
    qtbot.waitUntil(lambda: controller.loaded_model is not None, timeout=60_000)
    return controller


@pytest.fixture
def clinical(qtbot, window, app_settings, audit_db):
    """The window with its differential attached and a clinician id already chosen."""
    app_settings.set_clinician_id("dr-test")
    controller = attach(qtbot, window)
    yield controller
    controller.shutdown()


def shown(qtbot, controller, action, timeout: int = 60_000):
    """Run ACTION and wait for the differential it causes; returns the DdxResult."""
    with qtbot.waitSignal(controller.differentialShown, timeout=timeout) as blocker:
        action()
    return blocker.args[0]


def answer_modal(qtbot, fill, delay_ms: int = 50) -> list[str]:
    """Fill in the next modal dialog with FILL(dialog); it is rejected if FILL fails."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    seen: list[str] = []

    def run():
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(20, run)
            return
        seen.append(dialog.windowTitle())
        try:
            fill(dialog)
        finally:
            if dialog.isVisible():
                dialog.reject()

    QTimer.singleShot(delay_ms, run)
    return seen
