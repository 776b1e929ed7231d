"""Recipe for the shipped model models/osler-ddx: seeded, CPU-only, under an hour.

    .venv/bin/python models/recipe/train.py            # writes models/osler-ddx
    .venv/bin/python models/recipe/train.py --quick    # a 2-minute smoke run to /tmp

The training data are synthetic cases sampled from the shipped knowledge base
(resources/kb) by osler.reasoning.synthetic (documented in docs/model.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from osler.knowledge.pack import default_kb
from osler.reasoning.service import kb_fingerprint
from osler.reasoning.training import TrainConfig, train

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "osler-ddx"

SHIPPED = TrainConfig()  # every setting of the shipped model lives in TrainConfig defaults


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--quick", action="store_true", help="tiny run for checking the recipe")
    args = ap.parse_args()
    cfg = SHIPPED
    out = args.out
    if args.quick:
        from dataclasses import replace

        cfg = replace(cfg, steps=150, calibration_cases=2000, eval_cases=2000)
        out = Path("/tmp/osler-ddx-quick") if args.out == OUT else args.out
    kb = default_kb()
    t0 = time.time()
    report = train(kb, out, cfg, kb_meta=kb_fingerprint(kb),
                   progress=lambda msg: print(msg, flush=True))
    report["wall_seconds"] = round(time.time() - t0, 1)
    (out / "training_report.json").write_text(json.dumps(report, indent=1) + "\n")
    from osler.reasoning.checksums import write_sums

    names = sorted(p.name for p in out.iterdir() if p.is_file()
                   and p.name not in ("SHA256SUMS", "MODEL_CARD.md"))
    write_sums(out, names)
    print(json.dumps({k: report[k] for k in ("steps", "train_seconds", "temperature")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
