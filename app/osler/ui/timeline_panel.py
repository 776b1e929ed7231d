"""The timeline with its controls: lane filters, search with next/previous, undated events,
and the 'now' cursor readout."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QResizeEvent
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QScrollArea,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from osler.record import EventKind
from osler.ui.event_text import format_when, summary
from osler.ui.timeline_layout import TimelineLayout
from osler.ui.timeline_view import TimelineView

MAX_UNDATED_MENU = 300


class TimelinePanel(QWidget):
    """TimelineView plus its filter bar and search row."""

    undatedSelected = Signal(str)  # event id of an undated event picked from the menu

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("timelinePanel")
        self.view = TimelineView(self)
        self.checkboxes: dict[str, QCheckBox] = {}

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(2)

        # Row 1: lane filters (one checkbox per kind present).
        self._filter_host = QWidget()
        self._filter_row = QHBoxLayout(self._filter_host)
        self._filter_row.setContentsMargins(6, 2, 6, 2)
        self._filter_row.setSpacing(10)
        scroll = QScrollArea()
        scroll.setObjectName("laneFilters")
        scroll.setAccessibleName("Lane filters")
        scroll.setWidget(self._filter_host)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._filter_scroll = scroll
        self._fit_filter_row()
        outer.addWidget(scroll)

        # Row 2: search, next/previous, undated, now.
        row = QHBoxLayout()
        row.setContentsMargins(6, 0, 6, 0)
        self.search = QLineEdit()
        self.search.setObjectName("timelineSearch")
        self.search.setPlaceholderText("Search events: name, code, value or note text (Ctrl+F)")
        self.search.setAccessibleName("Search the timeline")
        self.search.setAccessibleDescription(
            "Matches event names, codes, values and note text; Enter or F3 goes to the next "
            "match, Shift+Enter or Shift+F3 to the previous one")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(220)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(150)
        self._debounce.timeout.connect(self.run_search)
        self.search.textChanged.connect(lambda _text: self._debounce.start())
        self.search.returnPressed.connect(self._enter_in_search)
        row.addWidget(self.search, 3)
        self.prev_button = self._tool_button("◀", "Previous match (Shift+F3)",
                                             self.view.previous_match)
        self.next_button = self._tool_button("▶", "Next match (F3)", self.view.next_match)
        row.addWidget(self.prev_button)
        row.addWidget(self.next_button)
        self.match_label = QLabel("")
        self.match_label.setAccessibleName("Search matches")
        self.match_label.setMinimumWidth(90)
        row.addWidget(self.match_label)
        row.addStretch(1)
        self.undated_button = QToolButton()
        self.undated_button.setText("Undated (0)")
        self.undated_button.setAccessibleName("Undated events")
        self.undated_button.setToolTip("Events without a usable date: not on the time axis")
        self.undated_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.undated_button.setEnabled(False)
        row.addWidget(self.undated_button)
        self.now_label = QLabel("Now: whole record")
        self.now_label.setAccessibleName("Now cursor")
        self.now_label.setToolTip("The model sees only events up to 'now'; drag the purple "
                                  "line on the timeline or use View ▸ Set 'now'")
        row.addWidget(self.now_label)
        self.clear_now_button = self._tool_button("✕", "Clear 'now': the model sees the whole "
                                                  "record", lambda: self.view.set_now(None))
        self.clear_now_button.setAccessibleName("Clear now cursor")
        self.clear_now_button.setEnabled(False)
        row.addWidget(self.clear_now_button)
        outer.addLayout(row)
        outer.addWidget(self.view, 1)

        self.view.searchResults.connect(self._show_matches)
        self.view.nowChanged.connect(self._show_now)
        self.view.kindVisibilityChanged.connect(self._sync_checkbox)
        self.setTabOrder(self.search, self.prev_button)
        self.setTabOrder(self.prev_button, self.next_button)
        self.setTabOrder(self.next_button, self.undated_button)
        self.setTabOrder(self.undated_button, self.clear_now_button)
        self.setTabOrder(self.clear_now_button, self.view)

    def _tool_button(self, text: str, tip: str, slot) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setAccessibleName(tip.split(" (")[0].split(":")[0])
        button.clicked.connect(lambda: slot())
        return button

    # --- record ---------------------------------------------------------------

    def set_record(self, layout: TimelineLayout | None) -> None:
        """Show a record: rebuild the lane checkboxes and the undated menu."""
        hidden = {k.value for k in self.view.hidden_kinds()}
        self.view.set_record(layout)
        while self._filter_row.count():
            item = self._filter_row.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.checkboxes = {}
        lanes = layout.lanes if layout is not None else []
        for lane in lanes:
            box = QCheckBox(f"{lane.title} ({len(lane):,})")
            box.setChecked(lane.kind.value not in hidden)
            box.setAccessibleName(f"Show {lane.title}")
            box.setToolTip(f"Show or hide the {lane.title.lower()} lane")
            box.toggled.connect(
                lambda on, kind=lane.kind: self.view.set_kind_visible(kind, on))
            self.checkboxes[lane.kind.value] = box
            self._filter_row.addWidget(box)
        self._filter_row.addStretch(1)
        # New checkboxes are shown (and counted in the size hint) on the next event loop turn.
        QTimer.singleShot(0, self._fit_filter_row)
        self._build_undated_menu(layout)
        self._show_now(self.view.now())

    def _fit_filter_row(self) -> None:
        """Make room for the row's scroll bar only when the checkboxes overflow."""
        scroll = self._filter_scroll
        base = max(self._filter_host.sizeHint().height(), self.fontMetrics().height() + 10)
        overflow = self._filter_host.sizeHint().width() > scroll.width()
        bar = scroll.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        scroll.setFixedHeight(base + (bar if overflow else 0))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_filter_row()

    def _build_undated_menu(self, layout: TimelineLayout | None) -> None:
        undated = layout.undated if layout is not None else []
        self.undated_button.setText(f"Undated ({len(undated)})")
        self.undated_button.setEnabled(bool(undated))
        menu = QMenu(self.undated_button)
        for event in undated[:MAX_UNDATED_MENU]:
            action = QAction(summary(event)[:100], menu)
            action.triggered.connect(lambda _=False, eid=event.id: self._pick_undated(eid))
            menu.addAction(action)
        if len(undated) > MAX_UNDATED_MENU:
            more = QAction(f"… {len(undated) - MAX_UNDATED_MENU} more", menu)
            more.setEnabled(False)
            menu.addAction(more)
        self.undated_button.setMenu(menu)

    def _pick_undated(self, event_id: str) -> None:
        self.view.select_event(event_id)
        self.undatedSelected.emit(event_id)

    # --- filters, search, now -------------------------------------------------

    def set_kind_visible(self, kind: str, visible: bool) -> None:
        """Same as ticking the lane's checkbox."""
        box = self.checkboxes.get(kind)
        if box is not None:
            box.setChecked(visible)
        else:
            self.view.set_kind_visible(EventKind(kind), visible)

    def _sync_checkbox(self, kind: str, visible: bool) -> None:
        box = self.checkboxes.get(kind)
        if box is not None and box.isChecked() != visible:
            box.blockSignals(True)
            box.setChecked(visible)
            box.blockSignals(False)

    def run_search(self) -> int:
        """Apply the search text now (the field applies it 150 ms after typing stops)."""
        self._debounce.stop()
        return self.view.set_search(self.search.text())

    def _enter_in_search(self) -> None:
        if self._debounce.isActive() or self.search.text() != self.view.search_text():
            self.run_search()
        if QApplication.keyboardModifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.view.previous_match()
        else:
            self.view.next_match()

    def _show_matches(self, current: int, total: int) -> None:
        text = self.search.text().strip()
        if not text:
            self.match_label.setText("")
        elif total == 0:
            self.match_label.setText("no matches")
        elif current:
            self.match_label.setText(f"{current} of {total}")
        else:
            self.match_label.setText(f"{total} match{'es' if total != 1 else ''}")
        no_match = bool(text) and total == 0
        if self.search.property("noMatch") != no_match:
            self.search.setProperty("noMatch", no_match)
            self.search.style().unpolish(self.search)
            self.search.style().polish(self.search)
        self.prev_button.setEnabled(total > 0)
        self.next_button.setEnabled(total > 0)

    def _show_now(self, when) -> None:
        if when is None:
            self.now_label.setText("Now: whole record")
            self.clear_now_button.setEnabled(False)
        else:
            self.now_label.setText("Now: " + format_when(when, "second").removesuffix(" UTC")
                                   + " UTC")
            self.clear_now_button.setEnabled(True)
