"""One path for unexpected errors: any uncaught exception, in a slot or on a worker thread,
becomes one clear dialog and one log line, instead of a traceback on a terminal nobody sees.

The dialog says what failed and what was kept. The log line carries the exception type and
where it was raised (module:function:line) and never the exception's message, which can
hold patient data (a name in a KeyError, a note in a ValueError). Reports from other
threads are queued to the GUI thread; while a dialog is open, further errors only add to its
count, so a failing paint or timer cannot stack up hundreds of boxes.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

log = logging.getLogger("osler.errors")
KEPT = ("Your saved decisions and the audit trail are unaffected, and Osler never changes "
        "the record's file.")
# Where an error was raised -> what the user was doing, in their words.
AREAS = (
    ("osler.ui.ddx", "the differential"), ("osler.ui.model", "the model"),
    ("osler.ui.override", "recording a decision"), ("osler.ui.audit", "the audit trail"),
    ("osler.ui.timeline", "the timeline"), ("osler.ui.trend", "the trend plot"),
    ("osler.ui.teaching", "teaching mode"), ("osler.ui.import", "opening the record"),
    ("osler.ui.selfcheck", "the self-check"), ("osler.fhir", "reading the record"),
    ("osler.findings", "reading the findings"), ("osler.reasoning", "the model"),
    ("osler.audit", "the audit trail"), ("osler.teaching", "teaching mode"),
    ("osler.session", "the differential"),
)


@dataclass(frozen=True, slots=True)
class ErrorSite:
    """Where an exception was raised: no message text, so nothing from the record."""

    kind: str
    module: str
    function: str
    line: int
    frames: tuple[str, ...]  # module:function:line, outermost first

    @property
    def where(self) -> str:
        return f"{self.module}:{self.function}:{self.line}"

    @property
    def area(self) -> str:
        return next((text for prefix, text in AREAS if self.module.startswith(prefix)),
                    "the last action")


def error_site(kind: type[BaseException], tb: TracebackType | None) -> ErrorSite:
    """The innermost Osler frame of a traceback (else the innermost frame)."""
    frames: list[tuple[str, str, int]] = []
    while tb is not None:
        frame = tb.tb_frame
        frames.append((str(frame.f_globals.get("__name__", "?")), frame.f_code.co_name,
                       tb.tb_lineno))
        tb = tb.tb_next
    ours = [f for f in frames if f[0] == "osler" or f[0].startswith("osler.")]
    module, function, line = (ours or frames or [("?", "?", 0)])[-1]
    return ErrorSite(kind.__name__, module, function, line,
                     tuple(f"{m}:{f}:{n}" for m, f, n in frames))


class ErrorReporter(QObject):
    """Installed once per application; shows at most one error dialog at a time."""

    reported = Signal(object)  # ErrorSite, from any thread; handled on the GUI thread
    shown = Signal(object)  # the QMessageBox, once it is on screen (a seam for tests)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.dialog: QMessageBox | None = None
        self.repeats = 0
        self.sites: list[ErrorSite] = []
        self._previous: tuple = ()
        self._reporting = threading.local()
        self.reported.connect(self._show, Qt.ConnectionType.QueuedConnection)

    # --- hooks --------------------------------------------------------------------------

    def install(self) -> None:
        """Take over sys.excepthook and threading.excepthook (uninstall() gives them back)."""
        if not self._previous:
            self._previous = (sys.excepthook, threading.excepthook)
        sys.excepthook = self.excepthook
        threading.excepthook = self.thread_excepthook

    def uninstall(self) -> None:
        if self._previous:
            sys.excepthook, threading.excepthook = self._previous
            self._previous = ()

    def excepthook(self, kind: type[BaseException], value: BaseException,
                   tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, value, tb)
            return
        self.report(kind, tb)

    def thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        self.report(args.exc_type, args.exc_traceback)

    def report(self, kind: type[BaseException], tb: TracebackType | None) -> None:
        """Log the error (type and place only) and queue its dialog; never raises."""
        if getattr(self._reporting, "on", False):  # an error while reporting one: no loop
            self._last_resort(kind)
            return
        self._reporting.on = True
        try:
            site = error_site(kind, tb)
            log.error("unexpected %s at %s (in %s)", site.kind, site.where, site.area)
            self.reported.emit(site)
        except Exception:  # the reporter itself must not take the app down
            self._last_resort(kind)
        finally:
            self._reporting.on = False

    @staticmethod
    def _last_resort(kind: type[BaseException]) -> None:
        with contextlib.suppress(Exception):  # nowhere left to say it
            sys.__stderr__.write(f"osler: unexpected {kind.__name__} (not shown)\n")

    # --- the dialog (GUI thread) --------------------------------------------------------

    @Slot(object)
    def _show(self, site: ErrorSite) -> None:
        try:
            self.sites.append(site)
            if self.dialog is not None and self.dialog.isVisible():
                self.repeats += 1
                self.dialog.setInformativeText(self._informative())
                return
            self.repeats = 0
            self.dialog = self._make_dialog(site)
            self.dialog.open()  # window-modal, not blocking: the hook returns at once
            self.shown.emit(self.dialog)
        except Exception:  # a failing dialog must not recurse into the hook
            pass

    def _make_dialog(self, site: ErrorSite) -> QMessageBox:
        parent: QWidget | None = QApplication.activeWindow()
        box = QMessageBox(parent)
        box.setObjectName("errorReport")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Something went wrong")
        box.setText(f"An unexpected error stopped {site.area} ({site.kind}).")
        box.setInformativeText(self._informative())
        box.setDetailedText("Osler " + _version() + "\n" + f"{site.kind} at {site.where}\n"
                            + "\n".join(site.frames))
        box.setStandardButtons(QMessageBox.StandardButton.Ok)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(self._closed)
        return box

    def _informative(self) -> str:
        more = (f"\n\nIt happened {self.repeats + 1} times; only the first is shown."
                if self.repeats else "")
        return (f"{KEPT}\n\nYou can carry on; if it happens again, restart Osler. The details "
                "below (no patient data) help whoever supports Osler." + more)

    def _closed(self, _result: int) -> None:
        self.dialog = None


def _version() -> str:
    from osler import __version__

    return __version__


def default_log_path() -> Path:
    """The app's log file, in the per-user log folder."""
    from platformdirs import user_log_path

    return user_log_path("Osler", "Osler") / "osler.log"


def install_error_reporting(app: QObject, log_path: Path | None = None) -> ErrorReporter:
    """Hook uncaught exceptions for the app's lifetime; LOG_PATH gets the log lines."""
    if log_path is not None and not any(isinstance(h, logging.FileHandler)
                                        for h in log.handlers):
        try:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(log_path, encoding="utf-8")
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
            log.addHandler(handler)
        except OSError:
            pass  # a read-only home: the dialog still shows
    reporter = ErrorReporter(app)
    reporter.install()
    return reporter
