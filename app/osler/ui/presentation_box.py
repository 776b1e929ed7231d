"""The presentation box: type or paste free text beside the differential.

Findings are read as the clinician types (debounced; the reading and the differential run
on the model thread) and the recognised words are highlighted with their state: green
present, red absent, amber possible. Each finding read can be corrected in place: Space or
double-click cycles present → absent → left out, Delete leaves it out. With no record (File
▸ New case from presentation) age and sex are asked here. The text is patient data: it is
kept in memory only, never in the settings."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeyEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QSpinBox,
    QTextEdit,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from osler.findings import Finding
from osler.session.whatif import ABSENT, POSSIBLE, PRESENT, REMOVED
from osler.ui.theme import LIGHT

TYPING_PAUSE_MS = 200  # read the text once typing rests this long (bench: presentation_bench)
MARK = {PRESENT: "✚", POSSIBLE: "?", ABSENT: "−", REMOVED: "×"}
WORD = {PRESENT: "present", POSSIBLE: "possible", ABSENT: "absent",
        REMOVED: "left out of the case"}
COLOUR = {PRESENT: "#2E8B57", POSSIBLE: "#C98A00", ABSENT: "#C4001A"}
FINDING_ROLE = Qt.ItemDataRole.UserRole
FOCUS_COLOUR = LIGHT.match  # the timeline's search-match amber: "these words"


class PresentationBox(QWidget):
    """See the module docstring."""

    textEdited = Signal(str)  # after a typing pause
    demographicsChanged = Signal(object, object)  # age or None, sex or None
    correctionRequested = Signal(object, bool)  # Finding as read, True = leave it out

    def __init__(self, parent: QWidget | None = None, pause_ms: int = TYPING_PAUSE_MS):
        super().__init__(parent)
        self.setObjectName("presentationBox")
        self._spans: list[tuple[int, int, str, str]] = []  # start, end, label, state
        self._findings: dict[str, Finding] = {}
        self.focus_span: tuple[int, int] | None = None  # words an evidence link points to
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        title = QLabel("<b>Presentation</b>")
        head.addWidget(title)
        self.hint = QLabel("adds to the record at 'now'")
        self.hint.setStyleSheet("color: gray;")
        head.addWidget(self.hint, 1)
        self.age = QSpinBox()
        self.age.setRange(-1, 120)
        self.age.setSpecialValueText("age —")
        self.age.setValue(-1)
        self.age.setSuffix(" y")
        self.age.setAccessibleName("Age in years")
        self.sex = QComboBox()
        self.sex.addItems(["sex —", "female", "male"])
        self.sex.setAccessibleName("Sex")
        for w in (self.age, self.sex):
            head.addWidget(w)
        layout.addLayout(head)
        self.editor = QPlainTextEdit()
        self.editor.setObjectName("presentationText")
        self.editor.setAccessibleName("Presentation text")
        self.editor.setPlaceholderText(
            "Type or paste the presentation: \"3 days of fever and productive cough, no chest "
            "pain, SpO2 91 %\"…")
        self.editor.setTabChangesFocus(True)
        self.editor.setMouseTracking(True)
        self.editor.setMaximumHeight(110)
        layout.addWidget(self.editor)
        self.findings = QListWidget()
        self.findings.setObjectName("presentationFindings")
        self.findings.setAccessibleName("Findings read from the presentation")
        self.findings.setFlow(QListWidget.Flow.LeftToRight)
        self.findings.setWrapping(True)
        self.findings.setMaximumHeight(64)
        self.findings.setToolTip("Space or double-click: present → absent → left out; "
                                 "Delete: leave out")
        self.findings.itemDoubleClicked.connect(lambda item: self._correct(item, False))
        self.findings.installEventFilter(self)
        self.editor.viewport().installEventFilter(self)  # hover: the finding under the mouse
        layout.addWidget(self.findings)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(pause_ms)
        self._timer.timeout.connect(lambda: self.textEdited.emit(self.text()))
        self.editor.textChanged.connect(self._typed)
        self.age.valueChanged.connect(lambda _v: self._demographics())
        self.sex.currentIndexChanged.connect(lambda _i: self._demographics())
        self.set_demographics_visible(False)

    # --- state in ------------------------------------------------------------------

    def text(self) -> str:
        return self.editor.toPlainText()

    def clear(self) -> None:
        """Forget the text and what was read (a new record or a new case)."""
        self._timer.stop()
        self.editor.blockSignals(True)
        self.editor.clear()
        self.editor.blockSignals(False)
        self.editor.setExtraSelections([])
        self.findings.clear()
        self._spans = []
        self._findings = {}
        self.focus_span = None

    def set_text(self, text: str) -> None:
        """Put TEXT in the box (e.g. from `osler-gui --text`); read at once."""
        self.editor.blockSignals(True)
        self.editor.setPlainText(text)
        self.editor.blockSignals(False)
        self.focus_span = None
        self._timer.stop()

    def set_demographics_visible(self, visible: bool) -> None:
        """Age and sex are asked only for a case without a record."""
        self.age.setVisible(visible)
        self.sex.setVisible(visible)
        self.hint.setText("no record: give age and sex" if visible
                          else "adds to the record at 'now'")

    def set_demographics(self, age: int | None, sex: str | None) -> None:
        for w in (self.age, self.sex):
            w.blockSignals(True)
        self.age.setValue(-1 if age is None else age)
        self.sex.setCurrentIndex({"female": 1, "male": 2}.get(sex or "", 0))
        for w in (self.age, self.sex):
            w.blockSignals(False)

    def demographics(self) -> tuple[int | None, str | None]:
        age = self.age.value()
        sex = self.sex.currentText()
        return (None if age < 0 else age), (sex if sex in ("female", "male") else None)

    def show_reading(self, rows: list[tuple[Finding, str, bool]], text: str) -> None:
        """What was read from TEXT: highlight spans (if the box still holds that text) and
        list the findings with their state."""
        self._findings = {f.id: f for f, _, _ in rows}
        self._spans = [(f.source.span[0], f.source.span[1], f.label, state)
                       for f, state, _ in rows if f.source.span is not None]
        current = self.findings.currentItem()
        keep = current.data(FINDING_ROLE) if current is not None else None
        self.findings.clear()
        for f, state, corrected in rows:
            item = QListWidgetItem(f"{MARK[state]} {f.label}" + (" (corrected)" if corrected
                                                                 else ""))
            item.setData(FINDING_ROLE, f.id)
            item.setToolTip(f"{f.label} — {WORD[state]}"
                            + (" (corrected by you)" if corrected else "")
                            + f"\nread from: “{f.source.snippet or ''}”")
            colour = COLOUR.get(state)
            if colour:
                item.setForeground(QColor(colour))
            self.findings.addItem(item)
            if f.id == keep:
                self.findings.setCurrentItem(item)
        if text == self.text():
            self._highlight()

    def show_span(self, span: tuple[int, int] | None) -> bool:
        """Mark the words an evidence link cites and scroll to them (the typed text's
        counterpart of a note span on the timeline); False if they are not in the text."""
        n = len(self.text())
        if span is None or not (0 <= span[0] < span[1] <= n):
            return False
        self.focus_span = (span[0], span[1])
        cursor = QTextCursor(self.editor.document())
        cursor.setPosition(span[0])  # no selection: typing must not replace the words
        self.editor.setTextCursor(cursor)
        self.editor.ensureCursorVisible()
        self._highlight()
        return True

    def focused_text(self) -> str:
        """The words marked by the last evidence link ('' when none)."""
        s = self.focus_span
        return self.text()[s[0]:s[1]] if s is not None else ""

    def finding_item(self, finding_id: str) -> QListWidgetItem | None:
        for i in range(self.findings.count()):
            if self.findings.item(i).data(FINDING_ROLE) == finding_id:
                return self.findings.item(i)
        return None

    # --- internals -------------------------------------------------------------------

    def _typed(self) -> None:
        self.editor.setExtraSelections([])  # old spans no longer fit the text
        self.focus_span = None
        self._timer.start()

    def _demographics(self) -> None:
        self.demographicsChanged.emit(*self.demographics())

    def _highlight(self) -> None:
        selections = []
        n = len(self.text())
        for start, end, _label, state in self._spans:
            if state == REMOVED or not (0 <= start < end <= n):
                continue
            sel = QTextEdit.ExtraSelection()
            fmt = QTextCharFormat()
            colour = QColor(COLOUR[state])
            fmt.setUnderlineColor(colour)
            fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.SingleUnderline)
            bg = QColor(colour)
            bg.setAlpha(40)
            fmt.setBackground(bg)
            sel.format = fmt
            cursor = QTextCursor(self.editor.document())
            cursor.setPosition(start)
            cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
            sel.cursor = cursor
            selections.append(sel)
        if self.focus_span is not None and self.focus_span[1] <= n:
            sel = QTextEdit.ExtraSelection()
            fmt = QTextCharFormat()
            fmt.setBackground(QColor(FOCUS_COLOUR))
            fmt.setForeground(QColor("#000000"))
            sel.format = fmt
            cursor = QTextCursor(self.editor.document())
            cursor.setPosition(self.focus_span[0])
            cursor.setPosition(self.focus_span[1], QTextCursor.MoveMode.KeepAnchor)
            sel.cursor = cursor
            selections.append(sel)  # last: drawn over the finding's own colour
        self.editor.setExtraSelections(selections)

    def span_at(self, position: int) -> tuple[str, str] | None:
        """(label, state) of the highlighted finding at a character position."""
        for start, end, label, state in self._spans:
            if start <= position < end:
                return label, state
        return None

    def _correct(self, item: QListWidgetItem | None, remove: bool) -> None:
        if item is None:
            return
        f = self._findings.get(item.data(FINDING_ROLE))
        if f is not None:
            self.correctionRequested.emit(f, remove)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.findings and event.type() == QEvent.Type.KeyPress:
            key = event.key() if isinstance(event, QKeyEvent) else None
            if key == Qt.Key.Key_Space:
                self._correct(self.findings.currentItem(), False)
                return True
            if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
                self._correct(self.findings.currentItem(), True)
                return True
        if watched is self.editor.viewport() and event.type() == QEvent.Type.ToolTip:
            pos = event.pos()  # type: ignore[attr-defined]
            hit = self.span_at(self.editor.cursorForPosition(pos).position())
            if hit is not None:
                QToolTip.showText(event.globalPos(), f"{hit[0]} — {WORD[hit[1]]}",  # type: ignore[attr-defined]
                                  self.editor)
            else:
                QToolTip.hideText()
            return True
        return super().eventFilter(watched, event)
