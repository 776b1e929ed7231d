"""Regenerate the user-guide screenshots in docs/screenshots/ from the real window.

Runs the app under Xvfb (a virtual X display, so the pictures match a desktop) or with
Qt's offscreen platform. It uses a throw-away settings folder, so your own window layout
and recent files are untouched, and only the fictional demo patient and a synthetic
record.

Debian/Ubuntu, once:
    sudo apt-get install xvfb xauth libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 \\
        libxkbcommon-x11-0
Then:
    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/make_screenshots.py
or, without X at all (fonts may render slightly differently):
    .venv/bin/python docs/make_screenshots.py --offscreen
With neither DISPLAY nor --offscreen the script re-runs itself under xvfb-run when it is
installed, else falls back to offscreen.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "screenshots"
SIZE = (1440, 880)


def _platform(args: argparse.Namespace) -> None:
    if args.offscreen:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        return
    if os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
        return
    if shutil.which("xvfb-run") and not os.environ.get("OSLER_SCREENSHOTS_CHILD"):
        env = dict(os.environ, OSLER_SCREENSHOTS_CHILD="1")
        cmd = ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", sys.executable, __file__,
               *sys.argv[1:]]
        sys.exit(subprocess.call(cmd, env=env))
    print("no DISPLAY and no xvfb-run: using Qt's offscreen platform", file=sys.stderr)
    os.environ["QT_QPA_PLATFORM"] = "offscreen"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offscreen", action="store_true", help="no X server needed")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    _platform(args)
    sys.path.insert(0, str(REPO))

    from PySide6.QtCore import QCoreApplication, QSettings, Qt
    from PySide6.QtWidgets import QApplication, QMessageBox

    settings_dir = Path(tempfile.mkdtemp(prefix="osler-shots-"))
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(settings_dir))
    QCoreApplication.setOrganizationName("OslerScreenshots")
    app = QApplication.instance() or QApplication(sys.argv[:1])

    from bench.synthetic_record import write_synthetic_bundle

    from osler.ui.app import parse_at
    from osler.ui.main_window import MainWindow
    from osler.ui.patient_chooser import PatientChooser
    from osler.ui.resources import demo_case
    from osler.ui.settings import AppSettings

    args.out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def settle(ms: int = 150) -> None:
        end = time.monotonic() + ms / 1000
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)

    def shoot(widget, name: str) -> None:
        settle()
        path = args.out / name
        widget.grab().save(str(path))
        written.append(path)
        print(f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")

    def wait_for(condition, what: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not condition() and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)
        if not condition():
            raise SystemExit(f"timed out waiting for {what}")
        settle()

    def modal(fill) -> None:
        """Run FILL on the next modal dialog once it is shown (the caller then opens it)."""
        from PySide6.QtCore import QTimer

        def run() -> None:
            dialog = QApplication.activeModalWidget()
            if dialog is None:
                QTimer.singleShot(20, run)
                return
            try:
                fill(dialog)
            finally:
                if dialog.isVisible():
                    dialog.reject()

        QTimer.singleShot(50, run)

    def open_and_wait(window, path: Path, **kw) -> None:
        done: list[object] = []
        window.recordLoaded.connect(done.append)
        window.recordFailed.connect(done.append)
        window.open_path(path, **kw)
        deadline = time.monotonic() + 120
        while not done and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)
        window.recordLoaded.disconnect(done.append)
        window.recordFailed.disconnect(done.append)
        if not done:
            raise SystemExit(f"timed out opening {path}")
        settle()

    settings = AppSettings(QSettings(str(settings_dir / "osler.ini"), QSettings.Format.IniFormat))
    settings.set_clinician_id("dr-demo")
    # A throw-away audit trail: the pictures never touch the user's own store.
    os.environ["OSLER_AUDIT_DB"] = str(settings_dir / "audit" / "audit.db")
    os.environ.setdefault("OSLER_PASSPHRASE", "screenshots only, not a real passphrase")
    window = MainWindow(settings=settings, theme="light")
    window.resize(*SIZE)
    window.show()
    from osler.ui.ddx_controller import attach_differential

    ddx = attach_differential(window)
    wait_for(lambda: ddx.loaded_model is not None, "the model to load")
    settle(300)

    # 1. The demo patient with a lab selected: details and trend with the reference range.
    open_and_wait(window, demo_case())
    wait_for(lambda: ddx.result is not None, "the differential")
    view = window.timeline_view
    timeline = window.current
    ddimer = next(e for e in timeline if e.display.startswith("Fibrin D-dimer"))
    view.set_window(ddimer.time.timestamp() - 86400 * 40, ddimer.time.timestamp() + 86400 * 6)
    view.select_event(ddimer.id)
    shoot(window, "window-demo.png")

    # 2. Blood pressure trend (systolic and diastolic together).
    systolic = next(e for e in timeline if e.id.endswith("#8480-6") and e.value == 108)
    view.select_event(systolic.id)
    shoot(window, "trend-blood-pressure.png")

    # 3. An evidence link: a note highlighted with the cited words marked.
    note = next(e for e in timeline if e.display == "Triage note")
    start = note.text.index("Sharp chest pain")
    window.highlight_event(note.id, (start, start + len("Sharp chest pain on the right")))
    settle(1000)  # let the flash finish
    shoot(window, "note-highlight.png")

    # 4. The 'now' cursor: what the model sees (later events greyed).
    view.fit_all()
    view.set_window(parse_at("2024-02-15").timestamp(), parse_at("2024-03-08").timestamp())
    window.set_now(parse_at("2024-03-04T14:07:00Z"))
    shoot(window, "now-cursor.png")
    window.set_now(None)

    # 5. Search with matches highlighted.
    view.fit_all()
    window.timeline_panel.search.setText("chest")
    window.timeline_panel.run_search()
    view.next_match()
    shoot(window, "search.png")
    window.timeline_panel.search.clear()
    window.timeline_panel.run_search()

    # 6. Dark theme.
    window.set_theme("dark")
    view.select_event(ddimer.id)
    shoot(window, "window-dark.png")
    window.set_theme("light")

    # 7. A very long (synthetic) record: dense stretches drawn as histograms.
    tmp = Path(tempfile.mkdtemp(prefix="osler-shots-data-"))
    open_and_wait(window, write_synthetic_bundle(tmp / "synthetic-50k.json", events=50_000))
    view.select_event(None)
    shoot(window, "long-record.png")

    # 8. A file holding several patients: the chooser.
    from osler.fhir import import_path
    from osler.fhir.builder import BundleBuilder

    entries = []
    for seed, (given, family, sex, born) in enumerate(
            [("Alma", "First", "female", "1970-01-01"), ("Bert", "Second", "male", "1980-05-05"),
             ("Cleo", "Third", "female", "1992-11-30")]):
        b = BundleBuilder(f"shots-{seed}")
        b.patient(given, family, sex, born)
        b.vital("2024-01-01T10:00:00+00:00", "8867-4", "Heart rate", 70 + seed, "/min")
        entries += b.entries
    multi = tmp / "three-patients.json"
    multi.write_text(json.dumps({"resourceType": "Bundle", "type": "collection",
                                 "entry": entries}), encoding="utf-8")
    chooser = PatientChooser(str(multi.name), import_path(multi).roster, window)
    chooser.show()
    shoot(chooser, "patient-chooser.png")
    chooser.close()

    # 9. An import error, as the window reports it.
    box = QMessageBox(QMessageBox.Icon.Warning, "Could not open record",
                      "The record could not be opened; the previous record stays open.\n\n"
                      "/data/export/broken.json: invalid JSON at line 1 column 39: Expecting "
                      "value (file truncated?)", QMessageBox.StandardButton.Ok, window)
    box.setWindowModality(Qt.WindowModality.NonModal)
    box.show()
    shoot(box, "import-error.png")
    box.close()

    # 10. The differential beside the timeline, an evidence item clicked.
    window.resize(*SIZE)
    open_and_wait(window, demo_case())
    wait_for(lambda: ddx.result is not None and ddx.result.differential.patient_id
             == window.current.patient.id, "the demo differential")
    panel = ddx.panel
    panel.list.setCurrentRow(0)
    item = next(i for i in panel.evidence_items() if i.text(0).endswith("Swelling of one leg"))
    panel.evidence.setCurrentItem(item)
    panel.activate_evidence(item)
    settle(1000)
    shoot(window, "differential.png")

    # 11. What if the D-dimer were normal? (hypothetical; the record is unchanged)
    panel.tabs.setCurrentIndex(1)
    seq = ddx.seq
    ddx.toggle_finding("raised-d-dimer")
    wait_for(lambda: ddx.result is not None and ddx.result.seq > seq, "the what-if")
    panel.findings.setCurrentItem(panel.finding_item("raised-d-dimer"))
    shoot(window, "what-if.png")
    seq = ddx.seq
    ddx.reset_whatif()
    wait_for(lambda: ddx.result is not None and ddx.result.seq > seq, "the reset")
    panel.tabs.setCurrentIndex(0)

    # 12. Overrides: reject with a coded reason, add a diagnosis the model did not list.
    def reject(dialog) -> None:
        dialog.reason.setCurrentIndex(dialog.reason.findData("insufficient-evidence"))
        dialog.text.setPlainText("No consolidation on the chest film")
        dialog.resize(520, dialog.height())
        shoot(dialog, "override-reject.png")
        dialog.accept()

    appended: list[object] = []
    ddx.auditAppended.connect(appended.append)
    panel.list.setCurrentRow(1)
    modal(reject)
    panel.reject_button.click()
    wait_for(lambda: len(appended) == 1, "the audit entry")

    def add(dialog) -> None:
        dialog.search.setText("aortic")
        wait_for(lambda: dialog.index is not None, "the ICD-10-CM index")
        dialog.refresh()
        dialog.reason.setCurrentIndex(dialog.reason.findData("findings-not-in-record"))
        shoot(dialog, "override-add.png")
        dialog.accept()

    modal(add)
    panel.add_button.click()
    wait_for(lambda: len(appended) == 2, "the audit entry")
    panel.list.setCurrentRow(0)
    ddx.accept(1)
    wait_for(lambda: len(appended) == 3, "the audit entry")
    shoot(window, "overrides.png")

    # 13. The audit viewer after Verify.
    viewer = ddx.show_audit_viewer()
    wait_for(lambda: viewer.table.rowCount() == 3, "the audit entries")
    viewer.verify()
    wait_for(lambda: viewer.result.text().startswith(("OK", "NOT", "Could")), "verification")
    shoot(viewer, "audit-viewer.png")
    viewer.close()

    # 14. The model manager.
    manager = ddx.show_model_manager()
    wait_for(lambda: ddx.hardware is not None, "the GPU probe")
    shoot(manager, "model-manager.png")
    manager.close()

    # 15. The self-check (as on first start).
    check = ddx.show_selfcheck(first_run=True)
    wait_for(lambda: bool(check.checks), "the self-check", timeout=300)
    shoot(check, "selfcheck.png")
    check.close()

    # 16. The passphrase dialog shown when there is no secure keyring.
    from osler.ui.passphrase_dialog import PassphraseDialog

    ask = PassphraseDialog("Choose a passphrase for the new Osler audit trail (no secure OS "
                           "keyring)", True, window)
    ask.show()
    shoot(ask, "passphrase.png")
    ask.close()

    # 17. Text beside a record: the presentation adds to the demo patient at 'now'.
    window.resize(*SIZE)
    box = ddx.presentation
    seq = ddx.seq
    box.editor.setPlainText("Known sickle cell disease. Calf tender on the right.")
    wait_for(lambda: ddx.result is not None and ddx.result.seq > seq
             and ddx.result.presentation.text != "", "the text with the record")
    settle(500)
    shoot(window, "presentation-with-record.png")

    # 18. File ▸ New case from presentation: no record, age and sex typed, a finding
    # corrected in place.
    window.new_case()
    box.age.setValue(24)
    box.sex.setCurrentText("female")
    seq = ddx.seq
    box.editor.setPlainText("Sudden severe headache while at the gym, vomited twice, neck "
                            "feels stiff, light hurts her eyes. No fever. Not pregnant.")
    wait_for(lambda: ddx.result is not None and ddx.result.seq > seq
             and ddx.result.differential.diagnoses, "the typed case")
    settle(500)
    shoot(window, "presentation-new-case.png")

    # 19. Rare diseases to consider: a phenotype-rich presentation, the panel opened, a
    # suggestion's matching phenotype clicked (its words marked in the presentation).
    window.resize(SIZE[0], 1000)
    window.new_case()
    box.age.setValue(14)
    box.sex.setCurrentText("male")
    seq = ddx.seq
    box.editor.setPlainText("A 14-year-old boy with intellectual disability, macroorchidism, a "
                            "long face, large protruding ears, joint hypermobility and "
                            "autistic behaviour")
    wait_for(lambda: ddx.result is not None and ddx.result.seq > seq
             and ddx.result.differential.rare is not None, "the rare-disease panel")
    if ddx.result.differential.rare.shown:
        ddx.focus_rare()
        settle(300)
        ddx.rare.select_rank(1)
        row = next(iter(ddx.rare.matching_items()), None)
        if row is not None:
            ddx.rare.evidence.setCurrentItem(row)
            ddx.rare.activate(row)
    settle(500)
    shoot(window, "rare-panel.png")
    window.resize(*SIZE)

    window.close()
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(settings_dir, ignore_errors=True)
    print(f"{len(written)} screenshots ({app.platformName()} platform)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
