"""The patient timeline widget: one lane per event kind, zoom and pan, hover, select,
search, filters and the 'now' cursor. Drawing lives in timeline_paint.py."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QContextMenuEvent,
    QFont,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QMenu, QSizePolicy, QToolTip, QWidget

from osler.record import Event, EventKind
from osler.ui.event_text import format_when, summary, tooltip_html
from osler.ui.theme import LIGHT, TimelineColours
from osler.ui.timeline_layout import (
    Lane,
    TimelineLayout,
    episode_range,
    focus_range,
    with_margin,
)
from osler.ui.timeline_paint import (
    AXIS_H,
    FLASHES,
    HIT_PX,
    LABEL_W,
    LANE_PAD,
    MARKER,
    MIN_LANE_H,
    MIN_SECONDS_PER_PX,
    POINT_LANE_H,
    ROW_H,
    FrameStats,
    LaneSlot,
    TimelinePainter,
)

KEYS_HELP = (
    "Wheel or plus/minus to zoom (around 'now' when it is set), drag or arrow keys to pan, "
    "Home/End for the first and last events, 0 to fit the whole record. Ctrl+Left/Right "
    "selects the previous/next event, Up/Down moves between lanes. Drag the purple 'now' "
    "line to set what the model sees."
)


class TimelineView(TimelinePainter, QWidget):
    """Zoomable, pannable timeline of one patient's events."""

    eventSelected = Signal(str)  # event id
    eventActivated = Signal(str)  # Enter or double-click on an event
    eventHighlighted = Signal(str, object)  # event id, (start, end) note span or None
    nowChanged = Signal(object)  # datetime (UTC) or None for "the whole record"
    viewChanged = Signal()  # zoom or pan
    kindVisibilityChanged = Signal(str, bool)
    searchResults = Signal(int, int)  # current match (1-based, 0 = none), number of matches

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("timelineView")
        self.setAccessibleName("Patient timeline")
        self.setAccessibleDescription(KEYS_HELP)
        self.setToolTip("")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(420, 160)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._layout: TimelineLayout | None = None
        self._colours = LIGHT
        self._hidden: set[EventKind] = set()
        self._t0 = 0.0
        self._spp = 86400.0
        self._now: float | None = None
        self._selected: str | None = None
        self._matches: list[tuple[int, int]] = []
        self._match_masks: dict[int, np.ndarray] = {}
        self._match_pos = -1
        self._search_text = ""
        self._flash_left = 0
        self._flash = QTimer(self)
        self._flash.setInterval(140)
        self._flash.timeout.connect(self._flash_step)
        self._press: QPointF | None = None
        self._press_t0 = 0.0
        self._dragging_now = False
        self._panning = False
        self._last_click: tuple[QPoint, list[str]] | None = None
        # (t0, seconds per pixel) of the current-episode view while the user has not moved
        # it: resizing and a new 'now' outside it then show the episode again.
        self._episode_view: tuple[float, float] | None = None
        self._slots: list[LaneSlot] = []
        self.stats = FrameStats()
        self._small = QFont(self.font())
        self._bold = QFont(self.font())
        self._derive_fonts()

    def _derive_fonts(self) -> None:
        """The painting fonts follow the widget's font (presentation mode enlarges it)."""
        base = self.font()
        self._small = QFont(base)
        self._small.setPointSizeF(max(7.0, base.pointSizeF() * 0.85))
        self._bold = QFont(base)
        self._bold.setBold(True)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.FontChange:
            self._derive_fonts()
            self.update()
        super().changeEvent(event)

    # --- record ---------------------------------------------------------------

    def set_record(self, layout: TimelineLayout | None) -> None:
        """Show a record's layout (or nothing) on its current episode; keeps the filters,
        resets selection and zoom."""
        self._layout = layout
        self._selected = None
        self._last_click = None
        had_now, self._now = self._now is not None, None
        self._flash.stop()
        self._flash_left = 0
        self._relayout()
        self.show_current_episode()
        self._apply_search(self._search_text, emit=True)
        if had_now:
            self.nowChanged.emit(None)

    @property
    def record(self) -> TimelineLayout | None:
        """The layout being shown."""
        return self._layout

    def set_colours(self, colours: TimelineColours) -> None:
        """Repaint with a theme's colours."""
        self._colours = colours
        self.update()

    # --- lanes and filters ----------------------------------------------------

    def set_kind_visible(self, kind: EventKind | str, visible: bool) -> None:
        """Show or hide one lane; search results follow the visible lanes."""
        kind = EventKind(kind)
        if visible == (kind not in self._hidden):
            return
        if visible:
            self._hidden.discard(kind)
        else:
            self._hidden.add(kind)
        self._relayout()
        self._apply_search(self._search_text, emit=True)
        self.kindVisibilityChanged.emit(kind.value, visible)
        self.update()

    def hidden_kinds(self) -> set[EventKind]:
        return set(self._hidden)

    def visible_lanes(self) -> list[Lane]:
        """Lanes drawn now, top to bottom."""
        if self._layout is None:
            return []
        return [self._layout.lanes[s.lane] for s in self._slots]

    def lane_counts(self) -> dict[str, int]:
        """Events per visible lane."""
        return {lane.kind.value: len(lane) for lane in self.visible_lanes()}

    def _relayout(self) -> None:
        self._slots = []
        if self._layout is None:
            return
        shown = [i for i, lane in enumerate(self._layout.lanes) if lane.kind not in self._hidden]
        wanted = [
            max(POINT_LANE_H, lane.row_count * ROW_H + LANE_PAD)
            for lane in (self._layout.lanes[i] for i in shown)
        ]
        room = max(1.0, self.height() - AXIS_H - 2)
        total = float(sum(wanted)) or 1.0
        scale = room / total
        # Fill the height, but do not blow lanes up to more than 1.6x their natural size.
        scale = min(scale, 1.6)
        y = float(AXIS_H)
        for i, want in zip(shown, wanted):
            lane = self._layout.lanes[i]
            h = max(MIN_LANE_H, want * scale)
            row_h = max(2.0, (h - LANE_PAD) / lane.row_count)
            self._slots.append(LaneSlot(i, y, h, row_h))
            y += h

    # --- zoom and pan ---------------------------------------------------------

    @property
    def plot_width(self) -> float:
        return max(10.0, float(self.width() - LABEL_W))

    def window(self) -> tuple[float, float]:
        """Visible time range, epoch seconds."""
        return self._t0, self._t0 + self._spp * self.plot_width

    def seconds_per_pixel(self) -> float:
        return self._spp

    def x_of(self, seconds: float) -> float:
        """Widget x of a time."""
        return LABEL_W + (seconds - self._t0) / self._spp

    def time_at(self, x: float) -> float:
        """Time (epoch seconds) under a widget x."""
        return self._t0 + (x - LABEL_W) * self._spp

    def _extent(self) -> tuple[float, float]:
        lay = self._layout
        if lay is None or lay.start is None or lay.end is None:
            now = datetime.now(UTC).timestamp()
            return now - 365 * 86400, now
        start, end = lay.start, lay.end
        if self._now is not None:
            start, end = min(start, self._now), max(end, self._now)
        if end - start < 3600:
            start, end = start - 43200, end + 43200
        return start, end

    def _max_spp(self) -> float:
        start, end = self._extent()
        return max(MIN_SECONDS_PER_PX * 10, 3.0 * (end - start) / self.plot_width)

    def set_window(self, start: float, end: float) -> None:
        """Show the time range [start, end] (epoch seconds)."""
        if not (math.isfinite(start) and math.isfinite(end)) or end <= start:
            return
        spp = (end - start) / self.plot_width
        self._spp = min(max(spp, MIN_SECONDS_PER_PX), self._max_spp())
        centre = (start + end) / 2
        self._t0 = centre - self._spp * self.plot_width / 2
        self._clamp()
        self.viewChanged.emit()
        self.update()

    def fit_whole_record(self) -> None:
        """Zoom to show the whole record."""
        start, end = self._extent()
        pad = (end - start) * 0.03
        self.set_window(start - pad, end + pad)

    def fit_all(self) -> None:
        """The old name of fit_whole_record."""
        self.fit_whole_record()

    def current_episode(self) -> tuple[float, float] | None:
        """(start, end), epoch seconds, of the encounter at 'now', else of the last one
        (before 'now', when set); None when the record has no encounter to show."""
        return None if self._layout is None else episode_range(self._layout, self._now)

    def show_current_episode(self) -> None:
        """Show the current episode (see current_episode) with a margin, and 'now' if set;
        the whole record when there is no encounter."""
        episode = self.current_episode()
        if episode is None:
            self.fit_whole_record()
        else:
            start, end = episode
            if self._now is not None:
                start, end = min(start, self._now), max(end, self._now)
            self.set_window(*with_margin(start, end))
        self._episode_view = (self._t0, self._spp)

    def _at_episode(self) -> bool:
        """True while the view still shows the episode show_current_episode chose."""
        return self._layout is not None and self._episode_view == (self._t0, self._spp)

    def zoom_by(self, factor: float, anchor_x: float | None = None) -> None:
        """Zoom in (factor > 1) or out, keeping the time under anchor_x fixed."""
        if factor <= 0:
            return
        x = LABEL_W + self.plot_width / 2 if anchor_x is None else anchor_x
        x = min(max(x, LABEL_W), float(self.width()))
        t = self.time_at(x)
        spp = min(max(self._spp / factor, MIN_SECONDS_PER_PX), self._max_spp())
        if spp == self._spp:
            return
        self._spp = spp
        self._t0 = t - (x - LABEL_W) * spp
        self._clamp()
        self.viewChanged.emit()
        self.update()

    def zoom_in(self) -> None:
        """Zoom in (keys, menu): around 'now' when set, else around the middle."""
        self._zoom_around_now(1.5)

    def zoom_out(self) -> None:
        self._zoom_around_now(1 / 1.5)

    def _zoom_around_now(self, factor: float) -> None:
        if self._now is None:
            self.zoom_by(factor)
            return
        # 'now' is what the differential is about: zooming brings it to the middle.
        self._spp = min(max(self._spp / factor, MIN_SECONDS_PER_PX), self._max_spp())
        self.centre_on(self._now)

    def pan_by(self, dx: float) -> None:
        """Pan by dx pixels (positive shows later times)."""
        self._t0 += dx * self._spp
        self._clamp()
        self.viewChanged.emit()
        self.update()

    def go_to_start(self) -> None:
        start, _ = self._extent()
        self._t0 = start - 0.05 * self._spp * self.plot_width
        self._clamp()
        self.viewChanged.emit()
        self.update()

    def go_to_end(self) -> None:
        _, end = self._extent()
        self._t0 = end - 0.95 * self._spp * self.plot_width
        self._clamp()
        self.viewChanged.emit()
        self.update()

    def centre_on(self, seconds: float) -> None:
        self._t0 = seconds - self._spp * self.plot_width / 2
        self._clamp()
        self.viewChanged.emit()
        self.update()

    def _clamp(self) -> None:
        start, end = self._extent()
        span = self._spp * self.plot_width
        lo = start - 0.5 * span
        hi = end - 0.5 * span
        self._t0 = min(max(self._t0, lo), max(lo, hi))

    # --- now cursor -----------------------------------------------------------

    def now(self) -> datetime | None:
        """The 'now' cursor: events after it are greyed (None: the whole record counts)."""
        return None if self._now is None else datetime.fromtimestamp(self._now, UTC)

    def set_now(self, when: datetime | None) -> None:
        """Move the 'now' cursor; emits nowChanged when it moves."""
        value = None if when is None else when.timestamp()
        if value == self._now:
            return
        at_episode = self._at_episode()
        self._now = value
        if at_episode and value is not None and not self.window()[0] <= value <= self.window()[1]:
            self.show_current_episode()  # opened with a 'now' elsewhere: show its episode
        self.update()
        self.nowChanged.emit(self.now())

    def is_greyed(self, event_id: str) -> bool:
        """True when the event lies after the 'now' cursor (the model does not see it)."""
        if self._layout is None or self._now is None:
            return False
        loc = self._layout.locate(event_id)
        if loc is None:
            return False
        return float(self._layout.lanes[loc[0]].starts[loc[1]]) > self._now

    def _now_x(self) -> float:
        if self._now is not None:
            return self.x_of(self._now)
        # "Whole record": just right of the last event, so it never covers an event.
        _, end = self._extent()
        return self.x_of(end) + 10

    # --- selection and highlight ----------------------------------------------

    def selected_event(self) -> Event | None:
        if self._layout is None or self._selected is None:
            return None
        return self._layout.timeline.get(self._selected)

    def select_event(self, event_id: str | None, *, emit: bool = True) -> bool:
        """Select an event by id (None clears); returns False if the record lacks it."""
        if event_id is None:
            self._selected = None
            self.update()
            return True
        if self._layout is None or event_id not in self._layout.timeline:
            return False
        self._selected = event_id
        ev = self._layout.timeline.get(event_id)
        if ev is not None:
            when = format_when(ev.time, ev.time_precision)
            self.setAccessibleDescription(
                f"Selected: {summary(ev, self._layout.judge)}, {when}. {KEYS_HELP}")
        self.update()
        if emit:
            self.eventSelected.emit(event_id)
        return True

    def selected_stack(self) -> list[Event]:
        """Every event drawn where the user clicked, when the selection is one of them
        (oldest first); else just the selected event."""
        if self._layout is None or self._selected is None:
            return []
        timeline = self._layout.timeline
        if self._last_click is not None and self._selected in self._last_click[1]:
            found = [e for e in map(timeline.get, self._last_click[1]) if e is not None]
            return sorted(found, key=lambda e: (e.time.timestamp() if e.time else 0.0,
                                                e.display))
        event = timeline.get(self._selected)
        return [event] if event is not None else []

    def highlight_event(self, event_id: str, span: tuple[int, int] | None = None) -> bool:
        """Zoom to, select and flash an event (for evidence links); False if unknown.

        The view zooms to the event's own scale (focus_event). `span` is a (start, end)
        character range in a note's text; it travels with the eventHighlighted signal so
        the detail area can mark it.
        """
        if self._layout is None or event_id not in self._layout.timeline:
            return False
        loc = self._layout.locate(event_id)
        if loc is not None:
            lane = self._layout.lanes[loc[0]]
            if lane.kind in self._hidden:
                self.set_kind_visible(lane.kind, True)
            self._focus(loc)
        self.select_event(event_id)
        self._flash_left = FLASHES
        self._flash.start()
        self.eventHighlighted.emit(event_id, span)
        self.update()
        return True

    def focus_event(self, event_id: str) -> bool:
        """Zoom to an event's own scale, centred on it; False if it is not on the timeline."""
        loc = self._layout.locate(event_id) if self._layout is not None else None
        if loc is None:
            return False
        self._focus(loc)
        return True

    def _focus(self, loc: tuple[int, int]) -> None:
        assert self._layout is not None
        lane = self._layout.lanes[loc[0]]
        start, end = focus_range(self._layout, loc, self._now)
        self.set_window(start, end)
        if not lane.spans[loc[1]]:
            self._thin_out(lane, float(lane.starts[loc[1]]))
        self.centre_on((start + end) / 2)

    def _thin_out(self, lane: Lane, s: float) -> None:
        """Zoom in until the neighbourhood of s is drawn event by event, not as density."""
        for _ in range(40):
            half = self._spp * self.plot_width / 2
            near = lane.visible_points(s - half, s + half)
            if len(near) <= self.plot_width / 4 or self._spp <= MIN_SECONDS_PER_PX:
                break
            self._spp = max(self._spp / 2, MIN_SECONDS_PER_PX)

    def _bring_into_view(self, loc: tuple[int, int]) -> None:
        """Scroll to an event (search results), zooming in only if it would be lost."""
        assert self._layout is not None
        lane = self._layout.lanes[loc[0]]
        s, e = float(lane.starts[loc[1]]), float(lane.ends[loc[1]])
        self._thin_out(lane, s)
        target = s
        if math.isfinite(e) and e > s and (e - s) < 0.8 * self._spp * self.plot_width:
            target = (s + e) / 2
        t0, t1 = self.window()
        margin = 0.08 * (t1 - t0)
        if not (t0 + margin <= s <= t1 - margin) or target != s:
            self.centre_on(target)
        else:
            self.viewChanged.emit()
            self.update()

    def _flash_step(self) -> None:
        self._flash_left -= 1
        if self._flash_left <= 0:
            self._flash.stop()
        self.update()

    # --- search ---------------------------------------------------------------

    def set_search(self, text: str) -> int:
        """Highlight events matching text (display, codes, value, note text); count of hits."""
        self._apply_search(text, emit=True)
        return len(self._matches)

    def search_text(self) -> str:
        """The text the highlighted matches are for."""
        return self._search_text

    def matches(self) -> list[str]:
        """Ids of the events matching the search, oldest first."""
        if self._layout is None:
            return []
        return [self._layout.lanes[li].events[i].id for li, i in self._matches]

    def next_match(self) -> str | None:
        return self._step_match(1)

    def previous_match(self) -> str | None:
        return self._step_match(-1)

    def _step_match(self, step: int) -> str | None:
        if not self._matches or self._layout is None:
            return None
        if self._match_pos < 0:
            self._match_pos = 0 if step > 0 else len(self._matches) - 1
        else:
            self._match_pos = (self._match_pos + step) % len(self._matches)
        li, i = self._matches[self._match_pos]
        event_id = self._layout.lanes[li].events[i].id
        self._bring_into_view((li, i))
        self.select_event(event_id)
        self.searchResults.emit(self._match_pos + 1, len(self._matches))
        return event_id

    def _apply_search(self, text: str, emit: bool) -> None:
        self._search_text = text
        self._matches = []
        self._match_masks = {}
        self._match_pos = -1
        if self._layout is not None and text.strip():
            kinds = {lane.kind for lane in self._layout.lanes} - self._hidden
            self._matches = self._layout.search(text, kinds)
            for li, i in self._matches:
                mask = self._match_masks.get(li)
                if mask is None:
                    mask = self._match_masks[li] = np.zeros(len(self._layout.lanes[li]), bool)
                mask[i] = True
        if emit:
            self.searchResults.emit(0, len(self._matches))
        self.update()

    # --- hit testing ----------------------------------------------------------

    def _slot_at(self, y: float) -> LaneSlot | None:
        for slot in self._slots:
            if slot.y <= y < slot.y + slot.height:
                return slot
        return None

    def events_at(self, pos: QPointF | QPoint) -> list[Event]:
        """Events drawn under a point, nearest first."""
        return [self._layout.lanes[li].events[i] for li, i in self._hits(QPointF(pos))] \
            if self._layout is not None else []

    def _hits(self, pos: QPointF) -> list[tuple[int, int]]:
        if self._layout is None or pos.x() < LABEL_W:
            return []
        slot = self._slot_at(pos.y())
        if slot is None:
            return []
        lane = self._layout.lanes[slot.lane]
        t = self.time_at(pos.x())
        tol = HIT_PX * self._spp
        row = int((pos.y() - slot.y - LANE_PAD / 2) // slot.row_h)
        row = min(max(row, 0), lane.row_count - 1)
        found: list[tuple[float, int]] = []
        pts = lane.visible_points(t - tol, t + tol)
        if lane.row_count > 1:
            pts = pts[lane.rows[pts] == row]
        found.extend((abs(float(lane.starts[i]) - t), int(i)) for i in pts)
        spans = lane.visible_spans(t - tol, t + tol)
        if len(spans):
            spans = spans[lane.rows[spans] == row]
            found.extend((0.0 if lane.starts[i] <= t <= lane.ends[i] else
                          min(abs(lane.starts[i] - t), abs(lane.ends[i] - t)), int(i))
                         for i in spans)
        found.sort()
        return [(slot.lane, i) for _, i in found]

    def event_rect(self, event_id: str) -> QRectF | None:
        """Where an event is drawn now (widget coordinates), None if hidden or off-screen."""
        if self._layout is None:
            return None
        loc = self._layout.locate(event_id)
        if loc is None:
            return None
        slot = next((s for s in self._slots if s.lane == loc[0]), None)
        if slot is None:
            return None
        lane = self._layout.lanes[loc[0]]
        i = loc[1]
        cy = float(slot.row_center(int(lane.rows[i])))
        x0 = self.x_of(float(lane.starts[i]))
        if lane.spans[i]:
            end = float(lane.ends[i])
            x1 = self.width() + 4.0 if not math.isfinite(end) else self.x_of(end)
            x1 = max(x1, x0 + 3)
            h = max(2.0, slot.row_h - 2)
            rect = QRectF(x0, cy - h / 2, x1 - x0, h)
        else:
            rect = QRectF(x0 - MARKER / 2, cy - MARKER / 2, MARKER, MARKER)
        if rect.right() < LABEL_W or rect.left() > self.width():
            return None
        return rect

    # --- painting ---------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        try:
            self._paint(p)
        finally:
            p.end()

    # --- events -----------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:
        old_w = max(10, event.oldSize().width() - LABEL_W)
        at_episode = self._at_episode()
        if event.oldSize().width() > 0 and self._layout is not None and not at_episode:
            start, span = self._t0, self._spp * old_w
            self._relayout()
            self._spp = span / self.plot_width
            self._t0 = start
            self._clamp()
        else:
            self._relayout()
            if at_episode:
                self.show_current_episode()
            elif self._layout is not None:
                self.fit_whole_record()
        super().resizeEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta()
        mods = event.modifiers()
        if delta.x() and not delta.y():
            self.pan_by(-delta.x() / 120 * self.plot_width / 10)
        elif mods & Qt.KeyboardModifier.ShiftModifier:
            self.pan_by(-delta.y() / 120 * self.plot_width / 10)
        elif delta.y():
            self.zoom_by(1.25 ** (delta.y() / 120), event.position().x())
        event.accept()

    def _near_now(self, pos: QPointF) -> bool:
        x = self._now_x()
        return abs(pos.x() - x) <= 6 and pos.x() >= LABEL_W - 6

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        pos = event.position()
        self._press = pos
        self._press_t0 = self._t0
        self._panning = False
        in_axis = pos.y() < AXIS_H and pos.x() >= LABEL_W
        self._dragging_now = self._layout is not None and (
            in_axis or (self._near_now(pos) and not self._hits(pos)))
        if self._dragging_now:
            self._move_now_to(pos.x())
        event.accept()

    def _move_now_to(self, x: float) -> None:
        x = min(max(x, LABEL_W), float(self.width()))
        self._now = self.time_at(x)
        self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if self._press is not None and event.buttons() & Qt.MouseButton.LeftButton:
            if self._dragging_now:
                self._move_now_to(pos.x())
                return
            dx = pos.x() - self._press.x()
            if self._panning or abs(dx) > 3:
                self._panning = True
                self.setCursor(Qt.CursorShape.ClosedHandCursor)
                self._t0 = self._press_t0 - dx * self._spp
                self._clamp()
                self.viewChanged.emit()
                self.update()
            return
        if self._near_now(pos) or (pos.y() < AXIS_H and pos.x() >= LABEL_W):
            self.setCursor(Qt.CursorShape.SizeHorCursor)
        else:
            self.unsetCursor()
        self._show_tooltip(event)

    def _show_tooltip(self, event: QMouseEvent) -> None:
        hits = self.events_at(event.position())
        if not hits:
            QToolTip.hideText()
            return
        judge = self._layout.judge if self._layout is not None else None
        QToolTip.showText(event.globalPosition().toPoint(),
                          tooltip_html(hits[:8], max(0, len(hits) - 8), judge), self)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self._press is None:
            return super().mouseReleaseEvent(event)
        pos = event.position()
        if self._dragging_now:
            self._dragging_now = False
            self._press = None
            self.nowChanged.emit(self.now())
            return
        was_panning = self._panning
        self._press = None
        self._panning = False
        self.unsetCursor()
        if was_panning:
            return
        self._click(pos)

    def _click(self, pos: QPointF) -> None:
        hits = self.events_at(pos)
        if not hits:
            return
        ids = [e.id for e in hits]
        target = ids[0]
        # Clicking again on a stack of events at one time steps through them.
        if self._last_click is not None and self._selected in ids:
            last_pos, last_ids = self._last_click
            if (last_pos - pos.toPoint()).manhattanLength() <= HIT_PX and last_ids == ids:
                target = ids[(ids.index(self._selected) + 1) % len(ids)]
        self._last_click = (pos.toPoint(), ids)
        self.select_event(target)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        hits = self.events_at(pos)
        if hits:
            self.eventActivated.emit(hits[0].id)
        elif pos.y() >= AXIS_H:
            self.zoom_by(2.0, pos.x())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, mods = event.key(), event.modifiers()
        ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
        step = self.plot_width / (2 if mods & Qt.KeyboardModifier.ShiftModifier else 8)
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_in()
        elif key in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
            self.zoom_out()
        elif key == Qt.Key.Key_0:
            self.fit_whole_record()
        elif key == Qt.Key.Key_Left and ctrl:
            self.select_adjacent(-1)
        elif key == Qt.Key.Key_Right and ctrl:
            self.select_adjacent(1)
        elif key == Qt.Key.Key_Left:
            self.pan_by(-step)
        elif key == Qt.Key.Key_Right:
            self.pan_by(step)
        elif key == Qt.Key.Key_Up:
            self.select_adjacent_lane(-1)
        elif key == Qt.Key.Key_Down:
            self.select_adjacent_lane(1)
        elif key == Qt.Key.Key_Home:
            self.go_to_start()
        elif key == Qt.Key.Key_End:
            self.go_to_end()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self._selected:
            self.eventActivated.emit(self._selected)
        elif key == Qt.Key.Key_Escape and self._selected:
            self.select_event(None)
        else:
            return super().keyPressEvent(event)
        event.accept()

    def select_adjacent(self, step: int) -> str | None:
        """Select the previous (-1) or next (+1) event in the selected event's lane."""
        if self._layout is None or not self._slots:
            return None
        loc = self._layout.locate(self._selected) if self._selected else None
        if loc is None or loc[0] not in {s.lane for s in self._slots}:
            t0, t1 = self.window()
            lane_no = self._slots[0].lane
            lane = self._layout.lanes[lane_no]
            i = int(np.searchsorted(lane.starts, (t0 + t1) / 2))
            loc = (lane_no, min(max(i, 0), len(lane) - 1))
            step = 0
        lane = self._layout.lanes[loc[0]]
        i = min(max(loc[1] + step, 0), len(lane) - 1)
        return self._select_and_show((loc[0], i))

    def select_adjacent_lane(self, step: int) -> str | None:
        """Move the selection to the event nearest in time in the lane above/below."""
        if self._layout is None or not self._slots:
            return None
        order = [s.lane for s in self._slots]
        loc = self._layout.locate(self._selected) if self._selected else None
        t0, t1 = self.window()
        if loc is None or loc[0] not in order:
            pos, t = 0, (t0 + t1) / 2
        else:
            pos = min(max(order.index(loc[0]) + step, 0), len(order) - 1)
            t = float(self._layout.lanes[loc[0]].starts[loc[1]])
        lane = self._layout.lanes[order[pos]]
        i = int(np.searchsorted(lane.starts, t))
        candidates = [k for k in (i - 1, i) if 0 <= k < len(lane)]
        best = min(candidates, key=lambda k: abs(float(lane.starts[k]) - t))
        return self._select_and_show((order[pos], best))

    def _select_and_show(self, loc: tuple[int, int]) -> str:
        assert self._layout is not None
        event_id = self._layout.lanes[loc[0]].events[loc[1]].id
        s = float(self._layout.lanes[loc[0]].starts[loc[1]])
        t0, t1 = self.window()
        if not t0 <= s <= t1:
            self.centre_on(s)
        self.select_event(event_id)
        return event_id

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        menu = QMenu(self)
        x = float(event.pos().x())
        here = QAction("Set 'now' here (the model sees events up to this time)", menu)
        here.triggered.connect(lambda: self.set_now(datetime.fromtimestamp(self.time_at(x), UTC)))
        here.setEnabled(x >= LABEL_W and self._layout is not None)
        clear = QAction("Clear 'now' (the model sees the whole record)", menu)
        clear.triggered.connect(lambda: self.set_now(None))
        clear.setEnabled(self._now is not None)
        zoom = QAction("Zoom in here", menu)
        zoom.triggered.connect(lambda: self.zoom_by(2.0, x))
        episode = QAction("Current episode", menu)
        episode.triggered.connect(self.show_current_episode)
        fit = QAction("Fit whole record", menu)
        fit.triggered.connect(self.fit_whole_record)
        for action in (here, clear, zoom, episode, fit):
            menu.addAction(action)
        menu.exec(event.globalPos())
