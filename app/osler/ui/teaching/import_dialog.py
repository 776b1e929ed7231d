"""Import case…: a FHIR record becomes a teaching case (its case file is made here if it has
none), optionally de-identified on the way in."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStringListModel, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from osler.knowledge import KnowledgeBase
from osler.teaching.cases import DIFFICULTIES, slug
from osler.teaching.library import NewCase

SPECIALTIES = ("cardiology", "respiratory", "neurology", "infectious disease", "surgery",
               "endocrinology", "paediatrics", "obstetrics & gynaecology",
               "emergency medicine", "general")


class CaseImportDialog(QDialog):
    """Describe a record as a teaching case: title, gold diagnosis, level, notes."""

    def __init__(self, bundle: Path, kb: KnowledgeBase, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Import a teaching case")
        self.setObjectName("caseImportDialog")
        self.bundle = bundle
        self.title = QLineEdit()
        self.title.setObjectName("caseTitleEdit")
        self.title.setPlaceholderText("Shown in the library: describe the presentation, not the "
                                      "diagnosis")
        self.gold = QLineEdit()
        self.gold.setObjectName("goldEdit")
        self.gold.setPlaceholderText("Gold diagnosis (from the knowledge base, or give its "
                                     "ICD-10-CM code)")
        names = sorted({n for c in kb.conditions for n in (c.name, *c.synonyms)}, key=str.lower)
        completer = QCompleter(QStringListModel(names, self), self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.gold.setCompleter(completer)
        self.icd10 = QLineEdit()
        self.icd10.setObjectName("goldIcd10Edit")
        self.icd10.setPlaceholderText("e.g. I26.99 (optional when the diagnosis is in the "
                                      "knowledge base)")
        self.specialty = QComboBox()
        self.specialty.setEditable(True)
        self.specialty.addItems(SPECIALTIES)
        self.specialty.setCurrentText("general")
        self.difficulty = QComboBox()
        self.difficulty.addItems([d.capitalize() for d in DIFFICULTIES])
        self.difficulty.setCurrentIndex(1)
        self.summary = QLineEdit()
        self.summary.setPlaceholderText("One line: age, sex, presenting complaint")
        self.notes = QPlainTextEdit()
        self.notes.setObjectName("teachingNotesEdit")
        self.notes.setPlaceholderText("Teaching notes, in your own words")
        self.objectives = QPlainTextEdit()
        self.objectives.setPlaceholderText("Learning objectives, one per line")
        self.deidentify = QCheckBox("De-identify on import (HIPAA Safe Harbor list; dates "
                                    "shifted). Review the notes afterwards.")
        self.deidentify.setObjectName("deidentifyOnImport")
        self.error = QLabel("")
        self.error.setObjectName("importError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #C4001A")

        form = QFormLayout()
        form.addRow("Record:", QLabel(bundle.name))
        form.addRow("Title:", self.title)
        form.addRow("Gold diagnosis:", self.gold)
        form.addRow("ICD-10-CM:", self.icd10)
        form.addRow("Specialty:", self.specialty)
        form.addRow("Difficulty:", self.difficulty)
        form.addRow("Summary:", self.summary)
        form.addRow("Teaching notes:", self.notes)
        form.addRow("Objectives:", self.objectives)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.deidentify)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(640, 560)

    def new_case(self) -> NewCase:
        codes = tuple(c.strip() for c in self.icd10.text().replace(";", ",").split(",")
                      if c.strip())
        return NewCase(
            title=self.title.text(), gold=self.gold.text(), gold_icd10=codes,
            specialty=self.specialty.currentText().strip().lower() or "general",
            difficulty=self.difficulty.currentText().lower(), summary=self.summary.text(),
            teaching_notes=self.notes.toPlainText(),
            objectives=tuple(line.strip() for line in self.objectives.toPlainText().splitlines()
                             if line.strip()),
            case_id=slug(self.title.text()) if self.title.text().strip() else None)

    def show_error(self, text: str) -> None:
        self.error.setText(text)

    def _accept(self) -> None:
        if not self.title.text().strip() or not self.gold.text().strip():
            self.show_error("Give a title and the gold diagnosis.")
            return
        self.accept()
