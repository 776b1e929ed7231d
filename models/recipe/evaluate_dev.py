"""Evaluate the shipped model and the KB baseline on both halves of the development
vignettes; write models/recipe/results/dev_eval.json (per-case ranks for the dev halves,
totals only for the check halves) and regenerate models/osler-ddx/MODEL_CARD.md.

    .venv/bin/python models/recipe/evaluate_dev.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from osler.findings.extract import FindingExtractor
from osler.knowledge.pack import default_kb
from osler.reasoning.evaluate import evaluate
from osler.reasoning.kbmatrix import KBMatrix
from osler.reasoning.service import load_engine
from osler.reasoning.vignettes import load_vignettes, split_half

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SETS = ("avey_dev100", "agentclinic_dev54")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    args = ap.parse_args()
    kb = default_kb()
    m = KBMatrix.from_kb(kb)
    engines = {name: load_engine(m, kb, None, "cpu", "none", name)
               for name in ("model", "naive-bayes")}
    extractor = FindingExtractor(kb)
    results = {}
    for name in SETS:
        path = args.data / "vignettes" / f"{name}.jsonl"
        if not path.exists():
            print(f"skipping {name}: {path} not found", file=sys.stderr)
            continue
        for half in ("dev", "check"):
            report = evaluate(kb, engines, split_half(load_vignettes(path), half), extractor)
            if half == "check":
                report.pop("cases")  # the check half is scored, never read case by case
            results[f"{name}/{half}"] = report
            print(name, half, {k: {m_: v[m_] for m_ in ("top1", "top3", "top10")}
                               for k, v in report["engines"].items()})
    out = HERE / "results" / "dev_eval.json"
    out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    from model_card import write_card

    write_card()
    return 0


if __name__ == "__main__":
    sys.exit(main())
