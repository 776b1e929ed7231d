"""The import's warnings (skipped fields and resources), each naming file, entry and field."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QVBoxLayout,
    QWidget,
)

from osler.fhir import ImportResult

MAX_SHOWN = 2000


class ImportIssuesDialog(QDialog):
    """Lists what the import skipped or could not read, so nothing is lost silently."""

    def __init__(self, result: ImportResult, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Import warnings")
        self.setAccessibleName("Import warnings")
        self.resize(760, 420)
        layout = QVBoxLayout(self)
        n = len(result.issues)
        skipped = ", ".join(f"{k} {v}" for k, v in sorted(result.skipped.items()))
        text = (f"{n} warning(s) while importing {result.source}. The rest of the record was "
                "imported; each line names the file, entry or line, resource and field.")
        if skipped:
            text += f"\nNot shown on the timeline: {skipped}."
        label = QLabel(text)
        label.setWordWrap(True)
        layout.addWidget(label)
        self.list = QListWidget()
        self.list.setAccessibleName("Warnings")
        self.list.addItems([str(i) for i in result.issues[:MAX_SHOWN]])
        if n > MAX_SHOWN:
            self.list.addItem(f"… and {n - MAX_SHOWN} more (osler import PATH --json lists them)")
        layout.addWidget(self.list)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
