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
             extractor: Any, rare: bool = False) -> dict[str, Any]:
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
    rare_ranks: list[int | None] = []
    if rare:
        first = next(iter(engines))
        report["rare"], rare_ranks = rare_recall(kb, vignettes, cases, targets, ranks[first])
    for i, v in enumerate(vignettes):
        report["cases"].append({
            "id": v.id, "gold": v.gold, "match": targets[i].method,
            "matched": targets[i].matched, "in_kb": reachable[i],
            "findings": len(cases[i][0].findings),
            "rank": {name: ranks[name][i] for name in engines},
            "top3": {name: tops[name][i] for name in engines},
            "top1_probability": {name: round(top_p[name][i], 4) for name in engines},
            **({"rare_rank": rare_ranks[i]} if rare else {}),
        })
    return report


def rare_hit(target: Any, suggestion: Any) -> bool:
    """A rare suggestion names the gold diagnosis: its linked KB condition or ICD-10
    category is a hit, or one normalised name contains the other."""
    from osler.reasoning.gold import _contains, normalise

    if suggestion.kb_condition and target.hit(suggestion.kb_condition, suggestion.icd10):
        return True
    if any(c[:3].upper() in target.icd10_categories for c in suggestion.icd10):
        return True
    gold, name = normalise(target.gold), normalise(suggestion.name)
    if not gold or not name:
        return False
    return gold == name or (len(gold) >= 8 and _contains(name, gold)) or (
        len(name) >= 8 and _contains(gold, name))


def rare_recall(kb: KnowledgeBase, vignettes: list[Vignette], cases: list[tuple[Any, list]],
                targets: list[Any], ddx_ranks: list[int | None]
                ) -> tuple[dict[str, Any], list[int | None]]:
    """Where the gold diagnosis is in the rare panel (rare/panel.py) of each vignette, and
    the recall of the differential's top 10 united with the panel's top 5, counting the
    panel only when it is shown (as the clinician would see it) and also as if always."""
    import time

    from osler.rare.panel import build_panel

    ranks: list[int | None] = []
    shown: list[bool] = []
    seconds = []
    for v, (_case, found), t in zip(vignettes, cases, targets, strict=True):
        t0 = time.perf_counter()
        panel = build_panel(kb, found, [(v.text, None)], None)
        seconds.append(time.perf_counter() - t0)
        if not panel.suggestions:  # not shown: rank what it would have shown
            from osler.rare.ontology import load_ontology
            from osler.rare.ranking import score, suggestions

            onto = load_ontology(getattr(kb, "hpo_version", None) or None)
            panel.suggestions = suggestions(onto, score(onto, panel.phenotypes), 10)
        ranks.append(next((s.rank for s in panel.suggestions[:10] if rare_hit(t, s)), None))
        shown.append(panel.shown)
    n = max(len(vignettes), 1)

    def share(hits: list[bool]) -> float:
        return round(sum(hits) / n, 4)

    ddx10 = [r is not None and r <= 10 for r in ddx_ranks]
    return {
        "shown": sum(shown),
        "top10_when_shown": share([s and r is not None for s, r in zip(shown, ranks)]),
        "top10_always": share([r is not None for r in ranks]),
        "ddx_top10": share(ddx10),
        "union_ddx10_rare5_when_shown": share([d or (s and r is not None and r <= 5)
                                               for d, s, r in zip(ddx10, shown, ranks)]),
        "union_ddx10_rare5_always": share([d or (r is not None and r <= 5)
                                           for d, r in zip(ddx10, ranks)]),
        "mean_ms": round(1000 * float(np.mean(seconds[1:] or seconds)), 1),
    }, [r if s else None for s, r in zip(shown, ranks)]


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
