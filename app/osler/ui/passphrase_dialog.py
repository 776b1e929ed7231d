"""Ask for the audit trail's passphrase (twice for a new one) when there is no secure keyring."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from osler.audit.keys import MIN_PASSPHRASE

NEW_HELP = (
    "This computer has no secure OS keyring, so Osler encrypts its audit trail with a "
    f"passphrase. Choose one of at least {MIN_PASSPHRASE} characters and keep it safe: "
    "without it the audit trail cannot be read, and nobody (not even IT) can recover it."
)


class PassphraseDialog(QDialog):
    """One field (unlock) or two that must match (a new passphrase)."""

    def __init__(self, message: str, is_new: bool, parent: QWidget | None = None):
        super().__init__(parent)
        self.is_new = is_new
        self.setWindowTitle("Audit trail passphrase")
        self.setAccessibleName("Audit trail passphrase")
        layout = QVBoxLayout(self)
        text = QLabel(f"{message}.\n\n{NEW_HELP}" if is_new else f"{message}.")
        text.setWordWrap(True)
        layout.addWidget(text)
        form = QFormLayout()
        self.first = QLineEdit()
        self.first.setEchoMode(QLineEdit.EchoMode.Password)
        self.first.setAccessibleName("Passphrase")
        form.addRow("&Passphrase:", self.first)
        self.second = QLineEdit()
        self.second.setEchoMode(QLineEdit.EchoMode.Password)
        self.second.setAccessibleName("Repeat the passphrase")
        if is_new:
            form.addRow("&Repeat:", self.second)
        layout.addLayout(form)
        self.problem = QLabel("")
        self.problem.setObjectName("passphraseProblem")
        self.problem.setWordWrap(True)
        self.problem.setAccessibleName("Passphrase problem")
        layout.addWidget(self.problem)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._try_accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.resize(460, self.sizeHint().height())

    def problem_with(self) -> str | None:
        """Why the entry cannot be accepted yet, or None."""
        text = self.first.text()
        if not text:
            return "Enter the passphrase."
        if self.is_new and len(text) < MIN_PASSPHRASE:
            return f"A new passphrase needs at least {MIN_PASSPHRASE} characters."
        if self.is_new and self.second.text() != text:
            return "The two entries differ."
        return None

    def _try_accept(self) -> None:
        problem = self.problem_with()
        if problem:
            self.problem.setText(problem)
            return
        self.accept()

    def passphrase(self) -> str:
        return self.first.text()


def ask_passphrase(parent: QWidget | None, message: str, is_new: bool) -> str | None:
    """Show the dialog modally; the passphrase, or None when cancelled."""
    dialog = PassphraseDialog(message, is_new, parent)
    try:
        if dialog.exec() == QDialog.DialogCode.Accepted:
            return dialog.passphrase()
        return None
    finally:
        dialog.first.clear()
        dialog.second.clear()
        dialog.deleteLater()
