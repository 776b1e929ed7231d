"""Run teaching work (loading the model, computing a differential) off the UI thread.

A TaskRunner (ui/tasks.py) on a one-thread pool: the model is used by one worker at a time,
in request order; errors come back as one-line messages, never a crash."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThreadPool

from osler.ui.tasks import TaskHandle, TaskRunner


def _message(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


class JobRunner(TaskRunner):
    """Teaching jobs in order on one thread; none supersedes another."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self._n = 0

    def submit(self, fn: Callable[[], Any], on_done: Callable[[Any], None],
               on_error: Callable[[str], None]) -> TaskHandle:
        self._n += 1
        return self.run(lambda _token: fn(), on_done, lambda exc: on_error(_message(exc)),
                        key=f"job-{self._n}")

    @property
    def busy(self) -> bool:  # type: ignore[override]
        return bool(self._entries)

    def wait(self, msecs: int = 30_000) -> bool:
        return self.pool.waitForDone(msecs)
