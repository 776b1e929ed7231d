"""`osler-gui` entry point: the desktop window on a record, the last one, or the demo patient."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from osler import __version__

_STARTED = time.perf_counter()  # near process start: for --exit-after-first-differential


def parse_at(text: str) -> datetime:
    """A FHIR date/dateTime for the 'now' cursor; a date means the end of that day/month/year.

    Same meaning as `osler ddx --at` (one parser: osler.fhir.user_dates). Raises ValueError.
    """
    from osler.fhir.user_dates import parse_user_datetime

    return parse_user_datetime(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="osler-gui",
        description="Osler desktop window: a patient's FHIR record as a timeline. Decision "
        "support for clinicians, not a diagnosis.",
    )
    parser.add_argument("path", nargs="?", type=Path,
                        help="FHIR Bundle .json, .ndjson file or folder (default: the last "
                        "record opened, else the demo patient)")
    parser.add_argument("--patient", help="patient id when the input holds several patients")
    parser.add_argument("--at", help="'now' cursor: the model sees events up to this FHIR "
                        "date/dateTime (e.g. 2024-03-04)")
    parser.add_argument("--text", help="a presentation to reason on: with PATH it adds to "
                        "the record at 'now'; alone it opens a new case from the text")
    parser.add_argument("--age", type=int, help="with --text and no PATH: age in years")
    parser.add_argument("--sex", choices=("female", "male"),
                        help="with --text and no PATH: sex")
    parser.add_argument("--theme", choices=("light", "dark"),
                        help="colour theme (default: as last chosen, else the system's)")
    parser.add_argument("--reset-settings", action="store_true",
                        help="forget window layout, theme and recent files, then start")
    parser.add_argument("--model", help="model folder to load instead of the last one chosen "
                        "(an Osler model, or a Hugging Face causal LM)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                        help="with --model: where it runs (default auto)")
    parser.add_argument("--quantization", choices=("auto", "none", "int8", "nf4"),
                        default="auto", help="with --model: weight format (default auto)")
    parser.add_argument("--no-selfcheck", action="store_true",
                        help="do not show the first-run self-check")
    parser.add_argument("--exit-after-first-differential", action="store_true",
                        help=argparse.SUPPRESS)  # smoke tests and start-up benchmarks
    parser.add_argument("--version", action="version", version=f"osler-gui {__version__}")
    return parser


def initial_path(explicit: Path | None, settings) -> Path:
    """What to open at start: the given path, else the last record, else the demo patient."""
    from osler.ui.resources import demo_case

    if explicit is not None:
        return explicit
    return settings.last_opened() or demo_case()


def display_problem(environ: Mapping[str, str] | None = None) -> str | None:
    """Linux/X11: the message for missing system libraries, before Qt aborts without naming
    them all (about 30 ms of `ldd`, only when Qt is about to use its X11 plugin)."""
    from osler.xcb_check import inspect_xcb, install_advice, will_use_xcb

    if not will_use_xcb(environ):
        return None
    report = inspect_xcb()
    if not report.missing:
        return None
    return ("osler-gui: error: the window cannot open. " + install_advice(report)
            + "\nThe command line (`osler`) works without them; `osler selfcheck` repeats this.")


def main(argv: Sequence[str] | None = None) -> int:
    """Start the window; exit 2 with one line on stderr for bad arguments."""
    args = build_parser().parse_args(argv)
    if args.age is not None and not 0 <= args.age <= 130:
        print(f"osler-gui: error: --age {args.age}: must be between 0 and 130", file=sys.stderr)
        return 2
    if (args.age is not None or args.sex) and not args.text:
        print("osler-gui: error: --age and --sex describe a typed case: give --text too",
              file=sys.stderr)
        return 2
    now = None
    if args.at:
        try:
            now = parse_at(args.at)
        except ValueError as exc:
            print(f"osler-gui: error: --at: {exc}", file=sys.stderr)
            return 2

    problem = display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 1

    from PySide6.QtCore import QCoreApplication, Qt, QTimer
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from osler.ui.error_report import default_log_path, install_error_reporting
    from osler.ui.settings import APPLICATION, ORGANIZATION, AppSettings

    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setOrganizationDomain("osler.invalid")
    QCoreApplication.setApplicationName(APPLICATION)
    QCoreApplication.setApplicationVersion(__version__)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    QGuiApplication.setDesktopFileName("osler")
    install_error_reporting(app, default_log_path())  # one dialog for unexpected errors

    from osler.ui.main_window import MainWindow
    from osler.ui.resources import ResourcesNotFound

    settings = AppSettings()
    if args.reset_settings:
        settings.reset()
    window = MainWindow(settings=settings, theme=args.theme)
    if args.theme:
        settings.set_theme(args.theme)
    window.show()
    controller = _attach_differential(window, settings, args)
    if args.exit_after_first_differential and controller is not None:
        _exit_after_first_differential(window, controller)
    if args.text and args.path is None:
        # A new case from the text alone: no record is opened (not even the last one).
        if controller is not None:
            QTimer.singleShot(0, lambda: open_text_case(window, controller, args.text,
                                                        args.age, args.sex))
        path = None
    else:
        try:
            path = initial_path(args.path, settings)
        except ResourcesNotFound as exc:
            window.statusBar().showMessage(str(exc))
            path = None
    if path is not None:
        if args.text and controller is not None:
            text = args.text

            def add_text(_timeline) -> None:
                window.recordLoaded.disconnect(add_text)
                controller.presentation.set_text(text)
                controller.set_text(text)

            window.recordLoaded.connect(add_text)
        QTimer.singleShot(0, lambda: window.open_path(path, args.patient, now))
    # Ctrl+C in the terminal closes the window properly (settings saved); the timer lets
    # Python run its signal handler while Qt's event loop is waiting.
    signal.signal(signal.SIGINT, lambda *_: window.close())
    heartbeat = QTimer()
    heartbeat.timeout.connect(lambda: None)
    heartbeat.start(300)
    return app.exec()


def _exit_after_first_differential(window, controller) -> None:
    """Print the time from process start to the first differential shown, then close."""
    from PySide6.QtCore import QTimer

    def shown(result) -> None:
        controller.differentialShown.disconnect(shown)
        print(f"first differential after {time.perf_counter() - _STARTED:.2f} s: "
              f"{len(result.differential.diagnoses)} diagnoses", file=sys.stderr)
        QTimer.singleShot(0, window.close)

    controller.differentialShown.connect(shown)


def open_text_case(window, controller, text: str, age: int | None, sex: str | None) -> None:
    """`osler-gui --text …` without a record: a new case from the text, its differential."""
    window.new_case()
    controller.new_case(text, age, sex)


def _attach_differential(window, settings, args: argparse.Namespace):
    """The controller, or None when the differential cannot start (shown to the user)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QMessageBox

    from osler.errors import INPUT_ERRORS
    from osler.reasoning.runtime import force_offline
    from osler.ui.ddx_controller import attach_differential
    from osler.ui.model_worker import ModelRequest

    force_offline()  # no Hugging Face library may reach the network, whatever the env says
    model = (ModelRequest("folder", args.model, args.device, args.quantization)
             if args.model else None)
    try:
        controller = attach_differential(window, model=model)
    except INPUT_ERRORS as exc:  # e.g. a clinic's KB pack that does not validate
        QMessageBox.critical(window, "Differential unavailable",
                             f"{exc}\n\nOsler shows the record only.")
        return None
    if not settings.selfcheck_done() and not args.no_selfcheck:
        settings.set_selfcheck_done()
        QTimer.singleShot(600, lambda: controller.show_selfcheck(first_run=True))
    return controller


if __name__ == "__main__":
    sys.exit(main())
