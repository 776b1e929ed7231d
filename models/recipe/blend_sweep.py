"""Sweep the KB-blend share of the shipped model: synthetic and development-vignette accuracy.

    .venv/bin/python models/recipe/blend_sweep.py [--shares 0.3,0.5,0.7,0.9] [--data ../shared/data]

Training does not depend on the share: the network is trained, then its calibrated logits are
blended with the KB's naive-Bayes log-likelihoods (osler.reasoning.training.blend_with_kb).
So the shipped weights give back the network exactly, and each share is re-blended and
re-calibrated here as train.py would. Writes models/recipe/results/blend_sweep.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from osler.findings.extract import FindingExtractor
from osler.knowledge.pack import default_kb
from osler.locations import default_model_dir
from osler.reasoning.calibration import fit_temperature, topk
from osler.reasoning.encoding import vocabulary
from osler.reasoning.evaluate import evaluate
from osler.reasoning.kbmatrix import KBMatrix
from osler.reasoning.service import load_engine
from osler.reasoning.synthetic import CaseGenerator
from osler.reasoning.training import TrainConfig, nb_init
from osler.reasoning.vignettes import load_vignettes, split_half

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SETS = ("avey_dev100", "agentclinic_dev54")


class _Reblended:
    """The shipped engine with its weights re-blended at another share (same interface)."""

    def __init__(self, base, share: float, temperature: float, wide, cls_w, cls_b) -> None:
        self.base, self.share = base, share
        self.temperature, self._wide, self._w, self._b = temperature, wide, cls_w, cls_b
        self.info = base.info
        self.warnings: list[str] = []

    def __getattr__(self, name):
        return getattr(self.base, name)

    def _swap(self):
        import torch

        mdl = self.base.model
        with torch.no_grad():
            saved = (mdl.wide.weight.clone(), mdl.classifier.weight.clone(),
                     mdl.classifier.bias.clone())
            mdl.wide.weight.copy_(self._wide)
            mdl.classifier.weight.copy_(self._w)
            mdl.classifier.bias.copy_(self._b)
        return saved

    def _restore(self, saved) -> None:
        import torch

        mdl = self.base.model
        with torch.no_grad():
            mdl.wide.weight.copy_(saved[0])
            mdl.classifier.weight.copy_(saved[1])
            mdl.classifier.bias.copy_(saved[2])

    def logits(self, cases):
        saved = self._swap()
        try:
            return self.base.logits(cases)
        finally:
            self._restore(saved)

    def predict(self, cases):
        saved, shipped_t = self._swap(), self.base.temperature
        self.base.temperature = self.temperature
        try:
            return self.base.predict(cases)
        finally:
            self.base.temperature = shipped_t
            self._restore(saved)


def main() -> int:
    import torch

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shares", default="0.3,0.5,0.6,0.7,0.8,0.9")
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--synthetic", type=int, default=5000, help="noisy synthetic cases")
    args = ap.parse_args()
    kb = default_kb()
    m = KBMatrix.from_kb(kb)
    folder = default_model_dir()
    base = load_engine(m, kb, folder, "cpu", "none", "model")
    meta = json.loads((folder / "osler.json").read_text())
    report = json.loads((folder / "training_report.json").read_text())
    cfg = TrainConfig()
    s0, net_t = float(report["kb_blend"]), float(report["network_temperature"])
    vocab = {t: i for i, t in enumerate(vocabulary(m.finding_ids))}
    assert vocab == base.tokenizer.get_vocab()
    w_kb = torch.from_numpy(nb_init(m, vocab)).float()
    mdl = base.model
    keep0 = (1.0 - s0) / net_t
    net_wide = (mdl.wide.weight.detach().clone() - s0 * w_kb) / keep0
    net_w = mdl.classifier.weight.detach().clone() / keep0
    net_b = mdl.classifier.bias.detach().clone() / keep0

    offset = cfg.prior_exponent * m.log_prior
    cal = CaseGenerator(m, cfg.noise, seed=cfg.seed + 1).sample(
        cfg.calibration_cases, "prior", cfg.prior_exponent)
    cal_cases, cal_labels = [s.case for s in cal], np.array([s.condition for s in cal])
    syn = CaseGenerator(m, cfg.noise, seed=cfg.seed + 7).sample(
        args.synthetic, "prior", cfg.prior_exponent)
    syn_cases, syn_labels = [s.case for s in syn], np.array([s.condition for s in syn])

    engines: dict[str, object] = {"naive-bayes": load_engine(m, kb, None, "cpu", "none",
                                                             "naive-bayes")}
    rows: dict[str, dict[str, object]] = {
        "naive-bayes": {"synthetic_noisy_prior": topk(
            engines["naive-bayes"].predict(syn_cases), syn_labels)}}  # type: ignore[attr-defined]
    for share in (float(x) for x in args.shares.split(",")):
        keep = (1.0 - share) / net_t
        wide, cw, cb = keep * net_wide + share * w_kb, keep * net_w, keep * net_b
        probe = _Reblended(base, share, 1.0, wide, cw, cb)
        z = probe.logits(cal_cases)[:, base._model_cols]
        temperature = fit_temperature(z, offset[None, base._kb_cols], cal_labels)
        probe.temperature = temperature
        name = f"blend {share:g}"
        engines[name] = probe
        rows[name] = {"temperature": round(temperature, 4),
                      "synthetic_noisy_prior": topk(probe.predict(syn_cases), syn_labels)}
        print(name, rows[name], flush=True)
    extractor = FindingExtractor(kb)
    for set_name in SETS:
        path = args.data / "vignettes" / f"{set_name}.jsonl"
        if not path.exists():
            print(f"skipping {set_name}: {path} not found", file=sys.stderr)
            continue
        for half in ("dev", "check"):  # the share is chosen on 'dev'; 'check' is only shown
            r = evaluate(kb, engines, split_half(load_vignettes(path), half),  # type: ignore[arg-type]
                         extractor)
            for name, res in r["engines"].items():
                rows[name][f"{set_name}/{half}"] = {k: res[k] for k in ("top1", "top3", "top10")}
    out = {"model": meta["id"], "shipped_share": s0, "network_temperature": net_t,
           "synthetic_cases": args.synthetic, "rows": rows}
    (HERE / "results" / "blend_sweep.json").write_text(json.dumps(out, indent=1) + "\n")
    for name, row in rows.items():
        print(name, json.dumps(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
