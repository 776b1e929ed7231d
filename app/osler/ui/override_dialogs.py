"""Dialogs for overrides: a coded reason (reject, re-rank), a comment, a diagnosis to add.

Each returns plain values; the controller turns them into an OverrideRequest.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QThreadPool, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from osler.audit import REASONS
from osler.knowledge import KnowledgeBase
from osler.ui.diagnosis_search import (
    DiagnosisChoice,
    Icd10Index,
    icd10_index,
    icd10_index_ready,
    search_diagnoses,
)
from osler.ui.tasks import TaskRunner

NO_REASON = ""
CHOOSE = "choose a reason…"  # the empty first entry: no reason is ever chosen for the user


def _reason_combo(optional: bool, default: str | None = None) -> QComboBox:
    """Coded reasons after an empty 'choose a reason…' (selected unless DEFAULT is given:
    the audit trail must hold the reason the clinician chose, not one chosen for them)."""
    combo = QComboBox()
    combo.setAccessibleName("Reason")
    combo.addItem(CHOOSE, None)
    if optional:
        combo.addItem("(no coded reason)", NO_REASON)
    for r in REASONS.values():
        combo.addItem(r.display, r.code)
    if default:
        combo.setCurrentIndex(max(0, combo.findData(default)))
    return combo


def _reason_chosen(combo: QComboBox) -> bool:
    return combo.currentData() is not None


class ReasonDialog(QDialog):
    """A coded reason (required) and free text (required for 'Other')."""

    def __init__(self, title: str, what: str, parent: QWidget | None = None,
                 default: str | None = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        layout = QVBoxLayout(self)
        label = QLabel(what)
        label.setWordWrap(True)
        layout.addWidget(label)
        form = QFormLayout()
        self.reason = _reason_combo(False, default)
        form.addRow("&Reason:", self.reason)
        self.text = QPlainTextEdit()
        self.text.setAccessibleName("Explanation")
        self.text.setPlaceholderText("Optional; required for 'Other'. Stored encrypted in the "
                                     "audit trail.")
        self.text.setMaximumHeight(90)
        form.addRow("&Explanation:", self.text)
        layout.addLayout(form)
        self.problem = QLabel("")
        self.problem.setWordWrap(True)
        layout.addWidget(self.problem)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._try_accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.reason.currentIndexChanged.connect(lambda _i: self._update_ok())
        self._update_ok()
        self.resize(480, self.sizeHint().height())

    def _try_accept(self) -> None:
        if not _reason_chosen(self.reason):
            self.problem.setText("Choose a reason.")
            return
        if self.reason_code() == "other" and not self.reason_text():
            self.problem.setText("'Other' needs a few words saying why.")
            return
        self.accept()

    def _update_ok(self) -> None:
        self.ok.setEnabled(_reason_chosen(self.reason))

    def reason_code(self) -> str:
        return str(self.reason.currentData())

    def reason_text(self) -> str | None:
        return self.text.toPlainText().strip() or None


class CommentDialog(QDialog):
    """A comment on one diagnosis or on the differential as a whole."""

    def __init__(self, diagnoses: list[tuple[int, str]], selected: int | None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Comment")
        self.setAccessibleName("Comment on the differential")
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.about = QComboBox()
        self.about.setAccessibleName("Comment about")
        self.about.addItem("The differential as a whole", None)
        for rank, name in diagnoses:
            self.about.addItem(f"{rank}. {name}", rank)
        if selected is not None:
            self.about.setCurrentIndex(max(0, self.about.findData(selected)))
        form.addRow("&About:", self.about)
        self.text = QPlainTextEdit()
        self.text.setAccessibleName("Comment text")
        self.text.setMaximumHeight(120)
        form.addRow("&Comment:", self.text)
        layout.addLayout(form)
        self.problem = QLabel("")
        layout.addWidget(self.problem)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._try_accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(480, self.sizeHint().height())

    def _try_accept(self) -> None:
        if not self.comment():
            self.problem.setText("Write the comment first.")
            return
        self.accept()

    def rank(self) -> int | None:
        data = self.about.currentData()
        return int(data) if data is not None else None

    def comment(self) -> str:
        return self.text.toPlainText().strip()


class AddDiagnosisDialog(QDialog):
    """Search the knowledge base (name, synonym, ICD-10) and ICD-10-CM; pick one to add."""

    def __init__(self, kb: KnowledgeBase, parent: QWidget | None = None,
                 pool: QThreadPool | None = None):
        super().__init__(parent)
        self.kb = kb
        self.index: Icd10Index | None = icd10_index() if icd10_index_ready() else None
        self.setWindowTitle("Add a diagnosis")
        self.setAccessibleName("Add a diagnosis the model did not list")
        self.resize(620, 520)
        layout = QVBoxLayout(self)
        intro = QLabel("Search by name, synonym or ICD-10-CM code. Conditions the knowledge "
                       "base knows come first; any ICD-10-CM code can be added.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.search = QLineEdit()
        self.search.setAccessibleName("Search diagnoses")
        self.search.setPlaceholderText("e.g. aortic dissection, I71.0")
        self.search.setClearButtonEnabled(True)
        layout.addWidget(self.search)
        self.status = QLabel("")
        self.status.setAccessibleName("Search status")
        layout.addWidget(self.status)
        self.results = QListWidget()
        self.results.setAccessibleName("Matching diagnoses")
        layout.addWidget(self.results, 1)
        form = QFormLayout()
        self.reason = _reason_combo(True)
        form.addRow("&Reason:", self.reason)
        self.text = QPlainTextEdit()
        self.text.setAccessibleName("Explanation")
        self.text.setMaximumHeight(70)
        form.addRow("&Explanation:", self.text)
        layout.addLayout(form)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Add")
        self.buttons.accepted.connect(self._try_accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(150)
        self._timer.timeout.connect(self.refresh)
        self.search.textChanged.connect(lambda _t: self._timer.start())
        self.search.returnPressed.connect(self.refresh)
        self.results.itemDoubleClicked.connect(lambda _i: self._try_accept())
        self.results.currentRowChanged.connect(lambda _r: self._update_ok())
        self.reason.currentIndexChanged.connect(lambda _i: self._update_ok())
        self._update_ok()
        if self.index is None:
            self.status.setText("Loading ICD-10-CM codes… (knowledge-base conditions are "
                                "searchable now)")
            # About two seconds, once per process; the KB search works meanwhile.
            self.tasks = TaskRunner(self, pool)
            self.tasks.run(lambda _token: icd10_index(), self._index_ready,
                           lambda _exc: self._index_ready(None), key="icd10")

    def _index_ready(self, index: Icd10Index | None) -> None:
        self.index = index
        self.status.setText("" if index is not None else
                            "ICD-10-CM codes are unavailable; knowledge-base conditions only.")
        if self.search.text().strip():
            self.refresh()

    def refresh(self) -> None:
        """Run the search now (the box also searches 150 ms after typing stops)."""
        query = self.search.text()
        self.results.clear()
        for choice in search_diagnoses(self.kb, query, 40, self.index):
            item = QListWidgetItem(choice.label())
            item.setData(Qt.ItemDataRole.UserRole, choice)
            self.results.addItem(item)
        if self.results.count():
            self.results.setCurrentRow(0)
        elif query.strip():
            self.status.setText(f"No diagnosis matches '{query.strip()}'.")
        self._update_ok()

    def _update_ok(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(self.choice() is not None and _reason_chosen(self.reason))

    def _try_accept(self) -> None:
        if self.choice() is None:
            return
        if not _reason_chosen(self.reason):
            self.status.setText("Choose a reason (or '(no coded reason)').")
            return
        if self.reason_code() == "other" and not self.reason_text():
            self.status.setText("'Other' needs a few words saying why.")
            return
        self.accept()

    def choice(self) -> DiagnosisChoice | None:
        item = self.results.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def reason_code(self) -> str | None:
        data = self.reason.currentData()
        return str(data) if data else None

    def reason_text(self) -> str | None:
        return self.text.toPlainText().strip() or None
