"""How the timeline is drawn: lane geometry and the painting of one frame.

Each frame finds the visible events by bisection, draws points in one batched call,
turns dense stretches into a histogram rasterised with numpy, and merges crowded spans,
so the cost depends on the pixels shown rather than on the size of the record.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPen

from osler.ui.event_text import format_when, summary
from osler.ui.point_batch import polygon
from osler.ui.theme import TimelineColours
from osler.ui.time_axis import SAMPLE_LABELS, ticks
from osler.ui.timeline_layout import Lane, TimelineLayout

LABEL_W = 170
AXIS_H = 30
POINT_LANE_H = 28
MIN_LANE_H = 16
ROW_H = 11
LANE_PAD = 6
MARKER = 8
BIN_PX = 3
MIN_SECONDS_PER_PX = 0.5
HIT_PX = 5
FLASHES = 6
MIN_LABEL_PX = 36
LABEL_GAP = 4

@dataclass(frozen=True, slots=True)
class LaneSlot:
    """Where a lane is drawn this frame."""

    lane: int
    y: float
    height: float
    row_h: float

    def row_center(self, rows: np.ndarray | int) -> np.ndarray | float:
        return self.y + LANE_PAD / 2 + (np.asarray(rows) + 0.5) * self.row_h


@dataclass(slots=True)
class FrameStats:
    """What the last paint drew, for tests and the benchmark."""

    lanes: int = 0
    points: int = 0
    spans: int = 0
    aggregated_lanes: int = 0
    labels: list[tuple[QRectF, str]] = field(default_factory=list)  # drawn text, where


class LabelRows:
    """Where labels were drawn this frame, per lane row, so that no two ever overlap."""

    def __init__(self) -> None:
        self._taken: dict[tuple[int, int], list[tuple[float, float]]] = {}

    def room(self, key: tuple[int, int], left: float, right: float
             ) -> tuple[float, float] | None:
        """The stretch of [left, right] free of labels in this row, starting as far left as
        it can; None when less than MIN_LABEL_PX is left."""
        for a, b in self._taken.get(key, ()):
            if b + LABEL_GAP <= left:
                continue
            if a - LABEL_GAP <= left:
                left = b + LABEL_GAP
                continue
            right = min(right, a - LABEL_GAP)
            break
        return (left, right) if right - left >= MIN_LABEL_PX else None

    def take(self, key: tuple[int, int], left: float, right: float) -> None:
        bisect.insort(self._taken.setdefault(key, []), (left, right))


def _premultiply(colour: QColor) -> np.uint32:
    """ARGB32 premultiplied pixel value of a colour."""
    a = colour.alpha()
    r, g, b = (round(v * a / 255) for v in (colour.red(), colour.green(), colour.blue()))
    return np.uint32((a << 24) | (r << 16) | (g << 8) | b)


def _distinct(xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop markers that would land on the same half-pixel (simultaneous vitals, panels)."""
    if len(xs) < 2:
        return xs, ys
    keys = np.rint(xs * 2).astype(np.int64) * 8192 + np.rint(ys).astype(np.int64)
    _, first = np.unique(keys, return_index=True)
    return xs[first], ys[first]


class TimelinePainter:
    """Painting half of TimelineView (a mixin: it reads the view's state, never changes it)."""

    empty_text: str | None = None  # what an empty view says (the window sets it per state)
    _layout: TimelineLayout | None
    _colours: TimelineColours
    _slots: list[LaneSlot]
    _t0: float
    _spp: float
    _now: float | None
    _selected: str | None
    _match_masks: dict[int, np.ndarray]
    _flash_left: int
    _small: QFont
    _bold: QFont
    stats: FrameStats
    _labels: LabelRows


    def _paint(self, p: QPainter) -> None:
        c = self._colours
        w, h = self.width(), self.height()
        p.fillRect(0, 0, w, h, QColor(c.background))
        self.stats = FrameStats()
        self._labels = LabelRows()
        if self._layout is None or not self._layout.lanes:
            self._paint_empty(p)
            return
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        t0, t1 = self.window()
        tick_list = self._ticks(t0, t1)
        self._paint_lane_backgrounds(p)
        self._paint_grid(p, tick_list)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for slot in self._slots:
            self._paint_lane(p, slot, t0, t1)
        self._paint_now(p)
        self._paint_axis(p, tick_list)
        self._paint_gutter(p)
        if self.hasFocus():
            pen = QPen(QColor(c.selection), 1, Qt.PenStyle.DotLine)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(QRectF(0.5, 0.5, w - 1, h - 1))

    def _paint_empty(self, p: QPainter) -> None:
        p.setPen(QColor(self._colours.muted))
        if self._layout is None:
            text = self.empty_text or (
                "No record open.\nFile ▸ Open (Ctrl+O), a demo case, or drop a FHIR file "
                "or folder here.")
        else:
            n = len(self._layout.undated)
            text = "This record has no dated events." + (
                f"\n{n} undated event(s) are listed under 'Undated'." if n else "")
        p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, text)

    def _ticks(self, t0: float, t1: float):
        fm = QFontMetrics(self._small)
        widths = {unit: fm.horizontalAdvance(sample) for unit, sample in SAMPLE_LABELS.items()}
        return ticks(t0, t1, self._spp, lambda unit: widths[unit])

    def _paint_lane_backgrounds(self, p: QPainter) -> None:
        alt = QColor(self._colours.lane_alt)
        for n, slot in enumerate(self._slots):
            if n % 2:
                p.fillRect(QRectF(0, slot.y, self.width(), slot.height), alt)

    def _paint_grid(self, p: QPainter, tick_list) -> None:
        c = self._colours
        bottom = self._slots[-1].y + self._slots[-1].height if self._slots else self.height()
        grid, major = QColor(c.grid), QColor(c.grid).darker(125)
        for tick in tick_list:
            x = self.x_of(tick.seconds)
            p.setPen(major if tick.major else grid)
            p.drawLine(QPointF(x, AXIS_H), QPointF(x, bottom))

    def _paint_axis(self, p: QPainter, tick_list) -> None:
        c = self._colours
        p.fillRect(QRectF(LABEL_W, 0, self.width() - LABEL_W, AXIS_H - 1), QColor(c.background))
        p.setPen(QColor(c.grid))
        p.drawLine(QPointF(LABEL_W, AXIS_H - 1), QPointF(self.width(), AXIS_H - 1))
        p.setFont(self._small)
        text_col, muted = QColor(c.text), QColor(c.muted)
        for tick in tick_list:
            x = self.x_of(tick.seconds)
            p.setPen(muted)
            p.drawLine(QPointF(x, AXIS_H - 7), QPointF(x, AXIS_H - 1))
            p.setPen(text_col if tick.major else muted)
            p.drawText(QPointF(x + 3, AXIS_H - 10), tick.label)
        self._paint_now_handle(p)

    def _paint_gutter(self, p: QPainter) -> None:
        assert self._layout is not None
        c = self._colours
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.fillRect(QRectF(0, 0, LABEL_W, self.height()), QColor(c.background))
        for n, slot in enumerate(self._slots):
            if n % 2:
                p.fillRect(QRectF(0, slot.y, LABEL_W, slot.height), QColor(c.lane_alt))
        p.setPen(QColor(c.grid))
        p.drawLine(QPointF(LABEL_W - 0.5, 0), QPointF(LABEL_W - 0.5, self.height()))
        fm = QFontMetrics(self._bold)
        for slot in self._slots:
            lane = self._layout.lanes[slot.lane]
            swatch = c.kind(lane.kind.value)
            p.fillRect(QRectF(6, slot.y + 4, 4, max(4.0, slot.height - 8)), swatch)
            p.setFont(self._bold)
            p.setPen(QColor(c.text))
            title = fm.elidedText(lane.title, Qt.TextElideMode.ElideRight, LABEL_W - 60)
            baseline = slot.y + min(slot.height / 2 + fm.ascent() / 2 - 1, 18)
            p.drawText(QPointF(16, baseline), title)
            p.setFont(self._small)
            p.setPen(QColor(c.muted))
            p.drawText(QRectF(16, slot.y, LABEL_W - 22, min(slot.height, 26)),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                       f"{len(lane):,}")
        p.setFont(self._small)
        p.setPen(QColor(c.muted))
        n_undated = len(self._layout.undated)
        corner = f"{n_undated} undated" if n_undated else "time ▸"
        p.drawText(QRectF(6, 0, LABEL_W - 12, AXIS_H - 2),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, corner)

    def _paint_lane(self, p: QPainter, slot: LaneSlot, t0: float, t1: float) -> None:
        assert self._layout is not None
        lane = self._layout.lanes[slot.lane]
        colour = self._colours.kind(lane.kind.value)
        margin = MARKER * self._spp
        self.stats.lanes += 1
        spans = lane.visible_spans(t0 - margin, t1 + margin)
        if len(spans):
            self._paint_spans(p, slot, lane, spans, colour)
        pts = lane.visible_points(t0 - margin, t1 + margin)
        if len(pts):
            self._paint_points(p, slot, lane, pts, colour)
        self._paint_selection(p, slot, lane)

    def _paint_points(self, p: QPainter, slot: LaneSlot, lane: Lane, pts: np.ndarray,
                      colour: QColor) -> None:
        c = self._colours
        xs = LABEL_W + (lane.starts[pts] - self._t0) / self._spp
        abn = lane.abnormal[pts]
        mask = self._match_masks.get(slot.lane)
        dense = len(pts) > self.plot_width / 2
        if dense:
            self.stats.aggregated_lanes += 1
            p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            self.stats.points += self._paint_density(p, slot, xs, colour)
            top = slot.y + 3
            if abn.any():
                cols = np.unique((xs[abn] // 2).astype(np.int64)) * 2.0
                p.setPen(QPen(QColor(c.abnormal), 3, Qt.PenStyle.SolidLine,
                              Qt.PenCapStyle.SquareCap))
                p.drawPoints(polygon(cols, np.full(len(cols), top)))
            if mask is not None:
                hit = mask[pts]
                if hit.any():
                    cols = np.unique((xs[hit] // 2).astype(np.int64)) * 2.0
                    p.setPen(QPen(QColor(c.match), 5, Qt.PenStyle.SolidLine,
                                  Qt.PenCapStyle.RoundCap))
                    p.drawPoints(polygon(cols, np.full(len(cols), slot.y + slot.height - 4)))
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            return
        ys = slot.row_center(lane.rows[pts]) if lane.row_count > 1 else \
            np.full(len(pts), slot.row_center(0))
        self.stats.points += len(pts)
        if mask is not None:
            hit = mask[pts]
            if hit.any():
                halo = QColor(c.match)
                halo.setAlpha(200)
                p.setPen(QPen(halo, MARKER + 7, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
                p.drawPoints(polygon(xs[hit], ys[hit]))
        normal = ~abn
        if normal.any():
            p.setPen(QPen(colour, MARKER, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            p.drawPoints(polygon(*_distinct(xs[normal], ys[normal])))
        if abn.any():
            p.setPen(QPen(QColor(c.abnormal), MARKER, Qt.PenStyle.SolidLine,
                          Qt.PenCapStyle.SquareCap))
            p.drawPoints(polygon(*_distinct(xs[abn], ys[abn])))
        if len(pts) <= self.plot_width / 70:
            self._paint_point_labels(p, slot, lane, pts, xs, ys)

    def _paint_density(self, p: QPainter, slot: LaneSlot, xs: np.ndarray,
                       colour: QColor) -> int:
        """Dense events as a histogram (log scale) in one polygon; returns the bins drawn."""
        n_bins = int(self.plot_width // BIN_PX) + 1
        bins = ((xs - LABEL_W) // BIN_PX).astype(np.int64)
        bins = bins[(bins >= 0) & (bins < n_bins)]
        if not len(bins):
            return 0
        counts = np.bincount(bins, minlength=n_bins)
        scale = (slot.height - 8) / math.log1p(float(counts.max()))
        heights = np.where(counts > 0, np.maximum(2.0, np.log1p(counts) * scale), 0.0)
        # Rasterise the histogram with numpy and blit it once: cheaper than a shape per bin.
        rows = max(1, int(slot.height - 5))
        tops = rows - np.repeat(np.rint(heights).astype(np.int64), BIN_PX)
        tops[BIN_PX - 1 :: BIN_PX] = rows  # a 1-px gap between bins
        fill = QColor(colour)
        fill.setAlpha(170)
        pixels = np.where(np.arange(rows)[:, None] >= tops[None, :], _premultiply(fill),
                          np.uint32(0)).astype(np.uint32)
        image = QImage(pixels.data, pixels.shape[1], rows, pixels.shape[1] * 4,
                       QImage.Format.Format_ARGB32_Premultiplied)
        p.drawImage(QPointF(LABEL_W, slot.y + 2), image)
        return int(np.count_nonzero(counts))

    def _paint_point_labels(self, p: QPainter, slot: LaneSlot, lane: Lane, pts: np.ndarray,
                            xs: np.ndarray, ys: np.ndarray) -> None:
        if slot.row_h < 11:
            return
        p.setFont(self._small)
        fm = QFontMetrics(self._small)
        p.setPen(QColor(self._colours.text))
        judge = self._layout.judge if self._layout is not None else None
        order = np.argsort(xs, kind="stable")
        for k, j in enumerate(order):
            x = float(xs[j]) + MARKER / 2 + 3
            nxt = float(xs[order[k + 1]]) - MARKER if k + 1 < len(order) else self.width() - 4
            i = int(pts[j])
            key = (slot.lane, int(lane.rows[i]) if lane.row_count > 1 else 0)
            free = self._labels.room(key, x, nxt)
            if free is None or free[0] > x:  # a label must start next to its marker
                continue
            text = fm.elidedText(summary(lane.events[i], judge), Qt.TextElideMode.ElideRight,
                                 int(free[1] - x))
            h = min(float(fm.height()), slot.row_h - 1)
            self._draw_label(p, fm, key, x, float(ys[j]) - h / 2, h, text)

    def _draw_label(self, p: QPainter, fm: QFontMetrics, key: tuple[int, int], x: float,
                    top: float, h: float, text: str) -> None:
        """Draw one label left-aligned at x, vertically centred in [top, top + h]."""
        if not text:
            return
        width = float(fm.horizontalAdvance(text))
        rect = QRectF(x, top, width + 1, h)
        p.drawText(rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
        self._labels.take(key, x, x + width)
        self.stats.labels.append((rect, text))

    def _paint_spans(self, p: QPainter, slot: LaneSlot, lane: Lane, spans: np.ndarray,
                     colour: QColor) -> None:
        c = self._colours
        right = float(self.width()) + 4
        x0 = np.maximum(LABEL_W + (lane.starts[spans] - self._t0) / self._spp, LABEL_W - 4)
        ends = lane.ends[spans]
        x1 = np.where(np.isfinite(ends), LABEL_W + (np.minimum(ends, 4e11) - self._t0)
                      / self._spp, right)
        rows = lane.rows[spans]
        h = max(2.0, slot.row_h - 2)
        fill = QColor(colour)
        fill.setAlpha(200)
        if len(spans) > self.plot_width / 4:
            # Too many to draw one by one: spans shorter than 2 px (visits at a coarse zoom)
            # become a density histogram, longer ones merged bars per row.
            self.stats.aggregated_lanes += 1
            short = (x1 - x0) < 2
            if short.mean() < 0.8:  # mostly real spans (conditions, drugs): keep their rows
                short[:] = False
                x1 = np.maximum(x1, x0 + 2)
            if short.any():
                p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
                self.stats.points += self._paint_density(p, slot, x0[short], colour)
                p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            if not short.all():
                keep = ~short
                self._paint_span_coverage(p, slot, lane, x0[keep], x1[keep], rows[keep], h,
                                          fill)
            return
        x1 = np.minimum(np.maximum(x1, x0 + 3), right)
        tops = slot.row_center(rows) - h / 2
        self.stats.spans += len(spans)
        mask = self._match_masks.get(slot.lane)
        if mask is not None and mask[spans].any():
            hit = np.flatnonzero(mask[spans])
            p.setPen(QPen(QColor(c.match), 3))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRects([QRectF(x0[k] - 2, tops[k] - 2, x1[k] - x0[k] + 4, h + 4) for k in hit])
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(fill)
        p.drawRects([QRectF(a, t, b - a, h) for a, b, t in zip(x0, x1, tops)])
        p.setBrush(Qt.BrushStyle.NoBrush)
        if h >= 9 and len(spans) <= 300:
            p.setFont(self._small)
            fm = QFontMetrics(self._small)
            ink = QColor("#FFFFFF") if fill.lightness() < 150 else QColor("#000000")
            p.setPen(ink)
            for k, i in enumerate(spans):
                # Inside its own bar, and clear of labels already in the row (rows past
                # MAX_ROWS are shared, so bars there can overlap).
                key = (slot.lane, int(rows[k]))
                free = self._labels.room(key, max(x0[k], LABEL_W) + 3, float(x1[k]) - 3)
                if free is None:
                    continue
                text = fm.elidedText(lane.events[int(i)].display, Qt.TextElideMode.ElideRight,
                                     int(free[1] - free[0]))
                self._draw_label(p, fm, key, free[0], float(tops[k]), h, text)

    def _paint_span_coverage(self, p: QPainter, slot: LaneSlot, lane: Lane, x0: np.ndarray,
                             x1: np.ndarray, rows: np.ndarray, h: float, fill: QColor) -> None:
        """Dense spans drawn as one bar per covered stretch of pixels in each row."""
        width = int(self.width()) + 8
        rects = []
        for row in np.unique(rows):
            sel = rows == row
            a = np.clip(x0[sel].astype(np.int64), 0, width)
            b = np.clip(np.ceil(x1[sel]).astype(np.int64), 0, width)
            depth = np.cumsum(np.bincount(a, minlength=width + 1)[: width + 1]
                              - np.bincount(b, minlength=width + 1)[: width + 1])
            covered = np.concatenate(([0], (depth > 0).astype(np.int8), [0]))
            edges = np.diff(covered)
            runs = zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1))
            top = float(slot.row_center(int(row))) - h / 2
            rects.extend(QRectF(float(s), top, float(e - s), h) for s, e in runs)
        self.stats.spans += len(rects)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(fill)
        p.drawRects(rects)
        p.setBrush(Qt.BrushStyle.NoBrush)

    def _paint_selection(self, p: QPainter, slot: LaneSlot, lane: Lane) -> None:
        if self._selected is None or self._layout is None:
            return
        loc = self._layout.locate(self._selected)
        if loc is None or loc[0] != slot.lane:
            return
        rect = self.event_rect(self._selected)
        if rect is None:
            return
        c = self._colours
        flash_on = self._flash_left > 0 and self._flash_left % 2 == 0
        grow = 9.0 if flash_on else 3.0
        pen = QPen(QColor(c.match if flash_on else c.selection), 3 if flash_on else 2)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        if lane.spans[loc[1]]:
            p.drawRect(rect.adjusted(-grow, -grow, grow, grow))
        else:
            p.drawEllipse(rect.center(), rect.width() / 2 + grow, rect.height() / 2 + grow)

    def _paint_now(self, p: QPainter) -> None:
        c = self._colours
        x = self._now_x()
        bottom = float(self.height())
        if self._now is not None and x < self.width():
            overlay = QColor(c.future_overlay)
            p.fillRect(QRectF(max(x, LABEL_W), AXIS_H, self.width() - max(x, LABEL_W),
                              bottom - AXIS_H), overlay)
        if LABEL_W <= x <= self.width():
            style = Qt.PenStyle.SolidLine if self._now is not None else Qt.PenStyle.DashLine
            p.setPen(QPen(QColor(c.now), 2, style))
            p.drawLine(QPointF(x, AXIS_H - 12), QPointF(x, bottom))

    def _paint_now_handle(self, p: QPainter) -> None:
        c = self._colours
        x = self._now_x()
        if not LABEL_W <= x <= self.width():
            return
        label = "now: whole record" if self._now is None else "now: " + format_when(
            self.now(), "second").removesuffix(" UTC")
        fm = QFontMetrics(self._small)
        tw = fm.horizontalAdvance(label) + 10
        left = x - tw if x + tw > self.width() else x
        box = QRectF(left, 1, tw, 14)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(c.now))
        p.drawRoundedRect(box, 3, 3)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QColor("#FFFFFF"))
        p.setFont(self._small)
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, label)
