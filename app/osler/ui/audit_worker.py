"""The audit trail's own thread: opens the encrypted store, appends (fsync), reads, verifies.

Appends never block the window. When the store needs a passphrase (no secure OS keyring),
the worker asks the UI thread through `passphraseNeeded` and waits for `answer()`; the
window shows the dialog. Nothing here keeps a passphrase beyond the open store's provider.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from osler.audit import AuditError, AuditStore, KeyProvider, OverrideRecord

ProviderFactory = Callable[[Callable[[str, bool], "str | None"]], KeyProvider]
"""Makes the KeyProvider from the window's ask function (tests lower its scrypt cost)."""


def default_provider(ask: Callable[[str, bool], str | None]) -> KeyProvider:
    """OS keyring when secure, else $OSLER_PASSPHRASE, else the window asks."""
    return KeyProvider(ask=ask)


class AuditWorker(QObject):
    """Lives on its own QThread; every slot runs there. Results carry the caller's tag."""

    opened = Signal(object)  # store.info()
    appended = Signal(object, object)  # AuditEntry, tag
    entriesRead = Signal(object, object)  # list[AuditEntry], tag
    verifyProgress = Signal(int, int)
    verified = Signal(object)  # VerifyReport
    anchored = Signal(str, object)  # path written, Anchor
    exported = Signal(str, int)  # path written, entries
    failed = Signal(str, str, object)  # operation, message, tag
    passphraseNeeded = Signal(str, bool)  # message, is_new

    def __init__(self, path: Path | str | None = None,
                 provider_factory: ProviderFactory = default_provider):
        super().__init__()
        self.path = Path(path) if path is not None else None
        self.provider_factory = provider_factory
        self.store: AuditStore | None = None
        self._answer: str | None = None
        self._answered = threading.Event()
        self._stop = threading.Event()
        self._cancel_verify = threading.Event()

    # --- the passphrase bridge (worker waits, UI answers) ------------------------

    def _ask(self, message: str, is_new: bool) -> str | None:
        self._answered.clear()
        self._answer = None
        self.passphraseNeeded.emit(message, is_new)
        while not self._answered.wait(0.1):
            if self._stop.is_set():
                return None
        return self._answer

    def answer(self, passphrase: str | None) -> None:
        """Called from the UI thread with what the user typed (None: cancelled)."""
        self._answer = passphrase
        self._answered.set()

    def stop(self) -> None:
        """Called from the UI thread before quitting: unblocks a pending question."""
        self._stop.set()
        self._cancel_verify.set()
        self._answered.set()

    def cancel_verify(self) -> None:
        self._cancel_verify.set()

    # --- operations ----------------------------------------------------------------

    def _store(self, create: bool) -> AuditStore:
        if self.store is None:
            self.store = AuditStore.open(self.path, self.provider_factory(self._ask),
                                         create=create)
            self.opened.emit(self.store.info())
        return self.store

    def _run(self, what: str, tag: Any, work: Callable[[], None]) -> None:
        try:
            work()
        except AuditError as exc:
            self.failed.emit(what, str(exc), tag)
        except Exception as exc:  # a bug: report it, keep the app running
            self.failed.emit(what, f"internal error ({type(exc).__name__}: {exc})", tag)

    @Slot(object)
    def open(self, create: bool = False) -> None:
        """Open (or create) the store now, e.g. to set up the passphrase at first run."""
        self._run("open", None, lambda: self._store(create))

    @Slot()
    def probe(self) -> None:
        """At start: open an existing store if its key needs no question (OS keyring or
        OSLER_PASSPHRASE), so that a read-only store (damaged WAL, witness disagrees) is
        known before the first override. Silent when it cannot: the first real use asks
        and reports as before."""
        if self.store is not None or not self._exists():
            return
        try:
            self.store = AuditStore.open(self.path, self.provider_factory(lambda *_: None),
                                         create=False)
        except Exception:  # reported by the first real use instead
            self.store = None
            return
        self.opened.emit(self.store.info())

    @Slot(object, object)
    def append(self, record: OverrideRecord, tag: Any = None) -> None:
        """Record one override; `appended` comes only after it is committed and fsync'd."""
        self._run("append", tag, lambda: self.appended.emit(
            self._store(True).append(record), tag))

    @Slot(object, object)
    def read(self, filters: dict[str, Any], tag: Any = None) -> None:
        """Entries oldest first, filtered as AuditStore.entries() filters."""
        def work() -> None:
            if self.store is None and not self._exists():
                self.entriesRead.emit([], tag)
                return
            self.entriesRead.emit(self._store(False).entries(**filters), tag)

        self._run("read", tag, work)

    @Slot(object)
    def verify(self, anchor_path: str | None = None) -> None:
        """Check the whole chain (and against an anchor file if given), with progress."""
        from osler.audit import Anchor

        self._cancel_verify.clear()

        def progress(done: int, total: int) -> bool:
            self.verifyProgress.emit(done, total)
            return not self._cancel_verify.is_set()

        def work() -> None:
            anchor = Anchor.load(anchor_path) if anchor_path else None
            self.verified.emit(self._store(False).verify(anchor, progress=progress))

        self._run("verify", None, work)

    @Slot(str)
    def make_anchor(self, path: str) -> None:
        """Write a signed checkpoint where the user chose (refused if it does not verify)."""
        def work() -> None:
            anchor = self._store(False).anchor()
            written = anchor.save(path, overwrite=True)
            self.anchored.emit(str(written), anchor)

        self._run("anchor", None, work)

    @Slot(str, object)
    def export(self, path: str, filters: dict[str, Any]) -> None:
        """FHIR R4 AuditEvent + Provenance bundle, written only to PATH."""
        self._run("export", None, lambda: self.exported.emit(
            path, self._store(False).export_fhir(path, overwrite=True, **filters)))

    @Slot()
    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None

    @Slot()
    def shutdown(self) -> None:
        """Close the store and end this thread's event loop (called on the worker thread)."""
        self.close()
        thread = QThread.currentThread()
        app = QCoreApplication.instance()
        if thread == self.thread() and (app is None or thread != app.thread()):
            thread.quit()  # only ever a worker thread, never the window's own

    def _exists(self) -> bool:
        from osler.audit import default_path

        return (self.path or default_path()).exists()

    @property
    def location(self) -> Path:
        from osler.audit import default_path

        return self.path or default_path()


class AuditThread(QThread):
    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.setObjectName("osler-audit")
