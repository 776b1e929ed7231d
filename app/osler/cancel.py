"""Cooperative cancellation: long work checks a token at safe points and stops there.

Used by every background task of the window (ui/tasks.py) and by the work they run (FHIR
import, layout); a plain-Python leaf module that any package may import."""

from __future__ import annotations

import threading


class Cancelled(Exception):
    """The user cancelled the work; nothing it made is kept."""


class CancelToken:
    """Set from any thread; the work calls `check()` where stopping is safe."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._reporter = None  # set by the task runner: progress to the UI thread

    def report(self, *progress: object) -> None:
        """Progress of the work (e.g. a stage and a fraction), for whoever shows it."""
        if self._reporter is not None:
            self._reporter(progress)

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise Cancelled if the work should stop."""
        if self._event.is_set():
            raise Cancelled()


NEVER = CancelToken()  # for callers that never cancel
