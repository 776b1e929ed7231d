"""Choose one patient when a file or folder holds several (e.g. a Bulk Data export)."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from osler.fhir.importer import RosterEntry


class PatientChooser(QDialog):
    """Lists the patients of an import (name, sex, birth date, resources); returns one id.

    Resources, not events: in a large input only the opened patient's events are made."""

    def __init__(self, source: str, roster: list[RosterEntry], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Choose a patient")
        self.setAccessibleName("Choose a patient")
        self.setMinimumSize(560, 360)
        layout = QVBoxLayout(self)
        intro = QLabel(f"{len(roster)} patients in {source}. Choose the one to open:")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by name or id")
        self.filter.setAccessibleName("Filter patients")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._apply_filter)
        layout.addWidget(self.filter)
        self.list = QTreeWidget()
        self.list.setAccessibleName("Patients")
        self.list.setRootIsDecorated(False)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setHeaderLabels(["Name", "Sex", "Born", "Resources", "Id"])
        self.list.setSortingEnabled(True)
        today = date.today()
        for entry in roster:
            p = entry.patient
            born = p.birth_date.isoformat() if p.birth_date else "?"
            age = p.age_at(today)
            item = QTreeWidgetItem([
                (p.name or "(no name)") + (" — placeholder" if p.placeholder else ""),
                p.gender or "?",
                born + (f" (age {age})" if age is not None and not p.deceased else ""),
                f"{entry.resources:>7,}",
                p.id,
            ])
            item.setData(0, Qt.ItemDataRole.UserRole, p.id)
            self.list.addTopLevelItem(item)
        for col in range(5):
            self.list.resizeColumnToContents(col)
        self.list.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.list.setCurrentItem(self.list.topLevelItem(0))
        self.list.itemDoubleClicked.connect(lambda *_: self.accept())
        layout.addWidget(self.list)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.list.setFocus()

    def _apply_filter(self, text: str) -> None:
        needle = text.strip().lower()
        first_visible = None
        for i in range(self.list.topLevelItemCount()):
            item = self.list.topLevelItem(i)
            hidden = bool(needle) and not any(
                needle in item.text(col).lower() for col in (0, 4))
            item.setHidden(hidden)
            if not hidden and first_visible is None:
                first_visible = item
        if first_visible is not None:
            self.list.setCurrentItem(first_visible)

    def patient_ids(self) -> list[str]:
        """Ids in the order shown."""
        return [self.list.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole)
                for i in range(self.list.topLevelItemCount())]

    def select(self, patient_id: str) -> bool:
        """Select a patient by id (keyboard users and tests)."""
        for i in range(self.list.topLevelItemCount()):
            item = self.list.topLevelItem(i)
            if item.data(0, Qt.ItemDataRole.UserRole) == patient_id:
                self.list.setCurrentItem(item)
                return True
        return False

    def chosen(self) -> str | None:
        """The selected patient's id."""
        item = self.list.currentItem()
        if item is None or item.isHidden():
            return None
        return item.data(0, Qt.ItemDataRole.UserRole)
