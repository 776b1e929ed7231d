"""Finding extraction from a 100 kB clinical note, against a plain regex scan of the same text.

    .venv/bin/python -m bench.findings_bench

Target: a 100 kB note in under 200 ms with the default extractor (semantic fallback on, model
warm). Prints absolute times and the ratio to a baseline measured in the same run (a regex word
scan plus str.lower of the same text), for the default and the lexicon-only extractor; also the
KB pack load time (target < 0.3 s) against json.loads of the same files, and a 5 MB note.
The note is project-made: clinical sentences (negations, lists, hedges, vitals) repeated with
variations; no patient data.
"""

from __future__ import annotations

import json
import random
import re
import statistics
import sys
import time

TARGET_MS = 200.0
TARGET_LOAD_S = 0.3
SENTENCES = [
    "Patient presents with {d} days of productive cough and fever up to 38.{n} C.",
    "Denies chest pain, palpitations, orthopnoea or leg swelling.",
    "Reports shortness of breath on exertion but no wheeze.",
    "Possible pleuritic pain on the right; cannot rule out pulmonary embolism.",
    "BP {s}/{dd} mmHg, HR {hr} bpm, RR {rr}, SpO2 {sp}% on room air, temp 37.{n} C.",
    "No nausea, vomiting or diarrhoea. Appetite reduced.",
    "History of type 2 diabetes and hypertension, on metformin and lisinopril.",
    "Ex-smoker, quit {d} years ago. Drinks alcohol occasionally.",
    "Mother has asthma. No family history of heart disease.",
    "Abdomen soft, non-tender; no guarding or rebound.",
    "She feels like she is suffocating when lying flat at night.",
    "Headache improved; photophobia resolved. No neck stiffness.",
    "WBC 14.{n}, Hb 11.{n} g/dL, CRP {crp} mg/L, glucose {gl} mg/dL.",
    "Plan: chest X-ray, sputum culture, review in {d} days.",
    "The patient was seen with her daughter, who gave additional history.",
]


def make_note(size: int, seed: int = 7) -> str:
    rnd = random.Random(seed)
    parts: list[str] = []
    total = 0
    while total < size:
        s = rnd.choice(SENTENCES).format(
            d=rnd.randint(1, 9), n=rnd.randint(0, 9), s=rnd.randint(85, 170),
            dd=rnd.randint(50, 100), hr=rnd.randint(55, 130), rr=rnd.randint(12, 30),
            sp=rnd.randint(86, 99), crp=rnd.randint(1, 200), gl=rnd.randint(70, 400))
        parts.append(s)
        total += len(s) + 1
        if rnd.random() < 0.15:
            parts.append("\n")
    return " ".join(parts)[:size]


def best(fn, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def baseline(text: str) -> None:
    re.findall(r"\w+", text.lower())


def main() -> int:
    from osler.findings.extract import FindingExtractor
    from osler.knowledge import load_pack
    from osler.knowledge.pack import default_pack_dir

    pack = default_pack_dir()
    load_s, _ = best(lambda: load_pack(pack), 5)
    raw = [p.read_bytes() for p in sorted(pack.glob("*.json"))]
    json_s, _ = best(lambda: [json.loads(b) for b in raw], 5)
    kb = load_pack(pack)
    print(f"KB load: {load_s * 1e3:.0f} ms (json.loads of the same files "
          f"{json_s * 1e3:.0f} ms, ratio {load_s / json_s:.1f}x); target < "
          f"{TARGET_LOAD_S * 1e3:.0f} ms {'PASS' if load_s < TARGET_LOAD_S else 'FAIL'}")

    note = make_note(100_000)
    fast = FindingExtractor(kb, semantic=False)
    full = FindingExtractor(kb)
    t0 = time.perf_counter()
    full.from_text("warm up: he feels like he is suffocating")
    warm = time.perf_counter() - t0
    fast.from_text(note)
    full.from_text(note)
    repeat = 7
    base_a, _ = best(lambda: baseline(note), repeat)
    lex_min, lex_med = best(lambda: fast.from_text(note), repeat)
    full_min, full_med = best(lambda: full.from_text(note), repeat)
    base_b, _ = best(lambda: baseline(note), repeat)
    base = min(base_a, base_b)
    found = full.from_text(note)
    print(f"note: {len(note) / 1000:.0f} kB, {len(found)} findings kept "
          f"({sum(f.score < 1 for f in found)} semantic); model load + vocabulary "
          f"{warm:.1f} s (once per process)")
    print(f"baseline regex scan + lower: {base * 1e3:.1f} ms")
    print(f"lexicon only:   {lex_min * 1e3:.0f} ms (median {lex_med * 1e3:.0f}), "
          f"{lex_min / base:.0f}x baseline")
    ok = full_min * 1e3 < TARGET_MS
    print(f"with semantic:  {full_min * 1e3:.0f} ms (median {full_med * 1e3:.0f}), "
          f"{full_min / base:.0f}x baseline; target < {TARGET_MS:.0f} ms "
          f"{'PASS' if ok else 'FAIL'}")

    big = make_note(5_000_000, seed=11)
    t0 = time.perf_counter()
    out = full.from_text(big)
    big_s = time.perf_counter() - t0
    print(f"5 MB note: {big_s:.1f} s, {len(out)} findings (bounded)")
    return 0 if ok and load_s < TARGET_LOAD_S else 1


if __name__ == "__main__":
    sys.exit(main())
