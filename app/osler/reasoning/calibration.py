"""Calibration: temperature fitting, expected calibration error and a reliability table, and
the map from an engine's scores to the probabilities shown on real clinical writing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

ENTROPY_CENTRE = 2.0  # nats: the temperature's entropy term is centred here


@dataclass(frozen=True, slots=True)
class TextCalibration:
    """How an engine's log-scores become the probabilities shown on real clinical writing.

    - A temperature that depends on how spread the engine's own posterior is:
      T = exp(a + b * (H - 2)), H its entropy in nats. Real vignettes showed a peaked
      posterior to be overconfident and a spread one to be underconfident (b < 0);
      within one case T is the same for every condition, so the ranking never changes.
    - A share u of 'a diagnosis not in Osler's list': u = sigmoid(c0 + c1 * (1 - coverage)),
      coverage the share of the text's clauses in which a finding was read
      (findings/coverage.py): the less of a case Osler could read, the less likely its
      list holds the answer.
    - A ceiling on the leading diagnosis: its probability t is shown as
      min(t, sigmoid(d0 + d1 * logit(t))), a top-label Platt map fitted by logistic
      regression of 'the top diagnosis was right' on logit(t) over real vignettes. Real
      writing and long records hold many correlated findings that an independence model
      multiplies into near-certainty; the ceiling says only as much as the data support,
      yet stays monotone, so more evidence still moves the leader up. The excess goes to
      the other conditions in proportion: the ranking never changes and the runners-up
      stay visible.
    The six numbers are fitted on real vignettes by models/recipe/calibrate.py (reported
    with cross-validation in the model card); the identity map is used, with a warning,
    where none was fitted."""

    log_temperature: float = 0.0
    entropy_slope: float = 0.0
    unlisted_bias: float = -30.0
    unlisted_slope: float = 0.0
    fitted: bool = False
    note: str = ""
    top_intercept: float = 30.0   # the default leaves every leader as it is
    top_slope: float = 1.0

    def temperatures(self, scores: np.ndarray) -> np.ndarray:
        """(N,) temperature of each row of log-scores."""
        z = scores - scores.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        h = -(p * np.log(np.clip(p, 1e-300, 1.0))).sum(axis=1)
        return np.exp(self.log_temperature + self.entropy_slope * (h - ENTROPY_CENTRE))

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        """(N, C) probabilities over the KB's conditions (rows sum to 1) from log-scores."""
        finite = np.where(np.isfinite(scores), scores, -1e9)
        z = finite / self.temperatures(finite)[:, None]
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z) * np.isfinite(scores)
        return self.capped(p / p.sum(axis=1, keepdims=True))

    def ceiling(self, t: np.ndarray) -> np.ndarray:
        """The most a leader scored `t` may be shown at (before the unlisted share)."""
        lt = np.log(np.clip(t, 1e-12, 1 - 1e-12)) - np.log(np.clip(1 - t, 1e-12, 1))
        return 1.0 / (1.0 + np.exp(-(self.top_intercept + self.top_slope * lt)))

    def capped(self, p: np.ndarray) -> np.ndarray:
        """Rows of `p` with the leader lowered to its ceiling, the excess spread over the
        others in proportion; never so far that the runner-up would overtake it."""
        if self.top_intercept >= 30.0:
            return p
        p = p.copy()
        rows = np.arange(len(p))
        order = np.argsort(-p, axis=1)[:, :2] if p.shape[1] > 1 else None
        if order is None:
            return p
        top, second = order[:, 0], order[:, 1]
        t, s2 = p[rows, top], p[rows, second]
        rest = 1.0 - t
        keep = s2 / np.clip(rest + s2, 1e-300, None)  # lower than this reorders the list
        new = np.maximum(np.minimum(t, self.ceiling(t)), keep)
        fix = (new < t) & (rest > 0)
        if fix.any():
            p[fix] *= ((1.0 - new[fix]) / rest[fix])[:, None]
            p[rows[fix], top[fix]] = new[fix]
        return p

    def unlisted_share(self, coverage: float) -> float:
        """P(the diagnosis is none of the KB's conditions) for a case read this completely."""
        x = self.unlisted_bias + self.unlisted_slope * (1.0 - coverage)
        return float(1.0 / (1.0 + np.exp(-x)))

    def to_json(self) -> dict[str, Any]:
        return {"log_temperature": self.log_temperature, "entropy_slope": self.entropy_slope,
                "unlisted_bias": self.unlisted_bias, "unlisted_slope": self.unlisted_slope,
                "top_intercept": self.top_intercept, "top_slope": self.top_slope,
                "fitted": self.fitted, "note": self.note}

    @staticmethod
    def from_json(doc: dict[str, Any] | None) -> TextCalibration:
        if not doc:
            return TextCalibration()
        vals = [float(doc.get(k, d)) for k, d in (("log_temperature", 0.0),
                                                   ("entropy_slope", 0.0),
                                                   ("unlisted_bias", -30.0),
                                                   ("unlisted_slope", 0.0))]
        if not all(np.isfinite(v) and abs(v) <= 50 for v in vals):
            raise ValueError(f"calibration values out of range: {vals}")
        d0, d1 = float(doc.get("top_intercept", 30.0)), float(doc.get("top_slope", 1.0))
        if not (np.isfinite(d0) and np.isfinite(d1) and abs(d0) <= 30 and 0 <= d1 <= 5):
            raise ValueError(f"top-label map out of range: {d0}, {d1}")
        return TextCalibration(*vals, fitted=bool(doc.get("fitted", True)),
                               note=str(doc.get("note", "")), top_intercept=d0, top_slope=d1)


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


def fit_text_calibration(scores: np.ndarray, hits: np.ndarray, coverage: np.ndarray,
                         note: str = "") -> TextCalibration:
    """Maximum-likelihood text calibration from real vignettes.

    `scores` (N, C) are an engine's log-scores, `hits` (N, C) marks the conditions that count
    as each gold diagnosis (a row of zeros: the gold is in no KB condition), `coverage` (N,)
    how much of each text was read. The likelihood of a case is (1 - u) * P(gold) when its
    gold is in the KB and u when it is not, so the two parts are fitted separately: u by
    logistic regression of 'gold not in the KB' on 1 - coverage, the temperature's (a, b)
    by a grid search refined twice on the others' negative log-likelihood."""
    matchable = hits.any(axis=1)
    c0, c1 = _logistic(1.0 - coverage, ~matchable)
    s, h = scores[matchable], hits[matchable]

    def nll(a: float, b: float) -> float:
        p = TextCalibration(a, b).probabilities(s)
        return float(-np.log(np.clip((p * h).sum(axis=1), 1e-12, 1)).sum())

    best = (0.0, 0.0)
    if len(s):
        grid_a, grid_b = np.linspace(-1.0, 3.0, 41), np.linspace(-0.8, 0.8, 33)
        for _ in range(3):
            vals = [(nll(a, b), a, b) for a in grid_a for b in grid_b]
            _, a0, b0 = min(vals)
            best = (float(a0), float(b0))
            da, db = (grid_a[1] - grid_a[0]), (grid_b[1] - grid_b[0])
            grid_a = np.linspace(a0 - da, a0 + da, 9)
            grid_b = np.linspace(b0 - db, b0 + db, 9)
    d0, d1 = fit_ceiling(TextCalibration(*best).probabilities(s), h) if len(s) else (30.0, 1.0)
    return TextCalibration(round(best[0], 4), round(best[1], 4), round(c0, 4), round(c1, 4),
                           True, note, round(d0, 4), round(d1, 4))


MIN_TOP_SLOPE = 0.05


def fit_ceiling(p: np.ndarray, hits: np.ndarray) -> tuple[float, float]:
    """Top-label Platt map: logistic regression of 'the leader was right' on its logit.
    The slope is kept in [0.05, 5] so that the map stays monotone (more evidence never
    shows a leader lower); at the floor the intercept is refitted so that the map passes
    through the mean accuracy at the mean logit."""
    top = p.argmax(axis=1)
    conf = np.clip(p[np.arange(len(p)), top], 1e-9, 1 - 1e-9)
    right = hits[np.arange(len(p)), top] > 0
    x = np.log(conf / (1 - conf))
    d0, d1 = _logistic(x, right)
    if d1 < MIN_TOP_SLOPE:
        acc = np.clip((right.sum() + 1.0) / (len(right) + 2.0), 1e-6, 1 - 1e-6)
        d1 = MIN_TOP_SLOPE
        d0 = float(np.log(acc / (1 - acc)) - d1 * x.mean())
    return d0, min(d1, 5.0)


def _logistic(x: np.ndarray, y: np.ndarray, ridge: float = 1e-3) -> tuple[float, float]:
    """Intercept and slope of a one-feature logistic regression (Newton's method, a tiny
    ridge so that a perfectly separated or constant outcome still gives finite numbers)."""
    if not len(x):
        return -30.0, 0.0
    X = np.c_[np.ones(len(x)), x]
    w = np.zeros(2)
    t = y.astype(float)
    for _ in range(50):
        p = 1 / (1 + np.exp(-(X @ w)))
        g = X.T @ (p - t) + ridge * w
        hess = X.T @ (X * (p * (1 - p))[:, None]) + ridge * np.eye(2)
        step = np.linalg.solve(hess, g)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    w = np.clip(w, -30, 30)
    return float(w[0]), float(w[1])
