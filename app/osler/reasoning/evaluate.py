"""`osler eval`: top-k accuracy of engines on vignettes, by name/synonym or ICD-10 category."""

from __future__ import annotations

from typing import Any

import numpy as np

from osler.knowledge import KnowledgeBase
from osler.reasoning.case import CaseInput, case_for
from osler.reasoning.engines import Engine
from osler.reasoning.gold import GoldMatcher
from osler.reasoning.kbmatrix import KBMatrix
from osler.reasoning.vignettes import Vignette

KS = (1, 3, 10)


def vignette_cases(kb: KnowledgeBase, vignettes: list[Vignette], extractor: Any
                   ) -> list[tuple[CaseInput, list]]:
    """Findings and model input for each vignette."""
    from osler.findings.coverage import coverage
    from osler.findings.merge import merge_findings

    out = []
    for v in vignettes:
        mentions = extractor.from_text(v.text, sex=v.sex, age=v.age)
        found = merge_findings(mentions)
        read = coverage([(v.text, None)], mentions)
        out.append((case_for(kb, found, v.age, v.sex, coverage=read), found))
    return out


def evaluate(kb: KnowledgeBase, engines: dict[str, Engine], vignettes: list[Vignette],
             extractor: Any) -> dict[str, Any]:
    """Rank of the gold diagnosis under each engine; top-k over all vignettes."""
    m = KBMatrix.from_kb(kb)
    matcher = GoldMatcher(kb)
    cases = vignette_cases(kb, vignettes, extractor)
    targets = [matcher.target(v.gold) for v in vignettes]
    icd = [kb.condition(c).icd10 for c in m.condition_ids]
    reachable = [any(t.hit(cid, icd[i]) for i, cid in enumerate(m.condition_ids))
                 for t in targets]
    report: dict[str, Any] = {
        "vignettes": len(vignettes),
        "gold_matchable": sum(reachable),  # some KB condition would count as a hit
        "gold_match_methods": {k: sum(t.method == k for t in targets)
                               for k in ("name", "contained-name", "icd10-description",
                                         "semantic", "unmatched")},
        "mean_findings": round(float(np.mean([len(c.findings) for c, _ in cases])), 2),
        "engines": {},
        "cases": [],
    }
    ranks: dict[str, list[int | None]] = {}
    tops: dict[str, list[list[str]]] = {}
    top_p: dict[str, list[float]] = {}
    for name, eng in engines.items():
        probs = eng.predict([c for c, _ in cases])
        cal = getattr(eng, "calibration", None)
        ranks[name], tops[name], top_p[name] = [], [], []
        for i, t in enumerate(targets):
            order = np.argsort(-probs[i])
            rank = next((r + 1 for r, ci in enumerate(order[:100])
                         if t.hit(m.condition_ids[ci], icd[ci])), None)
            ranks[name].append(rank)
            tops[name].append([kb.condition(m.condition_ids[ci]).name for ci in order[:3]])
            shown = 1.0 - (cal.unlisted_share(cases[i][0].coverage) if cal is not None else 0.0)
            top_p[name].append(float(probs[i, order[0]]) * shown)
        n = len(vignettes)
        rs = ranks[name]
        report["engines"][name] = {
            "model": eng.info.to_json(),
            **{f"top{k}": round(sum(1 for r in rs if r is not None and r <= k) / n, 4)
               for k in KS},
            "found_in_top100": sum(r is not None for r in rs),
            **top1_calibration(top_p[name], [r == 1 for r in rs]),
            "calibration": cal.to_json() if cal is not None else None,
        }
    for i, v in enumerate(vignettes):
        report["cases"].append({
            "id": v.id, "gold": v.gold, "match": targets[i].method,
            "matched": targets[i].matched, "in_kb": reachable[i],
            "findings": len(cases[i][0].findings),
            "rank": {name: ranks[name][i] for name in engines},
            "top3": {name: tops[name][i] for name in engines},
            "top1_probability": {name: round(top_p[name][i], 4) for name in engines},
        })
    return report


def ece_noise_floor(confidence: np.ndarray, bins: int = 10, draws: int = 400) -> float | None:
    """The ECE a perfectly calibrated model would show on this many cases with these
    confidences (outcomes drawn as Bernoulli(confidence), mean over draws): the sampling
    noise any measured ECE includes. About 0.1 for 50 cases."""
    conf = np.asarray(confidence, dtype=float)
    if not len(conf):
        return None
    rng = np.random.default_rng(0)
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, bins - 1)
    total = 0.0
    for _ in range(draws):
        ok = rng.random(len(conf)) < conf
        for b in np.unique(idx):
            sel = idx == b
            total += sel.sum() / len(conf) * abs(conf[sel].mean() - ok[sel].mean())
    return round(total / draws, 4)


CONFIDENT = 0.9  # a top diagnosis shown at or above this should be right >= 85 % of the time


def top1_calibration(confidence: list[float], correct: list[bool], bins: int = 10
                     ) -> dict[str, Any]:
    """ECE of the top-1 probability (equal-width bins), its reliability table, and how often
    a top diagnosis shown at >= 90 % is right."""
    conf = np.asarray(confidence, dtype=float)
    ok = np.asarray(correct, dtype=bool)
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, bins - 1)
    table, ece = [], 0.0
    for b in range(bins):
        sel = idx == b
        k = int(sel.sum())
        row: dict[str, Any] = {"bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}", "count": k,
                               "confidence": None, "accuracy": None}
        if k:
            row["confidence"] = round(float(conf[sel].mean()), 4)
            row["accuracy"] = round(float(ok[sel].mean()), 4)
            ece += k / max(len(conf), 1) * abs(row["confidence"] - row["accuracy"])
        table.append(row)
    sure = conf >= CONFIDENT
    return {
        "ece_top1": round(float(ece), 4),
        "ece_if_calibrated": ece_noise_floor(conf, bins),
        "mean_top1_probability": round(float(conf.mean()), 4) if len(conf) else None,
        "confident": {"threshold": CONFIDENT, "count": int(sure.sum()),
                      "correct": int((sure & ok).sum()),
                      "accuracy": round(float(ok[sure].mean()), 4) if sure.any() else None},
        "reliability": table,
    }
