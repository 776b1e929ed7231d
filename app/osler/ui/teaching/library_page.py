"""The case library browser: filter by specialty, difficulty and text; details; start a session."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from osler.teaching.cases import DIFFICULTIES, CaseMeta
from osler.teaching.library import CaseLibrary

ALL = "All"
COLUMNS = ("Title", "Specialty", "Difficulty", "Source")


class LibraryPage(QWidget):
    """Lists the library's cases; emits startRequested(case, trainee names)."""

    startRequested = Signal(object, list)
    importRequested = Signal()
    removeRequested = Signal(object)

    def __init__(self, library: CaseLibrary, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("teachingLibrary")
        self.library = library
        self.shown: list[CaseMeta] = []
        self.presentation = False

        self.specialty = QComboBox()
        self.specialty.setObjectName("specialtyFilter")
        self.specialty.setAccessibleName("Filter by specialty")
        self.difficulty = QComboBox()
        self.difficulty.setObjectName("difficultyFilter")
        self.difficulty.setAccessibleName("Filter by difficulty")
        self.difficulty.addItems([ALL, *(d.capitalize() for d in DIFFICULTIES)])
        self.text = QLineEdit()
        self.text.setObjectName("caseSearch")
        self.text.setPlaceholderText("Search titles, summaries and tags")
        self.text.setAccessibleName("Search cases")
        self.text.setClearButtonEnabled(True)
        filters = QHBoxLayout()
        filters.addWidget(QLabel("Specialty:"))
        filters.addWidget(self.specialty, 1)
        filters.addWidget(QLabel("Difficulty:"))
        filters.addWidget(self.difficulty)
        filters.addWidget(self.text, 2)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("caseTable")
        self.table.setAccessibleName("Cases")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, len(COLUMNS)):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)

        self.details = QTextBrowser()
        self.details.setObjectName("caseDetails")
        self.details.setAccessibleName("Case details")
        self.details.setOpenLinks(False)
        self.show_answer = QCheckBox("Show the gold diagnosis and teaching notes (trainer only)")
        self.show_answer.setObjectName("showAnswer")
        self.trainees = QLineEdit()
        self.trainees.setObjectName("traineeNames")
        self.trainees.setPlaceholderText("Names, separated by commas (e.g. Ana, Ben, Chloe)")
        self.trainees.setAccessibleName("Trainees")
        self.start_button = QPushButton("Start session")
        self.start_button.setObjectName("startSession")
        self.start_button.setDefault(True)
        self.import_button = QPushButton("Import case…")
        self.import_button.setObjectName("importCase")
        self.remove_button = QPushButton("Remove my case")
        self.remove_button.setObjectName("removeCase")
        self.problems = QLabel("")
        self.problems.setObjectName("libraryProblems")
        self.problems.setWordWrap(True)

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.details, 1)
        rl.addWidget(self.show_answer)
        form = QFormLayout()
        form.addRow("Trainees:", self.trainees)
        rl.addLayout(form)
        buttons = QHBoxLayout()
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(self.start_button)
        rl.addLayout(buttons)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(right)
        split.setSizes([600, 500])
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(split, 1)
        layout.addWidget(self.problems)

        self.specialty.currentIndexChanged.connect(lambda _i: self.refresh())
        self.difficulty.currentIndexChanged.connect(lambda _i: self.refresh())
        self.text.textChanged.connect(lambda _t: self.refresh())
        self.table.itemSelectionChanged.connect(self._show_details)
        self.table.doubleClicked.connect(lambda _i: self._start())
        self.show_answer.toggled.connect(lambda _on: self._show_details())
        self.start_button.clicked.connect(self._start)
        self.trainees.returnPressed.connect(self._start)
        self.import_button.clicked.connect(self.importRequested.emit)
        self.remove_button.clicked.connect(self._remove)
        self.reload()

    # --- data -----------------------------------------------------------------------

    def reload(self, select: str | None = None) -> None:
        """Rescan the library folders, keeping the filters."""
        self.library.rescan()
        current = self.specialty.currentText()
        self.specialty.blockSignals(True)
        self.specialty.clear()
        self.specialty.addItems([ALL, *self.library.specialties()])
        index = self.specialty.findText(current)
        self.specialty.setCurrentIndex(max(index, 0))
        self.specialty.blockSignals(False)
        n = len(self.library.problems)
        self.problems.setText(
            f"⚠ {n} case file{'s' * (n != 1)} could not be read (hover for details)" if n else "")
        self.problems.setToolTip("\n".join(str(p) for p in self.library.problems[:20]))
        self.refresh(select)

    def refresh(self, select: str | None = None) -> None:
        """Apply the filters to the table."""
        keep = select or (self.selected().id if self.selected() else None)
        spec = self.specialty.currentText()
        diff = self.difficulty.currentText()
        self.shown = self.library.filter(None if spec in ("", ALL) else spec,
                                         None if diff == ALL else diff.lower(),
                                         self.text.text())
        self.table.setRowCount(len(self.shown))
        for row, c in enumerate(self.shown):
            values = (c.title, c.specialty, c.difficulty,
                      "yours" if c.source == "user" else "shipped")
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                if col == 0 and c.summary:
                    item.setToolTip(c.summary)
                self.table.setItem(row, col, item)
        row = next((i for i, c in enumerate(self.shown) if c.id == keep), 0 if self.shown else -1)
        if row >= 0:
            self.table.selectRow(row)
        self._show_details()

    def selected(self) -> CaseMeta | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or rows[0].row() >= len(self.shown):
            return None
        return self.shown[rows[0].row()]

    def select_case(self, case_id: str) -> bool:
        for row, c in enumerate(self.shown):
            if c.id == case_id:
                self.table.selectRow(row)
                return True
        return False

    def set_presentation(self, on: bool) -> None:
        """In presentation mode the gold diagnosis cannot be shown from the library."""
        self.presentation = on
        if on:
            self.show_answer.setChecked(False)
        self.show_answer.setVisible(not on)
        self._show_details()

    # --- details and actions ---------------------------------------------------------

    def _show_details(self) -> None:
        c = self.selected()
        self.start_button.setEnabled(c is not None)
        self.remove_button.setEnabled(c is not None and c.source == "user")
        if c is None:
            self.details.setHtml("<p>No case matches the filters.</p>" if self.library.cases
                                 else "<p>The case library is empty.</p>")
            return
        e = html.escape
        parts = [f"<h2>{e(c.title)}</h2>",
                 f"<p><i>{e(c.specialty)} · {e(c.difficulty)}</i></p>"]
        if c.summary:
            parts.append(f"<p>{e(c.summary)}</p>")
        if c.objectives:
            parts.append("<p><b>Learning objectives</b></p><ul>"
                         + "".join(f"<li>{e(o)}</li>" for o in c.objectives) + "</ul>")
        stages = ", ".join(s.title for s in c.stage_specs())
        parts.append(f"<p>Stages: {e(stages)}</p>")
        if c.author:
            parts.append(f"<p>Author: {e(c.author)}</p>")
        if self.show_answer.isChecked() and not self.presentation:
            codes = ", ".join(c.gold.icd10)
            parts.append(f"<hr><p><b>Gold diagnosis:</b> {e(c.gold.name)}"
                         + (f" ({e(codes)})" if codes else "") + "</p>")
            if c.teaching_notes:
                parts.append(f"<p>{e(c.teaching_notes)}</p>")
        self.details.setHtml("".join(parts))

    def trainee_names(self) -> list[str]:
        return [n.strip() for n in self.trainees.text().split(",") if n.strip()]

    def _start(self) -> None:
        c = self.selected()
        if c is not None:
            self.startRequested.emit(c, self.trainee_names())

    def _remove(self) -> None:
        c = self.selected()
        if c is not None and c.source == "user":
            self.removeRequested.emit(c)
