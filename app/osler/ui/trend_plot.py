"""Trend of a vital sign or lab over time (pyqtgraph), with its reference range shaded.

pyqtgraph is imported when the first trend is shown, so the window opens fast.
"""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QStackedLayout, QWidget

from osler.findings.abnormal import AbnormalJudge
from osler.record import Event, EventKind, Timeline
from osler.ui.event_text import format_value, format_when
from osler.ui.theme import LIGHT, TimelineColours
from osler.ui.timeline_layout import is_abnormal, patient_judge

if TYPE_CHECKING:
    from osler.ui.timeline_view import TimelineView

SYSTOLIC, DIASTOLIC = "8480-6", "8462-4"
BLOOD_PRESSURE = (SYSTOLIC, DIASTOLIC)
TRENDABLE = (EventKind.VITAL, EventKind.LAB, EventKind.OBSERVATION)
DAY = 86400.0


@dataclass(frozen=True, slots=True)
class Series:
    """One code's numeric values over time, with the range the source gave most often."""

    code: str
    label: str
    unit: str | None
    events: tuple[Event, ...]
    low: float | None
    high: float | None
    marks: tuple[bool, ...] = ()  # abnormal, as the timeline marks them

    @property
    def times(self) -> np.ndarray:
        return np.array([e.time.timestamp() for e in self.events if e.time is not None])

    @property
    def values(self) -> np.ndarray:
        return np.array([e.numeric for e in self.events], dtype=float)

    @property
    def abnormal(self) -> np.ndarray:
        marks = self.marks or tuple(is_abnormal(e) for e in self.events)
        return np.array(marks, dtype=bool)


def is_measurement(event: Event) -> bool:
    """A value the trend pane can plot: a numeric vital sign, lab or observation."""
    return event.kind in TRENDABLE and event.numeric is not None


def series_for(timeline: Timeline, event: Event,
               judge: AbnormalJudge | None = None) -> list[Series]:
    """The series to plot for a selected event: its code, or systolic+diastolic together;
    abnormal points by the source's flags and, with `judge`, the KB's rules."""
    code = event.code.code if event.code else None
    if code is None or event.numeric is None:
        return []
    codes = BLOOD_PRESSURE if code in BLOOD_PRESSURE else (code,)
    out = []
    for c in codes:
        events = tuple(timeline.series(c))
        if not events:
            continue
        ranges = Counter(
            (e.reference_range.low, e.reference_range.high) for e in events
            if e.reference_range is not None
            and (e.reference_range.low is not None or e.reference_range.high is not None)
        )
        low, high = ranges.most_common(1)[0][0] if ranges else (None, None)
        first = events[-1]
        marks = tuple(is_abnormal(e, judge) for e in events)
        out.append(Series(c, first.display, first.unit, events, low, high, marks))
    return out


class TrendPlot(QWidget):
    """Plot area for the selected vital/lab; a hint when nothing plottable is selected."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("trendPlot")
        self.setAccessibleName("Trend plot")
        self.setAccessibleDescription(
            "Values of the selected vital sign or lab over time; the shaded band is the "
            "reference range from the record, square red points are outside it")
        self._stack = QStackedLayout(self)
        self._hint = QLabel("Select a vital sign or lab to see its trend.")
        self._hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._hint.setWordWrap(True)
        self._hint.setAccessibleName("Trend plot hint")
        self._stack.addWidget(self._hint)
        self._plot = None  # pyqtgraph.PlotWidget, created on first use
        self._colours = LIGHT
        self._now_line = None
        self._now: datetime | None = None
        self.series: list[Series] = []
        self.range_shown: tuple[float | None, float | None] | None = None
        self.value_text = ""  # the selected value as the title shows it
        self.view: TimelineView | None = None
        self._judge: tuple[Timeline, AbnormalJudge | None] | None = None

    def follow(self, view: TimelineView) -> None:
        """Take the timeline's abnormal rules, and clear when it selects a non-measurement."""
        if self.view is view:
            return
        self.view = view
        view.eventSelected.connect(self._selected_on_timeline)

    def _selected_on_timeline(self, event_id: str) -> None:
        layout = self.view.record if self.view is not None else None
        event = layout.timeline.get(event_id) if layout is not None else None
        if event is not None and not is_measurement(event):
            self.clear()

    def _judge_for(self, timeline: Timeline) -> AbnormalJudge | None:
        """The followed timeline's rules for its record, else the app KB's for this one."""
        layout = self.view.record if self.view is not None else None
        if layout is not None and layout.timeline is timeline:
            return layout.judge
        if self._judge is None or self._judge[0] is not timeline:
            self._judge = (timeline, patient_judge(timeline))
        return self._judge[1]

    def set_colours(self, colours: TimelineColours) -> None:
        self._colours = colours
        if self._plot is not None:
            self._style_plot()

    def clear(self, hint: str = "Select a vital sign or lab to see its trend.") -> None:
        self.series = []
        self.range_shown = None
        self.value_text = ""
        self._hint.setText(hint)
        self._stack.setCurrentWidget(self._hint)

    def set_now(self, when: datetime | None) -> None:
        """Draw the 'now' cursor on the plot too."""
        self._now = when
        self._draw_now()

    def show_for(self, timeline: Timeline, event: Event) -> bool:
        """Plot the trend of the event's code; False (and a hint) when it has none."""
        if event.kind not in TRENDABLE:
            self.clear()
            return False
        series = series_for(timeline, event, self._judge_for(timeline))
        if not series:
            self.clear(f"{event.display}: no numeric values to plot.")
            return False
        self._ensure_plot()
        self._draw(series, event)
        self._stack.setCurrentWidget(self._plot)
        return True

    def _ensure_plot(self) -> None:
        if self._plot is not None:
            return
        import pyqtgraph as pg

        pg.setConfigOptions(antialias=True)
        plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
        plot.setAccessibleName("Trend plot")
        plot.setMenuEnabled(False)
        plot.showGrid(x=True, y=True, alpha=0.25)
        plot.addLegend(offset=(-8, -8))  # bottom right, away from recent values
        self._plot = plot
        self._stack.addWidget(plot)
        self._style_plot()

    def _style_plot(self) -> None:
        c = self._colours
        self._plot.setBackground(QColor(c.background))
        for name in ("left", "bottom"):
            axis = self._plot.getAxis(name)
            axis.setPen(QColor(c.muted))
            axis.setTextPen(QColor(c.text))

    def _draw(self, series: list[Series], selected: Event) -> None:
        import pyqtgraph as pg

        c = self._colours
        plot = self._plot
        plot.clear()
        self._now_line = None
        legend = plot.plotItem.legend
        if legend is not None:
            legend.clear()
        palette = [c.kinds.get("vital", "#CC79A7"), c.kinds.get("encounter", "#0072B2")]
        if selected.kind == EventKind.LAB:
            palette = [c.kinds.get("lab", "#B07800"), palette[1]]
        shown_range = None
        for n, s in enumerate(series):
            colour = QColor(palette[n % len(palette)])
            if s.low is not None or s.high is not None:
                lo = s.low if s.low is not None else min(0.0, float(np.nanmin(s.values)))
                hi = s.high if s.high is not None else float(np.nanmax(s.values))
                band = QColor(colour)
                band.setAlpha(40)
                region = pg.LinearRegionItem(values=(lo, hi), orientation="horizontal",
                                             movable=False, brush=band,
                                             pen=pg.mkPen(band.darker(120), width=1))
                region.setZValue(-10)
                plot.addItem(region)
                shown_range = (s.low, s.high)
            label = s.label + (f" ({s.unit})" if s.unit else "")
            t, v, abn = s.times, s.values, s.abnormal
            plot.plot(t, v, pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=6,
                      symbolBrush=colour, symbolPen=None,
                      name=label if len(series) > 1 else None)
            if abn.any():
                plot.plot(t[abn], v[abn], pen=None, symbol="s", symbolSize=9,
                          symbolBrush=QColor(c.abnormal), symbolPen=pg.mkPen("#FFFFFF"))
            hit = [i for i, e in enumerate(s.events) if e.id == selected.id]
            if hit:
                plot.plot(t[hit], v[hit], pen=None, symbol="o", symbolSize=16,
                          symbolBrush=None, symbolPen=pg.mkPen(QColor(c.selection), width=2))
        title = " / ".join(s.label for s in series)
        self.value_text = format_value(selected)
        if self.value_text:
            when = format_when(selected.time, selected.time_precision)
            title += f" — {self.value_text}, {when}"
        unit = series[0].unit
        plot.setTitle(html.escape(title), color=c.text, size="10pt")
        plot.setLabel("left", unit or "")
        plot.enableAutoRange()
        times = np.concatenate([s.times for s in series])
        if len(times) and times.max() - times.min() < 2 * DAY:
            # One visit: show two days around it, else the date axis shows fractions of a second.
            mid = (times.max() + times.min()) / 2
            plot.setXRange(mid - DAY, mid + DAY, padding=0)
        self.series = series
        self.range_shown = shown_range
        self._draw_now()

    def _draw_now(self) -> None:
        if self._plot is None:
            return
        import pyqtgraph as pg

        if self._now_line is not None:
            self._plot.removeItem(self._now_line)
            self._now_line = None
        if self._now is not None and self.series:
            self._now_line = pg.InfiniteLine(
                pos=self._now.timestamp(), angle=90, movable=False,
                pen=pg.mkPen(QColor(self._colours.now), width=2, style=Qt.PenStyle.DashLine))
            self._plot.addItem(self._now_line, ignoreBounds=True)
