"""Fit the text calibration of the shipped model and of the KB posterior on real vignettes.

    .venv/bin/python models/recipe/calibrate.py [--data ../shared/data] [--write]

Each development set is split in two halves by osler.reasoning.vignettes.split_half (a fixed
seed): the calibration (temperature T and the 'not in the list' share u,
osler.reasoning.calibration.fit_text_calibration) is fitted on the two 'dev' halves pooled;
the 'check' halves are only scored. Reported: 5-fold cross-validation on the dev halves, the
check halves, and synthetic cases from the KB. With --write the fitted maps go into
models/osler-ddx/osler.json ("text_calibration") and SHA256SUMS is rewritten; the figures go
to models/recipe/results/text_calibration.json and the reliability diagrams to
models/recipe/results/reliability_*.png (drawn by reliability_plot.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from osler.findings.extract import FindingExtractor
from osler.knowledge.pack import default_kb
from osler.reasoning.calibration import TextCalibration, fit_text_calibration
from osler.reasoning.evaluate import top1_calibration, vignette_cases
from osler.reasoning.gold import GoldMatcher
from osler.reasoning.kbmatrix import KBMatrix
from osler.reasoning.service import load_engine
from osler.reasoning.vignettes import load_vignettes, split_half

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
MODEL = REPO / "models" / "osler-ddx"
SETS = ("avey_dev100", "agentclinic_dev54")
ENGINES = ("model", "naive-bayes")
FOLDS = 5
SYNTHETIC = 5000


def _hits(kb, m: KBMatrix, vignettes) -> np.ndarray:
    matcher = GoldMatcher(kb)
    icd = [kb.condition(c).icd10 for c in m.condition_ids]
    out = np.zeros((len(vignettes), len(m.condition_ids)))
    for i, v in enumerate(vignettes):
        t = matcher.target(v.gold)
        out[i] = [t.hit(c, icd[k]) for k, c in enumerate(m.condition_ids)]
    return out


def figures(scores: np.ndarray, hits: np.ndarray, cover: np.ndarray, cal: TextCalibration
            ) -> dict:
    """Top-k, top-1 calibration and NLL of calibrated probabilities."""
    unlisted = np.array([cal.unlisted_share(c) for c in cover])
    p = cal.probabilities(scores) * (1 - unlisted)[:, None]
    order = np.argsort(-p, axis=1)
    rank = []
    for i in range(len(p)):
        r = next((k + 1 for k, c in enumerate(order[i, :100]) if hits[i, c]), None)
        rank.append(r)
    conf = p[np.arange(len(p)), order[:, 0]]
    matchable = hits.any(axis=1)
    like = np.where(matchable, (p * hits).sum(axis=1), unlisted)
    return {
        "n": len(p),
        **{f"top{k}": round(float(np.mean([r is not None and r <= k for r in rank])), 4)
           for k in (1, 3, 10)},
        "nll": round(float(-np.log(np.clip(like, 1e-12, 1)).mean()), 4),
        **top1_calibration(list(conf), [r == 1 for r in rank]),
    }


def cross_validated(scores: np.ndarray, hits: np.ndarray, cover: np.ndarray,
                    sets: np.ndarray) -> dict:
    """5-fold CV over the pooled dev halves: each case scored by a map fitted without it."""
    rng = np.random.default_rng(20261202)
    fold = rng.permutation(len(scores)) % FOLDS
    held = np.zeros_like(scores)
    fits = []
    for k in range(FOLDS):
        tr, te = fold != k, fold == k
        cal = fit_text_calibration(scores[tr], hits[tr], cover[tr])
        fits.append(cal.to_json())
        u = np.array([cal.unlisted_share(c) for c in cover[te]])
        held[te] = cal.probabilities(scores[te]) * (1 - u)[:, None]
    out: dict = {"folds": FOLDS, "fits": fits}
    for name in SETS:
        sel = sets == name
        p, h = held[sel], hits[sel]
        top = p.argmax(axis=1)
        conf = p[np.arange(len(p)), top]
        ok = h[np.arange(len(p)), top] > 0
        out[name] = top1_calibration(list(conf), list(ok))
    return out


def synthetic(kb, m: KBMatrix, engine, cal: TextCalibration) -> dict:
    """ECE on synthetic cases from the KB (tempered prior, the training noise model), with the
    engine's own scores, without and with the text calibration."""
    from osler.reasoning.synthetic import CaseGenerator

    gen = CaseGenerator(m, seed=20261202 + 7)
    cases = gen.sample(SYNTHETIC, "prior", 0.5)
    scores = engine.scores([s.case for s in cases])
    labels = np.array([s.condition for s in cases])
    hits = np.zeros_like(scores)
    hits[np.arange(len(cases)), labels] = 1
    full = np.ones(len(cases))  # coded findings: nothing left unread
    plain = figures(scores, hits, full, TextCalibration())
    return {"cases": SYNTHETIC,
            "uncalibrated": {k: plain[k] for k in ("top1", "top3", "ece_top1")},
            "calibrated": {k: v for k, v in figures(scores, hits, full, cal).items()
                           if k != "reliability"}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--write", action="store_true", help="store the fitted maps in the model")
    ap.add_argument("--engines", default=",".join(ENGINES))
    args = ap.parse_args()
    kb = default_kb()
    m = KBMatrix.from_kb(kb)
    extractor = FindingExtractor(kb)
    halves: dict[tuple[str, str], tuple[list, np.ndarray]] = {}
    for name in SETS:
        path = args.data / "vignettes" / f"{name}.jsonl"
        if not path.exists():
            print(f"calibrate: {path} not found", file=sys.stderr)
            return 2
        for half in ("dev", "check"):
            vs = split_half(load_vignettes(path), half)
            halves[(name, half)] = ([c for c, _ in vignette_cases(kb, vs, extractor)],
                                    _hits(kb, m, vs))
    cover = {k: np.array([c.coverage for c in cases]) for k, (cases, _) in halves.items()}
    report: dict = {"split": "osler.reasoning.vignettes.split_half, seed 20261202",
                    "fitted_on": "dev halves of " + " and ".join(SETS), "engines": {}}
    fitted = {}
    for engine_name in args.engines.split(","):
        eng = load_engine(m, kb, None, "cpu", "none", engine_name)
        scores = {k: eng.scores(cases) for k, (cases, _) in halves.items()}
        dev_s = np.concatenate([scores[(n, "dev")] for n in SETS])
        dev_h = np.concatenate([halves[(n, "dev")][1] for n in SETS])
        sets = np.concatenate([[n] * len(halves[(n, "dev")][0]) for n in SETS])
        dev_c = np.concatenate([cover[(n, "dev")] for n in SETS])
        cal = fit_text_calibration(dev_s, dev_h, dev_c, note=(
            "fitted on the dev halves of the Avey and AgentClinic development vignettes "
            "(models/recipe/calibrate.py)"))
        fitted[engine_name] = cal
        entry = {"calibration": cal.to_json(), "cross_validation": cross_validated(
            dev_s, dev_h, dev_c, sets), "sets": {}}
        for (name, half), (_, hits) in halves.items():
            key = (name, half)
            entry["sets"][f"{name}/{half}"] = {
                "mean_coverage": round(float(cover[key].mean()), 3),
                "uncalibrated": figures(scores[key], hits, cover[key], TextCalibration()),
                "calibrated": figures(scores[key], hits, cover[key], cal)}
        entry["synthetic"] = synthetic(kb, m, eng, cal)
        report["engines"][engine_name] = entry
        print(engine_name, json.dumps(cal.to_json()))
        for key, v in entry["sets"].items():
            c = v["calibrated"]
            print(f"  {key:24s} top1/3/10 {c['top1']:.2f}/{c['top3']:.2f}/{c['top10']:.2f}  "
                  f"ECE {v['uncalibrated']['ece_top1']:.3f} -> {c['ece_top1']:.3f}  "
                  f">=90%: {c['confident']['correct']}/{c['confident']['count']}")
        cv = entry["cross_validation"]
        print("  CV ECE:", {n: cv[n]["ece_top1"] for n in SETS}, "synthetic:",
              entry["synthetic"]["uncalibrated"]["ece_top1"], "->",
              entry["synthetic"]["calibrated"]["ece_top1"])
    out = HERE / "results" / "text_calibration.json"
    out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    from reliability_plot import draw_all

    draw_all(report, HERE / "results")
    if args.write:
        meta_path = MODEL / "osler.json"
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        meta["text_calibration"] = {k: v.to_json() for k, v in fitted.items()}
        meta_path.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        from osler.reasoning.checksums import write_sums

        names = sorted(p.name for p in MODEL.iterdir() if p.is_file()
                       and p.name not in ("SHA256SUMS", "MODEL_CARD.md"))
        write_sums(MODEL, names)
        print(f"wrote {meta_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
