"""Hand numpy coordinates to QPainter in one call: a QPolygonF filled through its buffer."""

from __future__ import annotations

from functools import cache

import numpy as np
from PySide6.QtCore import QPointF
from PySide6.QtGui import QPolygonF


def _fill_in_place(xs: np.ndarray, ys: np.ndarray) -> QPolygonF:
    import shiboken6

    n = len(xs)
    poly = QPolygonF()
    poly.resize(n)
    if n:
        view = np.frombuffer(shiboken6.VoidPtr(poly.data(), 16 * n, True), np.float64)
        coords = view.reshape(n, 2)
        coords[:, 0] = xs
        coords[:, 1] = ys
    return poly


@cache
def _in_place_works() -> bool:
    """QPolygonF's memory layout is two doubles per point on every platform we know; check."""
    try:
        poly = _fill_in_place(np.array([1.5, 3.0]), np.array([2.5, 4.0]))
    except Exception:
        return False
    return [(p.x(), p.y()) for p in poly] == [(1.5, 2.5), (3.0, 4.0)]


def polygon(xs: np.ndarray, ys: np.ndarray) -> QPolygonF:
    """Points (xs[i], ys[i]) as a QPolygonF; fast path without a Python loop per point."""
    xs = np.asarray(xs, dtype=np.float64)
    ys = np.broadcast_to(np.asarray(ys, dtype=np.float64), xs.shape)
    if _in_place_works():
        return _fill_in_place(xs, ys)
    return QPolygonF([QPointF(float(x), float(y)) for x, y in zip(xs, ys)])
