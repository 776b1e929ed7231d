"""FHIR import off the UI thread: a QRunnable that parses and lays out a record, cancellable.

The UI thread never parses. Results come back as queued signals. Cancel stops the work
itself (not only the wait): the worker thread gets an ImportCancelled exception raised
at its next Python instruction, so a long import frees its memory at once.
"""

from __future__ import annotations

import ctypes
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, Signal

from osler.errors import INPUT_ERRORS
from osler.fhir import ImportResult, import_path
from osler.ui.timeline_layout import TimelineLayout, build_layout


class ImportCancelled(BaseException):
    """Raised inside the worker thread when the user cancels (BaseException: not caught
    by the importer's own `except Exception` handlers)."""


@dataclass(slots=True)
class LoadedRecord:
    """An import plus a ready-to-draw layout per patient, and how long it took."""

    path: Path
    result: ImportResult
    layouts: dict[str, TimelineLayout] = field(default_factory=dict)
    seconds: float = 0.0


class ImportSignals(QObject):
    """Signals of one import job (emitted from the worker thread, delivered queued)."""

    stage = Signal(str)
    finished = Signal(object)  # LoadedRecord
    failed = Signal(str)  # one message naming what was wrong and where
    cancelled = Signal()


def load_record(path: Path) -> LoadedRecord:
    """Import and lay out a record (the work the job does; callable without Qt threads)."""
    started = time.perf_counter()
    result = import_path(path)
    layouts = {t.patient.id: build_layout(t) for t in result.timelines}
    return LoadedRecord(path, result, layouts, time.perf_counter() - started)


class ImportJob(QRunnable):
    """Import one path on a QThreadPool thread."""

    RUNNING, DONE = "running", "done"

    def __init__(self, path: Path):
        super().__init__()
        self.setAutoDelete(False)  # the window keeps the Python object until a signal arrives
        self.path = Path(path)
        self.signals = ImportSignals()
        self._lock = threading.Lock()
        self._state = "queued"
        self._thread_id: int | None = None
        self._cancel_requested = False
        self._injected = False

    def cancel(self) -> None:
        """Stop the import as soon as possible; `cancelled` is emitted by the worker."""
        with self._lock:
            self._cancel_requested = True
            if self._state == self.RUNNING and self._thread_id is not None and not self._injected:
                self._injected = _raise_in_thread(self._thread_id, ImportCancelled)

    @property
    def cancel_requested(self) -> bool:
        return self._cancel_requested

    def run(self) -> None:
        try:
            self._run()
        except ImportCancelled:
            # The cancel landed after the work finished but before the state changed.
            self._finish_cancelled()

    def _run(self) -> None:
        with self._lock:
            if self._cancel_requested:
                self._state = self.DONE
                self.signals.cancelled.emit()
                return
            self._thread_id = threading.get_ident()
            self._state = self.RUNNING
        try:
            self.signals.stage.emit(f"Reading {self.path.name}…")
            loaded = load_record(self.path)
        except ImportCancelled:
            self._finish_cancelled()
            return
        except INPUT_ERRORS as exc:
            self._done()
            self.signals.failed.emit(str(exc))
            return
        except MemoryError:
            self._done()
            self.signals.failed.emit(f"{self.path}: not enough memory to open this record")
            return
        except Exception as exc:  # a bug: report it, keep the app running
            self._done()
            self.signals.failed.emit(
                f"{self.path}: internal error while importing ({type(exc).__name__}: {exc})")
            return
        if self._done():
            self.signals.cancelled.emit()
        else:
            self.signals.finished.emit(loaded)

    def _done(self) -> bool:
        """Mark the job finished; True if a cancel arrived (its pending exception is cleared)."""
        with self._lock:
            self._state = self.DONE
            injected = self._injected
        if injected and self._thread_id is not None:
            _clear_in_thread(self._thread_id)
        return injected or self._cancel_requested

    def _finish_cancelled(self) -> None:
        with self._lock:
            self._state = self.DONE
        if self._thread_id is not None:
            _clear_in_thread(self._thread_id)
        self.signals.cancelled.emit()


def _raise_in_thread(thread_id: int, exc: type[BaseException]) -> bool:
    """Schedule `exc` in another Python thread (CPython's PyThreadState_SetAsyncExc)."""
    n = ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(exc))
    return n == 1


def _clear_in_thread(thread_id: int) -> None:
    """Drop a scheduled exception that has not fired yet."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), None)
