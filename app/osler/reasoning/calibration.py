"""Calibration: temperature fitting, expected calibration error and a reliability table, and
the map from an engine's scores to the probabilities shown on real clinical writing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class TextCalibration:
    """How an engine's scores become the probabilities shown: a temperature over the
    knowledge base's conditions, and the share of cases whose diagnosis is none of them
    ('not in Osler's list'). Both are fitted on real clinical vignettes by
    models/recipe/calibrate.py (reported with cross-validation in the model card); the
    identity map (1.0, 0.0) is used, with a warning, where none was fitted."""

    temperature: float = 1.0
    unlisted: float = 0.0
    fitted: bool = False
    note: str = ""

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        """(N, C) probabilities over the KB's conditions (rows sum to 1) from log-scores."""
        z = scores / self.temperature
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)

    def to_json(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "unlisted": self.unlisted,
                "fitted": self.fitted, "note": self.note}

    @staticmethod
    def from_json(doc: dict[str, Any] | None) -> TextCalibration:
        if not doc:
            return TextCalibration()
        t, u = float(doc.get("temperature", 1.0)), float(doc.get("unlisted", 0.0))
        if not (0.05 <= t <= 100 and 0.0 <= u < 1.0):
            raise ValueError(f"calibration out of range: temperature {t}, unlisted {u}")
        return TextCalibration(t, u, bool(doc.get("fitted", True)), str(doc.get("note", "")))


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def nll(logits: np.ndarray, offset: np.ndarray, labels: np.ndarray, t: float) -> float:
    p = softmax(logits / t + offset)
    return float(-np.mean(np.log(np.clip(p[np.arange(len(labels)), labels], 1e-12, 1))))


def fit_temperature(logits: np.ndarray, offset: np.ndarray, labels: np.ndarray) -> float:
    """Temperature minimising NLL of softmax(logits / T + offset), by golden-section search."""
    lo, hi = np.log(0.2), np.log(10.0)
    g = (np.sqrt(5) - 1) / 2
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = nll(logits, offset, labels, np.exp(a)), nll(logits, offset, labels, np.exp(b))
    for _ in range(40):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = nll(logits, offset, labels, np.exp(a))
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = nll(logits, offset, labels, np.exp(b))
    return float(np.exp((lo + hi) / 2))


def reliability(probs: np.ndarray, labels: np.ndarray, bins: int = 10) -> tuple[float, list[dict]]:
    """ECE of the top-1 confidence and the per-bin table (range, count, confidence, accuracy)."""
    conf = probs.max(axis=1)
    pred = probs.argmax(axis=1)
    correct = pred == labels
    edges = np.linspace(0, 1, bins + 1)
    table, ece = [], 0.0
    for i in range(bins):
        lo, hi = edges[i], edges[i + 1]
        mask = (conf > lo) & (conf <= hi) if i else (conf >= lo) & (conf <= hi)
        n = int(mask.sum())
        if n:
            c, a = float(conf[mask].mean()), float(correct[mask].mean())
            ece += n / len(labels) * abs(c - a)
        else:
            c = a = float("nan")
        table.append({"bin": f"{lo:.1f}-{hi:.1f}", "count": n,
                      "confidence": None if n == 0 else round(c, 4),
                      "accuracy": None if n == 0 else round(a, 4)})
    return float(ece), table


def topk(probs: np.ndarray, labels: np.ndarray, ks: tuple[int, ...] = (1, 3, 10)
         ) -> dict[str, float]:
    """Top-k accuracy for each k."""
    order = np.argsort(-probs, axis=1)
    out = {}
    for k in ks:
        out[f"top{k}"] = float(np.mean([labels[i] in order[i, :k] for i in range(len(labels))]))
    return out
