"""`osler-gui` entry point: the desktop window on a record, the last one, or the demo patient."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from osler import __version__

DATE_STEPS = {"day": timedelta(days=1), "month": timedelta(days=31), "year": timedelta(days=366)}


def parse_at(text: str) -> datetime:
    """A FHIR date/dateTime for the 'now' cursor; a date means the end of that day/month/year.

    Same meaning as `osler ddx --at`. Raises ValueError naming the problem.
    """
    from osler.fhir.dates import DateParseError, parse_datetime

    try:
        value, precision = parse_datetime(text.strip().replace(" ", "T", 1))
    except DateParseError as exc:
        raise ValueError(str(exc)) from exc
    if precision == "second":
        return value
    end = value + DATE_STEPS[precision]
    if precision == "month":
        end = end.replace(day=1)
    elif precision == "year":
        end = end.replace(month=1, day=1)
    return end - timedelta(microseconds=1)


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
    parser.add_argument("--version", action="version", version=f"osler-gui {__version__}")
    return parser


def initial_path(explicit: Path | None, settings) -> Path:
    """What to open at start: the given path, else the last record, else the demo patient."""
    from osler.ui.resources import demo_case

    if explicit is not None:
        return explicit
    return settings.last_opened() or demo_case()


def main(argv: Sequence[str] | None = None) -> int:
    """Start the window; exit 2 with one line on stderr for bad arguments."""
    args = build_parser().parse_args(argv)
    now = None
    if args.at:
        try:
            now = parse_at(args.at)
        except ValueError as exc:
            print(f"osler-gui: error: --at: {exc}", file=sys.stderr)
            return 2

    from PySide6.QtCore import QCoreApplication, Qt, QTimer
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from osler.ui.settings import APPLICATION, ORGANIZATION, AppSettings

    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setOrganizationDomain("osler.invalid")
    QCoreApplication.setApplicationName(APPLICATION)
    QCoreApplication.setApplicationVersion(__version__)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    QGuiApplication.setDesktopFileName("osler")

    from osler.ui.main_window import MainWindow
    from osler.ui.resources import ResourcesNotFound

    settings = AppSettings()
    if args.reset_settings:
        settings.reset()
    window = MainWindow(settings=settings, theme=args.theme)
    if args.theme:
        settings.set_theme(args.theme)
    window.show()
    _attach_differential(window, settings, args)
    try:
        path = initial_path(args.path, settings)
    except ResourcesNotFound as exc:
        window.statusBar().showMessage(str(exc))
        path = None
    if path is not None:
        QTimer.singleShot(0, lambda: window.open_path(path, args.patient, now))
    # Ctrl+C in the terminal closes the window properly (settings saved); the timer lets
    # Python run its signal handler while Qt's event loop is waiting.
    signal.signal(signal.SIGINT, lambda *_: window.close())
    heartbeat = QTimer()
    heartbeat.timeout.connect(lambda: None)
    heartbeat.start(300)
    return app.exec()


def _attach_differential(window, settings, args: argparse.Namespace) -> None:
    """The differential panel, its model and audit threads; the first-run self-check."""
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
        return
    if not settings.selfcheck_done() and not args.no_selfcheck:
        settings.set_selfcheck_done()
        QTimer.singleShot(600, lambda: controller.show_selfcheck(first_run=True))


if __name__ == "__main__":
    sys.exit(main())
