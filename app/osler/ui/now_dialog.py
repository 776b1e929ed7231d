"""View ▸ Set 'now': pick the moment with a calendar, or type it in the user's own format.

The typed text goes through the one parser every entry point uses
(`osler.fhir.user_dates.parse_user_datetime`): the locale's short formats, or FHIR text.
"""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QDateTime, QLocale
from PySide6.QtWidgets import (
    QButtonGroup,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from osler.fhir.user_dates import UserDateError, parse_user_datetime

Bounds = tuple[datetime | None, datetime | None] | None
MARGIN_S = 366 * 86400  # the picker may go a year either side of the record


def locale_formats(locale: QLocale | None = None) -> tuple[str, str]:
    """The locale's short date-time and date patterns (Qt syntax), as the user writes dates."""
    loc = locale or QLocale()
    return (loc.dateTimeFormat(QLocale.FormatType.ShortFormat),
            loc.dateFormat(QLocale.FormatType.ShortFormat))


def to_qdatetime(when: datetime) -> QDateTime:
    """A local-time QDateTime for an aware datetime (the picker shows wall-clock time)."""
    return QDateTime.fromMSecsSinceEpoch(int(when.timestamp() * 1000))


def from_qdatetime(value: QDateTime) -> datetime:
    return datetime.fromtimestamp(value.toMSecsSinceEpoch() / 1000, UTC)


class NowDialog(QDialog):
    """Choose 'now' (calendar, or typed text) or 'Latest' (no cursor: the whole record)."""

    def __init__(self, parent: QWidget | None = None, current: datetime | None = None,
                 bounds: Bounds = None, locale: QLocale | None = None):
        super().__init__(parent)
        self.setWindowTitle("Set 'now'")
        self.setObjectName("nowDialog")
        self.setAccessibleName("Set 'now'")
        self.formats = locale_formats(locale)
        self._typed: datetime | None = None
        intro = QLabel("The model sees only the events up to 'now'. Later events stay on the "
                       "timeline, washed out.")
        intro.setWordWrap(True)
        self.at_choice = QRadioButton("&At this date and time:")
        self.at_choice.setObjectName("nowAt")
        self.latest_choice = QRadioButton("&Latest (no cursor: the whole record)")
        self.latest_choice.setObjectName("nowLatest")
        group = QButtonGroup(self)
        group.addButton(self.at_choice)
        group.addButton(self.latest_choice)
        self.picker = QDateTimeEdit()
        self.picker.setObjectName("nowPicker")
        self.picker.setAccessibleName("'Now' date and time")
        self.picker.setCalendarPopup(True)
        self.picker.setDisplayFormat(self.formats[0])
        self.text = QLineEdit()
        self.text.setObjectName("nowText")
        self.text.setAccessibleName("'Now' typed as text")
        example = QDateTime.currentDateTime().toString(self.formats[0])
        self.text.setPlaceholderText(f"or type it: {example}, 2024-03-04, 2024-03-04T15:00Z")
        self.text.setToolTip(f"Your format ({self.formats[0]} or {self.formats[1]}), local "
                             "time; or FHIR text (2024, 2024-03, 2024-03-04, "
                             "2024-03-04T15:00:00Z; UTC unless a zone is given). A date means "
                             "the end of that day.")
        self.error = QLabel("")
        self.error.setObjectName("nowError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #C4001A")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        grid = QGridLayout()
        grid.addWidget(self.at_choice, 0, 0, 1, 2)
        grid.addWidget(self.picker, 1, 1)
        grid.addWidget(self.text, 2, 1)
        grid.addWidget(self.latest_choice, 3, 0, 1, 2)
        grid.setColumnMinimumWidth(0, 18)
        grid.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(grid)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

        self._set_range(bounds, current)
        self.picker.setDateTime(to_qdatetime(current or self._default(bounds)))
        (self.at_choice if current is not None else self.latest_choice).setChecked(True)
        self.picker.dateTimeChanged.connect(self._picked)
        self.text.textChanged.connect(self._typed_text)
        self.at_choice.toggled.connect(self._update)
        self.picker.editingFinished.connect(lambda: self.at_choice.setChecked(True))
        self._update()
        self.resize(max(self.sizeHint().width(), 520), self.sizeHint().height())

    def value(self) -> datetime | None:
        """The chosen 'now' (aware), or None for the latest (no cursor)."""
        if self.latest_choice.isChecked():
            return None
        if self._typed is not None:
            return self._typed
        return from_qdatetime(self.picker.dateTime())

    # --- internals ----------------------------------------------------------------------

    @staticmethod
    def _default(bounds: Bounds) -> datetime:
        end = bounds[1] if bounds else None
        return end or datetime.now(UTC)

    def _set_range(self, bounds: Bounds, current: datetime | None) -> None:
        known = [t for t in (*(bounds or ()), current) if t is not None]
        if not known:
            return
        lo = min(t.timestamp() for t in known) - MARGIN_S
        hi = max(t.timestamp() for t in known) + MARGIN_S
        self.picker.setDateTimeRange(to_qdatetime(datetime.fromtimestamp(lo, UTC)),
                                     to_qdatetime(datetime.fromtimestamp(hi, UTC)))

    def _picked(self, _value: QDateTime) -> None:
        self._typed = None
        self.at_choice.setChecked(True)
        if self.text.text():
            self.text.blockSignals(True)
            self.text.clear()
            self.text.blockSignals(False)
        self._update()

    def _typed_text(self, text: str) -> None:
        self._typed = None
        self.error.setText("")
        if text.strip():
            self.at_choice.setChecked(True)
            try:
                self._typed = parse_user_datetime(text, self.formats)
            except UserDateError as exc:
                self.error.setText(f"Not a date: {exc}")
            else:
                self.picker.blockSignals(True)
                self.picker.setDateTime(to_qdatetime(self._typed))
                self.picker.blockSignals(False)
        self._update()

    def _update(self, *_args: object) -> None:
        at = self.at_choice.isChecked()
        self.picker.setEnabled(at)
        self.text.setEnabled(at)
        bad = at and bool(self.text.text().strip()) and self._typed is None
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not bad)


def ask_now(parent: QWidget | None, current: datetime | None,
            bounds: Bounds) -> tuple[bool, datetime | None]:
    """Ask for 'now': (accepted?, the moment or None for the latest / whole record)."""
    dialog = NowDialog(parent, current, bounds)
    try:
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return False, None
        return True, dialog.value()
    finally:
        dialog.deleteLater()
