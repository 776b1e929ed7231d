"""Run teaching work (loading the model, computing a differential) off the UI thread."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class JobSignals(QObject):
    finished = Signal(object)
    failed = Signal(str)


class Job(QRunnable):
    """One call of `fn` on a pool thread; its result or error comes back as a signal."""

    def __init__(self, fn: Callable[[], Any]):
        super().__init__()
        self.fn = fn
        self.signals = JobSignals()

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:  # reported to the window as a message, never a crash
            text = " ".join(str(exc).split()) or type(exc).__name__
            self.signals.failed.emit(text)
        else:
            self.signals.finished.emit(result)


class JobRunner(QObject):
    """A one-thread pool: the model is used by one worker at a time, in request order."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self._alive: set[Job] = set()

    def submit(self, fn: Callable[[], Any], on_done: Callable[[Any], None],
               on_error: Callable[[str], None]) -> Job:
        job = Job(fn)
        job.setAutoDelete(False)
        self._alive.add(job)

        def done(result: Any, j: Job = job) -> None:
            self._alive.discard(j)
            on_done(result)

        def failed(message: str, j: Job = job) -> None:
            self._alive.discard(j)
            on_error(message)

        job.signals.finished.connect(done)
        job.signals.failed.connect(failed)
        self.pool.start(job)
        return job

    @property
    def busy(self) -> bool:
        return bool(self._alive)

    def wait(self, msecs: int = 30_000) -> bool:
        return self.pool.waitForDone(msecs)
