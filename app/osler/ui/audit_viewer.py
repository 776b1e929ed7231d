"""Tools ▸ Audit trail: the recorded overrides, Verify (with progress: OK or the problems),
and anchor / export actions that write only where the user chooses.

Reads and verification run on the audit thread; the table shows pseudonyms, never names.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

COLUMNS = ("#", "Time", "Clinician", "Action", "Diagnosis", "Reason", "Note", "Patient")


def entry_row(entry: Any) -> list[str]:
    """The table's cells for one AuditEntry."""
    try:
        when = datetime.fromisoformat(entry.time).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        when = entry.time
    dx = entry.diagnosis or {}
    name = dx.get("name") or ""
    if dx.get("icd10"):
        name += f" ({', '.join(dx['icd10'])})"
    if entry.action == "rerank" and entry.decision.get("new_rank") is not None:
        name += f": rank {dx.get('rank')} → {entry.decision['new_rank']}"
    reason = entry.reason.get("display", "") if entry.reason else ""
    return [str(entry.seq), when, entry.clinician_id, entry.action, name, reason,
            entry.reason_text or "", entry.patient[:12]]


class AuditViewer(QDialog):
    """Non-modal viewer of the encrypted audit trail (see module docstring)."""

    def __init__(self, controller, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.setWindowTitle("Audit trail")
        self.setAccessibleName("Audit trail viewer")
        self.setObjectName("auditViewer")
        self.resize(1000, 560)
        self.entries: list[Any] = []
        layout = QVBoxLayout(self)
        self.location = QLabel("")
        self.location.setWordWrap(True)
        self.location.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.location)
        top = QHBoxLayout()
        self.this_patient = QCheckBox("Only the patient on screen")
        self.this_patient.setAccessibleName("Show only the patient on screen")
        top.addWidget(self.this_patient)
        top.addStretch(1)
        self.refresh_button = QPushButton("&Refresh")
        top.addWidget(self.refresh_button)
        layout.addLayout(top)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("auditTable")
        self.table.setAccessibleName("Audit entries, oldest first")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)
        self.count = QLabel("")
        self.count.setAccessibleName("Number of entries")
        layout.addWidget(self.count)

        verify_row = QHBoxLayout()
        self.verify_button = QPushButton("&Verify")
        self.verify_button.setToolTip("Check the whole hash chain for changes, deletions and "
                                      "reordering")
        self.verify_anchor_button = QPushButton("Verify against an &anchor…")
        self.cancel_verify_button = QPushButton("Stop")
        self.cancel_verify_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Verification progress")
        self.progress.hide()
        verify_row.addWidget(self.verify_button)
        verify_row.addWidget(self.verify_anchor_button)
        verify_row.addWidget(self.cancel_verify_button)
        verify_row.addWidget(self.progress, 1)
        layout.addLayout(verify_row)
        self.result = QLabel("Not verified in this session.")
        self.result.setObjectName("verifyResult")
        self.result.setAccessibleName("Verification result")
        self.result.setWordWrap(True)
        layout.addWidget(self.result)
        self.problems = QListWidget()
        self.problems.setAccessibleName("Verification problems")
        self.problems.setMaximumHeight(110)
        self.problems.hide()
        layout.addWidget(self.problems)

        bottom = QHBoxLayout()
        self.anchor_button = QPushButton("Save an a&nchor…")
        self.anchor_button.setToolTip("Write a signed checkpoint to keep away from this "
                                      "computer (USB stick, printout)")
        self.export_button = QPushButton("&Export FHIR…")
        self.export_button.setToolTip("Write the entries shown as a FHIR R4 Bundle "
                                      "(AuditEvent + Provenance), only where you choose")
        self.close_button = QPushButton("Close")
        bottom.addWidget(self.anchor_button)
        bottom.addWidget(self.export_button)
        bottom.addStretch(1)
        bottom.addWidget(self.close_button)
        layout.addLayout(bottom)

        self.refresh_button.clicked.connect(self.refresh)
        self.this_patient.toggled.connect(lambda _on: self.refresh())
        self.verify_button.clicked.connect(lambda: self.verify())
        self.verify_anchor_button.clicked.connect(self.verify_with_anchor)
        self.cancel_verify_button.clicked.connect(controller.audit.cancel_verify)
        self.anchor_button.clicked.connect(self.save_anchor)
        self.export_button.clicked.connect(self.export)
        self.close_button.clicked.connect(self.close)
        controller.auditEntries.connect(self._entries)
        controller.auditVerifyProgress.connect(self._verify_progress)
        controller.auditVerified.connect(self._verified)
        controller.auditFailed.connect(self._failed)
        controller.auditAnchored.connect(self._anchored)
        controller.auditExported.connect(self._exported)
        controller.auditAppended.connect(lambda _e: self.refresh() if self.isVisible() else None)
        self.location.setText(f"Encrypted store: {controller.audit.location}")

    def filters(self) -> dict[str, Any]:
        patient = self.controller.patient_id() if self.this_patient.isChecked() else None
        return {"patient_id": patient} if patient else {}

    def refresh(self) -> None:
        """Read the entries again (on the audit thread)."""
        self.controller.read_audit(self.filters(), tag=self)

    def _entries(self, entries: list[Any], tag: object) -> None:
        if tag is not self:
            return
        self.entries = list(entries)
        self.table.setRowCount(len(self.entries))
        for r, entry in enumerate(self.entries):
            for c, text in enumerate(entry_row(entry)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(r, c, item)
        self.table.scrollToBottom()
        self.count.setText(f"{len(self.entries)} entr{'y' if len(self.entries) == 1 else 'ies'}"
                           + (" for this patient" if self.filters() else ""))

    def verify(self, anchor_path: str | None = None) -> None:
        self.progress.setRange(0, 0)
        self.progress.show()
        self.problems.clear()
        self.problems.hide()
        self.result.setText("Verifying…")
        self.result.setStyleSheet("")
        for b in (self.verify_button, self.verify_anchor_button):
            b.setEnabled(False)
        self.cancel_verify_button.setEnabled(True)
        self.controller.verify_audit(anchor_path)

    def verify_with_anchor(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Anchor file made earlier", "",
                                              "Osler anchor (*.json);;All files (*)")
        if path:
            self.verify(path)

    def _verify_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _verify_done(self) -> None:
        self.progress.hide()
        for b in (self.verify_button, self.verify_anchor_button):
            b.setEnabled(True)
        self.cancel_verify_button.setEnabled(False)

    def _verified(self, report: Any) -> None:
        self._verify_done()
        if report.cancelled:
            self.result.setText("Verification stopped before the end: no verdict.")
            return
        if report.ok:
            extra = (f"; matches the anchor of {report.anchor.get('time')}"
                     if report.anchor else "")
            self.result.setText(f"OK: {report.count} entries, chain intact (head "
                                f"{report.head_hash[:16]}…){extra}. Checked in "
                                f"{report.elapsed_s:.2f} s.")
            self.result.setStyleSheet("color: #1B7F3B; font-weight: 600;")
            return
        self.result.setText(f"NOT INTACT: {len(report.problems)} problem(s). The store was "
                            "changed outside Osler or is damaged; keep the file and tell IT.")
        self.result.setStyleSheet("color: #C4001A; font-weight: 600;")
        self.problems.addItems([str(p) for p in report.problems])
        self.problems.show()

    def _failed(self, operation: str, message: str, tag: object) -> None:
        if operation == "verify":
            self._verify_done()
            self.result.setText(f"Could not verify: {message}")
            self.result.setStyleSheet("color: #C4001A;")
        elif operation in ("anchor", "export") or (operation == "read" and tag is self):
            QMessageBox.warning(self, f"Audit trail: {operation} failed", message)

    def save_anchor(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save an anchor (keep it away from this "
                                              "computer)", "osler-anchor.json",
                                              "Osler anchor (*.json)")
        if path:
            self.controller.anchor_audit(path)

    def _anchored(self, path: str, anchor: Any) -> None:
        QMessageBox.information(self, "Anchor saved",
                                f"Anchor of {anchor.count} entries written to {path}. Keep it "
                                "away from this computer; Verify against it later.")

    def export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export as FHIR R4", "osler-audit.json",
                                              "FHIR JSON (*.json)")
        if path:
            self.controller.export_audit(path, self.filters())

    def _exported(self, path: str, n: int) -> None:
        QMessageBox.information(self, "Exported", f"{n} entries written to {Path(path)} as "
                                "FHIR R4 AuditEvent + Provenance.")
