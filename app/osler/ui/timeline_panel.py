"""The timeline with its controls: lane filters, search with next/previous, undated events,
and the 'now' cursor readout."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLayoutItem,
    QLineEdit,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from osler.record import EventKind
from osler.ui.event_details import EventDetails
from osler.ui.event_text import format_when, summary
from osler.ui.timeline_layout import TimelineLayout
from osler.ui.timeline_view import TimelineView
from osler.ui.trend_plot import TrendPlot

MAX_UNDATED_MENU = 300


class FlowLayout(QLayout):
    """Items left to right, wrapping onto more lines when the width runs out (Qt's own
    flow layout example): the lane filters stay readable without a horizontal scroll bar."""

    def __init__(self, parent: QWidget | None = None, h_spacing: int = 10, v_spacing: int = 2):
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._h, self._v = h_spacing, v_spacing

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:
        return self.minimumSize()

    def minimumSize(self) -> QSize:
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        m = self.contentsMargins()
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    def _arrange(self, rect: QRect, move: bool) -> int:
        """Place the items in rows inside rect (or only measure); the height they need."""
        m = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        x, y, line_h = area.x(), area.y(), 0
        for item in self._items:
            if item.isEmpty():
                continue
            hint = item.sizeHint()
            if x > area.x() and x + hint.width() > area.right() + 1:
                x, y, line_h = area.x(), y + line_h + self._v, 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self._h
            line_h = max(line_h, hint.height())
        return y + line_h - rect.y() + m.bottom()


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

        # Row 1: lane filters (one checkbox per kind present), wrapping onto more lines.
        self._filter_host = QWidget()
        self._filter_host.setObjectName("laneFilters")
        self._filter_host.setAccessibleName("Lane filters")
        self._filter_row = FlowLayout(self._filter_host)
        self._filter_row.setContentsMargins(6, 2, 6, 2)
        outer.addWidget(self._filter_host)

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
        self._filter_row.invalidate()
        self._build_undated_menu(layout)
        self._show_now(self.view.now())

    # --- the detail pane and trend beside the timeline ------------------------

    def attach(self, details: EventDetails | None = None, trend: TrendPlot | None = None
               ) -> None:
        """Let the detail pane and the trend plot read this timeline: its abnormal rules,
        the stack of events under a click, a report's analytes; the trend clears when an
        event it cannot plot is selected. Safe to call more than once."""
        if details is not None and details.view is None:
            details.follow(self.view)
        if trend is not None and trend.view is None:
            trend.follow(self.view)

    def showEvent(self, event: QShowEvent) -> None:
        # The window builds the panes beside the timeline; when it has not attached them
        # itself, the ones in the same window are found here, once shown together.
        window = self.window()
        if window is not self:
            details = window.findChildren(EventDetails)
            trends = window.findChildren(TrendPlot)
            self.attach(details[0] if len(details) == 1 else None,
                        trends[0] if len(trends) == 1 else None)
        super().showEvent(event)

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
