"""First-use fixes (issue 13): the self-check runs afresh each time, recent files keep patient
names out of the settings file, and unexpected errors reach the user as one dialog."""

from __future__ import annotations

import logging
import shutil
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtCore import QObject, QRunnable, QSettings, Qt, QThreadPool, Signal
from PySide6.QtWidgets import QApplication, QPushButton

from osler.selfcheck import OK, Check
from osler.ui.settings import AppSettings
from tests.ui.conftest import open_and_wait

DEMO = Path(__file__).resolve().parents[2] / "resources" / "cases" / "demo-chest-pain.json"
PATIENT_PARTS = ("Abe604", "Kulas532")


# --- item 9: Help ▸ Self-check runs fresh each time it is opened -----------------------

class FakeController(QObject):
    """What the dialog needs from the differential controller."""

    auditOpened = Signal(object)

    def __init__(self, audit_path: Path):
        super().__init__()
        self.audit = SimpleNamespace(path=audit_path)


def test_selfcheck_runs_afresh_each_time_it_is_opened(qtbot, tmp_path, monkeypatch):
    from osler.ui import selfcheck_dialog

    runs: list[int] = []

    def fake_selfcheck(progress=None, **_options):
        runs.append(1)
        return [Check("Python", OK, f"run {len(runs)}")]

    monkeypatch.setattr(selfcheck_dialog, "run_selfcheck", fake_selfcheck)
    dialog = selfcheck_dialog.SelfCheckDialog(FakeController(tmp_path / "a.db"),
                                              first_run=True)
    qtbot.addWidget(dialog)
    assert dialog.intro.text().startswith("Welcome")
    for expected in (1, 2, 3):  # the window keeps one dialog and shows it again
        with qtbot.waitSignal(dialog.finished_checks, timeout=10_000):
            dialog.show()
        assert len(runs) == expected
        assert dialog.tree.topLevelItem(0).text(2) == f"run {expected}"
        dialog.close()
        qtbot.waitUntil(lambda: not dialog.isVisible())
    assert not dialog.intro.text().startswith("Welcome")  # the welcome is for the first run
    qtbot.waitUntil(lambda: not dialog.tasks.busy(), timeout=5_000)


# --- item 10: no patient names in the plain-text settings file --------------------------

def settings_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def assert_no_patient_text(files: list[Path]) -> None:
    assert files, "no settings file was written"
    for path in files:
        text = path.read_bytes().decode("utf-8", errors="replace")
        for part in PATIENT_PARTS:
            assert part not in text, f"{path.name} holds {part}"


def test_recent_files_keep_patient_names_out_of_the_settings(
        qtbot, window, app_settings, settings_file, private_settings, tmp_path):
    records = tmp_path / "records"
    records.mkdir()
    named = records / "Abe604_Kulas532_3f2a.json"  # as Synthea names its files
    shutil.copy(DEMO, named)
    open_and_wait(qtbot, window, named)
    assert app_settings.recent_files()[0] == named.resolve()  # the session still has it
    window._fill_recent_menu()
    assert any(a.text().endswith(named.name) for a in window.recent_menu.actions())
    assert app_settings.last_opened() == named.resolve()
    window.close()
    app_settings.sync()
    QSettings().sync()
    # The window's own settings file, and every file in the session's settings folder
    # (where Qt and any default QSettings write).
    assert_no_patient_text([settings_file, *settings_files(private_settings)])

    # Opting in stores the list (the user was told it is unencrypted); opting out erases it.
    app_settings.set_remember_recent(True)
    assert "Abe604" in settings_file.read_text(encoding="utf-8")
    again = AppSettings(QSettings(str(settings_file), QSettings.Format.IniFormat))
    assert again.recent_files()[0] == named.resolve()  # kept between runs when asked
    app_settings.set_remember_recent(False)
    assert_no_patient_text([settings_file])


def test_recent_files_written_by_older_versions_are_removed_at_start(tmp_path):
    ini = tmp_path / "old.ini"
    old = QSettings(str(ini), QSettings.Format.IniFormat)
    old.setValue("recent/files", [str(tmp_path / "Abe604_Kulas532_1.json")])
    old.setValue("recent/directory", str(tmp_path / "Abe604_Kulas532"))
    old.setValue("appearance/theme", "dark")
    old.sync()
    assert "Abe604" in ini.read_text(encoding="utf-8")
    settings = AppSettings(QSettings(str(ini), QSettings.Format.IniFormat))
    assert_no_patient_text([ini])
    assert settings.recent_files() == [] and settings.theme() == "dark"


def test_the_remember_action_follows_the_setting(qtbot, app_settings, settings_file, tmp_path):
    from PySide6.QtWidgets import QWidget

    from osler.ui.recent_files import remember_recent_action

    host = QWidget()
    qtbot.addWidget(host)
    app_settings.add_recent(tmp_path / "Abe604_Kulas532_2.json")
    action = remember_recent_action(host, app_settings)
    assert action.isCheckable() and not action.isChecked()
    assert "unencrypted" in action.toolTip() and "patient names" in action.toolTip()
    action.setChecked(True)
    assert app_settings.remember_recent() and "Abe604" in settings_file.read_text("utf-8")
    action.setChecked(False)
    assert not app_settings.remember_recent()
    assert_no_patient_text([settings_file])


# --- item 12: one error path ------------------------------------------------------------

@pytest.fixture
def reporter(qtbot):
    from osler.ui.error_report import ErrorReporter

    r = ErrorReporter()
    r.install()
    yield r
    r.uninstall()
    if r.dialog is not None:
        r.dialog.close()


def open_error_dialogs() -> list:
    return [w for w in QApplication.topLevelWidgets()
            if w.objectName() == "errorReport" and w.isVisible()]


@pytest.mark.qt_no_exception_capture
def test_an_error_in_a_slot_shows_one_dialog_and_logs_no_patient_text(qtbot, reporter,
                                                                       caplog):
    button = QPushButton("Compute")
    qtbot.addWidget(button)
    button.show()

    def compute_for_patient():
        patient = {"name": "Abe604 Kulas532"}
        raise KeyError(f"no creatinine for {patient['name']}")

    button.clicked.connect(compute_for_patient)
    caplog.set_level(logging.ERROR, logger="osler.errors")
    with qtbot.waitSignal(reporter.shown, timeout=5_000) as shown:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    box = shown.args[0]
    assert box.isVisible() and box.windowTitle() == "Something went wrong"
    assert "KeyError" in box.text()
    assert "saved decisions and the audit trail are unaffected" in box.informativeText()
    shown_text = box.text() + box.informativeText() + box.detailedText()
    assert not any(part in shown_text for part in PATIENT_PARTS)

    lines = [r.getMessage() for r in caplog.records if r.name == "osler.errors"]
    assert len(lines) == 1
    assert "KeyError" in lines[0] and f"{__name__}:compute_for_patient:" in lines[0]
    assert not any(part in lines[0] for part in PATIENT_PARTS)

    for _ in range(3):  # the same failure again: still one dialog, with a count
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: reporter.repeats == 3)
    assert open_error_dialogs() == [box] and "4 times" in box.informativeText()


@pytest.mark.qt_no_exception_capture
def test_errors_on_worker_threads_reach_the_gui_thread(qtbot, reporter, caplog):
    caplog.set_level(logging.ERROR, logger="osler.errors")

    def work():
        raise ValueError("Abe604 Kulas532: unreadable note")

    with qtbot.waitSignal(reporter.shown, timeout=5_000) as shown:
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
    assert shown.args[0].thread() is QApplication.instance().thread()
    shown.args[0].close()
    qtbot.waitUntil(lambda: reporter.dialog is None)

    class Job(QRunnable):
        def run(self):
            raise RuntimeError("Abe604")

    with qtbot.waitSignal(reporter.shown, timeout=5_000):
        QThreadPool.globalInstance().start(Job())
    QThreadPool.globalInstance().waitForDone(5_000)
    lines = [r.getMessage() for r in caplog.records if r.name == "osler.errors"]
    assert [line.split()[1] for line in lines] == ["ValueError", "RuntimeError"]
    assert not any("Abe604" in line for line in lines)


def test_the_reporter_never_raises(reporter):
    reporter.reported.disconnect()
    reporter.reported.connect(lambda _site: 1 / 0)  # even a broken dialog path
    reporter.report(ValueError, None)
    QApplication.processEvents()


def test_qt_file_dialog_history_is_forgotten_unless_recent_files_are_remembered(
        app_settings, private_settings):
    from PySide6.QtCore import QSettings

    from osler.ui.recent_files import forget_file_dialog_history

    qt = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "QtProject")
    qt.setValue("FileDialog/history", ["/records/Abe604_Kulas532"])
    qt.setValue("FileDialog/lastVisited", "file:///records/Abe604_Kulas532")
    qt.sync()
    forget_file_dialog_history(app_settings)
    qt.sync()
    assert qt.value("FileDialog/history") is None and qt.value("FileDialog/lastVisited") is None
    for path in private_settings.rglob("*"):
        if path.is_file():
            assert b"Abe604" not in path.read_bytes(), path
