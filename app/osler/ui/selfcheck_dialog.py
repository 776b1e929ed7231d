"""Help ▸ Self-check (and first start): the same checks as `osler selfcheck`, on a worker
thread, with passphrase set-up for the audit trail when there is no secure keyring."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from osler.cancel import CancelToken
from osler.selfcheck import FAIL, OK, WARN, Check, overall, run_selfcheck
from osler.ui.tasks import TaskHandle, TaskRunner

MARK = {OK: "✓ ok", WARN: "⚠ warning", FAIL: "✗ FAILED"}
COLOUR = {OK: "#1B7F3B", WARN: "#A05A00", FAIL: "#C4001A"}


def _checks(options: dict[str, Any], token: CancelToken) -> list[Check]:
    """run_selfcheck() off the UI thread; loads and frees its own model (not the window's)."""
    try:
        return run_selfcheck(progress=token.report, **options)
    except Exception as exc:  # never crash the window over a check
        return [Check("Self-check", FAIL, f"internal error: {type(exc).__name__}: {exc}")]


class SelfCheckDialog(QDialog):
    """Runs the checks when shown; Run again; Set up passphrase when one is needed."""

    finished_checks = Signal(object)  # list[Check]

    def __init__(self, controller, parent: QWidget | None = None,
                 options: dict[str, Any] | None = None, first_run: bool = False):
        super().__init__(parent)
        self.controller = controller
        self.options = options or {}
        self.checks: list[Check] = []
        self.tasks = TaskRunner(self)
        self.job: TaskHandle | None = None
        self.setWindowTitle("Osler self-check")
        self.setAccessibleName("Osler self-check")
        self.setObjectName("selfCheck")
        self.resize(820, 480)
        layout = QVBoxLayout(self)
        intro = ("Welcome to Osler. This first check shows whether this computer can run Osler "
                 "offline and keep its audit trail. " if first_run else "")
        self.plain_intro = ("The checks load the model and run the demo patient with every "
                            "network connection refused.")
        self.intro = QLabel(intro + self.plain_intro)
        self.intro.setWordWrap(True)
        layout.addWidget(self.intro)
        self.tree = QTreeWidget()
        self.tree.setObjectName("selfCheckResults")
        self.tree.setAccessibleName("Self-check results")
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["Check", "Result", "Details"])
        self.tree.setRootIsDecorated(False)
        self.tree.setWordWrap(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.tree, 1)
        self.details = QLabel("")
        self.details.setObjectName("selfCheckDetails")
        self.details.setAccessibleName("Details of the selected check")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setMinimumHeight(48)
        layout.addWidget(self.details)
        self.tree.currentItemChanged.connect(self._show_details)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Self-check progress")
        self.progress.setRange(0, 100)
        self.stage = QLabel("")
        layout.addWidget(self.stage)
        layout.addWidget(self.progress)
        self.summary = QLabel("")
        self.summary.setObjectName("selfCheckSummary")
        self.summary.setAccessibleName("Self-check summary")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        row = QHBoxLayout()
        self.passphrase_button = QPushButton("Set up the audit &passphrase…")
        self.passphrase_button.setToolTip("Create the encrypted audit trail now, protected by "
                                          "a passphrase you choose")
        self.passphrase_button.hide()
        self.run_button = QPushButton("&Run again")
        self.close_button = QPushButton("Close")
        row.addWidget(self.passphrase_button)
        row.addStretch(1)
        row.addWidget(self.run_button)
        row.addWidget(self.close_button)
        layout.addLayout(row)
        self.run_button.clicked.connect(self.run_checks)
        self.close_button.clicked.connect(self.close)
        self.passphrase_button.clicked.connect(self.set_up_passphrase)
        controller.auditOpened.connect(lambda _info: self.run_checks() if self.isVisible()
                                       else None)

    def run_checks(self) -> None:
        """Start the checks on a pool thread (ignored while a run is in progress)."""
        if self.tasks.busy():
            return
        self.tree.clear()
        self.details.setText("")
        self.summary.setText("")
        self.progress.setValue(0)
        self.progress.show()
        self.run_button.setEnabled(False)
        options = {"audit_path": self.controller.audit.path, **self.options}
        self.job = self.tasks.run(lambda token: _checks(options, token), self._finished,
                                  key="selfcheck", on_progress=self._progress)

    def _progress(self, message: str, fraction: float) -> None:
        self.stage.setText(f"Checking {message}…" if fraction < 1 else "")
        self.progress.setValue(int(fraction * 100))

    def _finished(self, checks: list[Check]) -> None:
        self.checks = list(checks)
        self.progress.hide()
        self.stage.setText("")
        self.run_button.setEnabled(True)
        for c in checks:
            item = QTreeWidgetItem(self.tree, [c.name, MARK[c.status], c.detail])
            item.setToolTip(2, c.detail)
            item.setForeground(1, QColor(COLOUR[c.status]))
        worst = next((i for i, c in enumerate(checks) if c.status == FAIL), None)
        if worst is None:
            worst = next((i for i, c in enumerate(checks) if c.status == WARN), 0)
        if checks:
            self.tree.setCurrentItem(self.tree.topLevelItem(worst))
        status = overall(checks)
        failed = [c.name for c in checks if c.status == FAIL]
        self.summary.setText(
            "All checks passed." if status == OK else
            "Osler works, with the limitations marked ⚠ above." if status == WARN else
            f"Something Osler needs is broken ({', '.join(failed)}); see the details and "
            "docs/user-guide.md, or ask IT.")
        audit = next((c for c in checks if c.name == "Audit trail"), None)
        self.passphrase_button.setVisible(bool(audit and audit.data.get(
            "needs_passphrase_setup")))
        self.finished_checks.emit(self.checks)

    def _show_details(self, item: QTreeWidgetItem | None, _previous: object = None) -> None:
        if item is None:
            self.details.setText("")
            return
        self.details.setText(f"<b>{item.text(0)}</b> ({item.text(1)}): "
                             f"{html.escape(item.text(2))}")

    def set_up_passphrase(self) -> None:
        """Create the audit store now (the controller asks for the passphrase twice)."""
        self.passphrase_button.setEnabled(False)
        self.controller.open_audit(create=True)

    def showEvent(self, event: Any) -> None:
        """Every opening checks afresh: a cached result could hide what changed since (a
        keyring unlocked, a model replaced, a folder made read-only)."""
        super().showEvent(event)
        if not event.spontaneous():  # shown by the app, not restored from minimised
            self.run_checks()

    def hideEvent(self, event: Any) -> None:
        """The window keeps this dialog: the first-run welcome is not repeated next time."""
        super().hideEvent(event)
        if not event.spontaneous():
            self.intro.setText(self.plain_intro)
