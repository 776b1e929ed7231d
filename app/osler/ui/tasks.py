"""One small helper for work off the UI thread (in the spirit of Anki's QueryOp).

`TaskRunner.run(fn, on_done, ...)` runs `fn(token)` on a thread pool and calls `on_done`
with its result on the UI thread. Tasks share a *key*: a newer task with the same key
makes the older one stale (its result is dropped, and its token is cancelled so that it
stops at its next check). Cancellation is cooperative: the work calls `token.check()` at
safe points (osler.cancel); nothing is ever interrupted from outside."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from osler.cancel import Cancelled, CancelToken


class _Signals(QObject):
    done = Signal(int, object)
    failed = Signal(int, object)  # the exception
    cancelled = Signal(int)
    progress = Signal(int, object)  # the tuple given to token.report()


_IN_FLIGHT: set[QRunnable] = set()  # alive while the pool runs them, whoever asked
_LOCK = threading.Lock()


class _Runnable(QRunnable):
    def __init__(self, seq: int, fn: Callable[[CancelToken], Any], token: CancelToken,
                 signals: _Signals):
        super().__init__()
        self.setAutoDelete(False)  # the runner keeps it until it reports
        self.seq, self.fn, self.token, self.signals = seq, fn, token, signals
        token._reporter = lambda progress: signals.progress.emit(seq, progress)

    def run(self) -> None:
        try:
            self._run()
        finally:
            with _LOCK:
                _IN_FLIGHT.discard(self)

    def _run(self) -> None:
        try:
            self.token.check()
            result = self.fn(self.token)
        except Cancelled:
            self.signals.cancelled.emit(self.seq)
        except BaseException as exc:
            self.signals.failed.emit(self.seq, exc)
        else:
            if self.token.cancelled:
                self.signals.cancelled.emit(self.seq)
            else:
                self.signals.done.emit(self.seq, result)


@dataclass
class TaskHandle:
    """A running task: its sequence number and how to cancel it."""

    seq: int
    key: str
    token: CancelToken = field(default_factory=CancelToken)

    def cancel(self) -> None:
        self.token.cancel()


@dataclass
class _Entry:
    handle: TaskHandle
    runnable: _Runnable
    on_done: Callable[[Any], None]
    on_failed: Callable[[BaseException], None] | None
    on_cancelled: Callable[[], None] | None
    on_progress: Callable[..., None] | None = None


class TaskRunner(QObject):
    """See the module docstring."""

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None):
        super().__init__(parent)
        self.pool = pool or QThreadPool.globalInstance()
        self._signals = _Signals()
        self._signals.done.connect(self._done)
        self._signals.failed.connect(self._failed)
        self._signals.cancelled.connect(self._cancelled)
        self._signals.progress.connect(self._progress)
        self._seq = 0
        self._latest: dict[str, int] = {}
        self._entries: dict[int, _Entry] = {}

    def run(self, fn: Callable[[CancelToken], Any], on_done: Callable[[Any], None],
            on_failed: Callable[[BaseException], None] | None = None,
            on_cancelled: Callable[[], None] | None = None, key: str = "task",
            on_progress: Callable[..., None] | None = None) -> TaskHandle:
        """Start FN; an older task with the same KEY is cancelled and its result dropped.
        What FN passes to `token.report(...)` reaches ON_PROGRESS on the UI thread."""
        old = self._latest.get(key)
        if old is not None and old in self._entries:
            self._entries[old].handle.cancel()
        self._seq += 1
        handle = TaskHandle(self._seq, key)
        runnable = _Runnable(handle.seq, fn, handle.token, self._signals)
        self._entries[handle.seq] = _Entry(handle, runnable, on_done, on_failed, on_cancelled,
                                           on_progress)
        self._latest[key] = handle.seq
        with _LOCK:
            _IN_FLIGHT.add(runnable)
        self.pool.start(runnable)
        return handle

    def current(self, key: str) -> TaskHandle | None:
        seq = self._latest.get(key)
        entry = self._entries.get(seq) if seq is not None else None
        return entry.handle if entry is not None else None

    def cancel(self, key: str) -> None:
        handle = self.current(key)
        if handle is not None:
            handle.cancel()

    def busy(self) -> bool:
        return bool(self._entries)

    def _take(self, seq: int) -> tuple[_Entry | None, bool]:
        entry = self._entries.pop(seq, None)
        if entry is None:
            return None, False
        return entry, self._latest.get(entry.handle.key) == seq

    def _done(self, seq: int, result: Any) -> None:
        entry, latest = self._take(seq)
        if entry is None:
            return
        if entry.handle.token.cancelled:  # cancelled after its last check: drop the result
            if entry.on_cancelled is not None:
                entry.on_cancelled()
        elif latest:
            entry.on_done(result)

    def _failed(self, seq: int, exc: BaseException) -> None:
        entry, latest = self._take(seq)
        if entry is None or not latest:
            return
        if entry.on_failed is None:
            raise exc  # the app's one error path (ui/error_report.py) shows it
        entry.on_failed(exc)

    def _progress(self, seq: int, progress: tuple) -> None:
        entry = self._entries.get(seq)
        if entry is not None and entry.on_progress is not None and \
                self._latest.get(entry.handle.key) == seq:
            entry.on_progress(*progress)

    def _cancelled(self, seq: int) -> None:
        entry, _latest = self._take(seq)
        if entry is not None and entry.on_cancelled is not None:
            entry.on_cancelled()
