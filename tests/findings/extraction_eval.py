"""Precision/recall of finding extraction on the Avey development vignettes.

    .venv/bin/python -m tests.findings.extraction_eval [--no-semantic] [--threshold T]
        [--strict] [--demographics]

Input per vignette: its `presentation` and `absent_findings` text. Gold: tests/findings/
avey_gold.json (hand-made from `chief_complaints` / `absent_findings`; see its 'about').
Recall counts gold findings found; precision counts predicted findings that are gold or that
the presentation states ('present_other'/'absent_other'). A prediction matches a gold id
when it is that id, a more specific finding of it, or a broader one (KB parents).
With --demographics the vignette's age and sex are passed too, as `osler ddx --age --sex`
would (children's vital-sign limits; findings of the other sex or another age set aside).
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass
from pathlib import Path

GOLD = Path(__file__).with_name("avey_gold.json")


@dataclass
class Score:
    tp_recall: int = 0
    gold: int = 0
    tp_precision: int = 0
    predicted: int = 0

    @property
    def recall(self) -> float:
        return self.tp_recall / self.gold if self.gold else 0.0

    @property
    def precision(self) -> float:
        return self.tp_precision / self.predicted if self.predicted else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float]:
        return {"precision": round(self.precision, 3), "recall": round(self.recall, 3),
                "f1": round(self.f1, 3), "gold": self.gold, "predicted": self.predicted}


def vignette_texts(path: Path) -> list[str]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            out.append(f"{d.get('presentation', '')}\n{d.get('absent_findings', '')}")
    return out


def demographics(path: Path) -> list[tuple[str | None, int | float | None]]:
    """(sex, age) of each vignette from its 'demographics' ('70 year old Female',
    '3 month old male'): an age in years is whole years, in months/weeks/days exact."""
    out: list[tuple[str | None, int | float | None]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            out.append(parse_demographics(json.loads(line).get("demographics", "")))
    return out


def parse_demographics(text: str) -> tuple[str | None, int | float | None]:
    words = text.lower()
    sex = ("female" if re.search(r"\b(female|woman|girl|lady)\b", words) else
           "male" if re.search(r"\b(male|man|boy)\b", words) else None)
    m = re.search(r"(\d+(?:\.\d+)?)[\s-]*(year|yr|month|week|day)", words)
    if m is None:
        return sex, (0.0 if re.search(r"newborn|neonate", words) else None)
    n, unit = float(m.group(1)), m.group(2)
    if unit in ("year", "yr"):
        return sex, int(n)
    return sex, n / {"month": 12, "week": 52.18, "day": 365.25}[unit]


def _lineage(kb, fid: str) -> set[str]:
    out = {fid}
    seen = 0
    while seen < 10:
        f = kb.finding(fid) if kb.has_finding(fid) else None
        if f is None or f.parent is None:
            break
        fid = f.parent
        out.add(fid)
        seen += 1
    return out


def _matches(kb, pred: str, gold: set[str]) -> bool:
    lp = _lineage(kb, pred)
    return any(g in lp or pred in _lineage(kb, g) for g in gold)


def evaluate(kb, extractor, vignettes: Path, strict: bool = False,
             with_demographics: bool = False) -> dict[str, object]:
    gold = json.loads(GOLD.read_text(encoding="utf-8"))["vignettes"]
    texts = vignette_texts(vignettes)
    people = demographics(vignettes) if with_demographics else [(None, None)] * len(texts)
    present, absent = Score(), Score()
    semantic_hits = 0
    for i, text in enumerate(texts):
        g = gold[str(i)]
        sex, age = people[i]
        found = extractor.from_text(text, sex=sex, age=age)
        semantic_hits += sum(f.score < 1.0 for f in found)
        pp = {f.id for f in found if f.present}
        pa = {f.id for f in found if not f.present}
        for score, pred, want, ok in ((present, pp, set(g["present"]),
                                       set(g["present"]) | set(g["present_other"])),
                                      (absent, pa, set(g["absent"]),
                                       set(g["absent"]) | set(g["absent_other"]))):
            def hit(p: str, gs: set[str]) -> bool:
                return p in gs if strict else _matches(kb, p, gs)
            score.gold += len(want)
            score.tp_recall += sum(1 for w in want if any(hit(p, {w}) for p in pred))
            score.predicted += len(pred)
            score.tp_precision += sum(1 for p in pred if hit(p, ok))
    return {"vignettes": len(texts), "present": present.as_dict(), "absent": absent.as_dict(),
            "semantic_findings": semantic_hits, "strict": strict,
            "demographics": with_demographics, "set_aside": len(extractor.set_aside)}


def main() -> None:
    from osler.findings.extract import FindingExtractor
    from osler.knowledge import default_kb
    from tests.conftest import SHARED

    ap = argparse.ArgumentParser()
    ap.add_argument("--no-semantic", action="store_true")
    ap.add_argument("--threshold", type=float)
    ap.add_argument("--strict", action="store_true")
    ap.add_argument("--demographics", action="store_true",
                    help="pass each vignette's age and sex to the extractor")
    args = ap.parse_args()
    kb = default_kb()
    ex = FindingExtractor(kb, semantic=not args.no_semantic)
    if args.threshold is not None:
        ex.threshold = args.threshold
    path = SHARED / "vignettes" / "avey_dev100.jsonl"
    print(json.dumps(evaluate(kb, ex, path, strict=args.strict,
                              with_demographics=args.demographics), indent=1))


if __name__ == "__main__":
    main()
