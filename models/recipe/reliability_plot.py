"""Reliability diagrams (PNG) of the text calibration, drawn with Qt (no plotting library).

Called by calibrate.py; one picture per development set and engine: observed accuracy of the
top diagnosis against the probability shown, in ten bins, for the uncalibrated scores (grey)
and for the calibrated probabilities on the dev half (blue) and on the untouched check half
(orange); the marker's area grows with the number of cases in the bin.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

SIZE = 520
MARGIN = 60
SERIES = (("uncalibrated, both halves", "#9e9e9e"), ("calibrated, dev half", "#1f77b4"),
          ("calibrated, check half", "#ff7f0e"))


def _points(entry: dict, set_name: str) -> list[list[tuple[float, float, int]]]:
    def rows(table: list[dict]) -> list[tuple[float, float, int]]:
        return [(r["confidence"], r["accuracy"], r["count"]) for r in table if r["count"]]

    dev, check = entry["sets"][f"{set_name}/dev"], entry["sets"][f"{set_name}/check"]
    uncal = rows(dev["uncalibrated"].get("reliability", [])) + rows(
        check["uncalibrated"].get("reliability", []))
    return [uncal, rows(dev["calibrated"]["reliability"]),
            rows(check["calibrated"]["reliability"])]


def draw(entry: dict, set_name: str, engine: str, path: Path) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QPointF, QRectF, Qt
    from PySide6.QtGui import QColor, QFont, QGuiApplication, QImage, QPainter, QPen

    _app = QGuiApplication.instance() or QGuiApplication([])
    img = QImage(SIZE, SIZE, QImage.Format.Format_ARGB32)
    img.fill(QColor("white"))
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    w = SIZE - 2 * MARGIN

    def at(x: float, y: float) -> QPointF:
        return QPointF(MARGIN + x * w, SIZE - MARGIN - y * w)

    p.setPen(QPen(QColor("#cccccc"), 1))
    for i in range(11):
        p.drawLine(at(i / 10, 0), at(i / 10, 1))
        p.drawLine(at(0, i / 10), at(1, i / 10))
    p.setPen(QPen(QColor("#555555"), 1, Qt.PenStyle.DashLine))
    p.drawLine(at(0, 0), at(1, 1))
    p.setPen(QPen(QColor("black"), 1))
    p.drawRect(QRectF(at(0, 1), at(1, 0)))
    font = QFont()
    font.setPointSize(9)
    p.setFont(font)
    for i in range(0, 11, 2):
        p.drawText(at(i / 10, 0) + QPointF(-8, 16), f"{i / 10:.1f}")
        p.drawText(at(0, i / 10) + QPointF(-30, 4), f"{i / 10:.1f}")
    p.drawText(QPointF(MARGIN + w / 2 - 110, SIZE - 14),
               "probability shown for the top diagnosis")
    p.save()
    p.translate(16, SIZE / 2 + 70)
    p.rotate(-90)
    p.drawText(QPointF(0, 0), "how often it was right")
    p.restore()
    title = QFont()
    title.setPointSize(11)
    title.setBold(True)
    p.setFont(title)
    p.drawText(QPointF(MARGIN, 28), f"{set_name} - {engine}")
    p.setFont(font)
    for (_label, colour), pts in zip(SERIES, _points(entry, set_name), strict=True):
        c = QColor(colour)
        p.setPen(QPen(c, 2))
        ordered = sorted(pts)
        for a, b in itertools.pairwise(ordered):
            p.drawLine(at(a[0], a[1]), at(b[0], b[1]))
        p.setBrush(c)
        for x, y, n in ordered:
            r = 3 + min(n, 40) ** 0.5 * 1.4
            p.drawEllipse(at(x, y), r, r)
    for i, (label, colour) in enumerate(SERIES):
        y = MARGIN + 8 + i * 16
        p.setPen(QPen(QColor(colour), 2))
        p.setBrush(QColor(colour))
        p.drawEllipse(QPointF(MARGIN + 10, y), 4, 4)
        p.setPen(QColor("black"))
        p.drawText(QPointF(MARGIN + 20, y + 4), label)
    p.end()
    img.save(str(path))


def draw_all(report: dict, folder: Path) -> list[Path]:
    out = []
    for engine, entry in report["engines"].items():
        for set_name in sorted({k.split("/")[0] for k in entry["sets"]}):
            path = folder / f"reliability_{set_name}_{engine}.png"
            draw(entry, set_name, engine, path)
            out.append(path)
    return out
