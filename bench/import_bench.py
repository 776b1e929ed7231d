"""Import of the largest Synthea bundle vs json.loads of the same bytes, same process.

Prints the ratio (target <= 5x). Uses ../shared/data/synthea_r4 when present,
else a project-made record of similar size.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from osler.fhir import import_path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "synthea_r4"
TARGET = 5.0


def largest_bundle() -> Path:
    files = sorted(SHARED.glob("*.json"), key=lambda p: p.stat().st_size) if SHARED.exists() else []
    if files:
        return files[-1]
    from bench.synthetic_record import write_synthetic_bundle

    out = Path(tempfile.mkdtemp()) / "synthetic.json"
    write_synthetic_bundle(out, events=3000)
    return out


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def main() -> int:
    path = largest_bundle()
    data = path.read_bytes()
    repeat = 15
    # Interleave to share the machine's noise between the two measurements.
    base_min, base_med = best_of(lambda: json.loads(data), repeat)
    imp_min, imp_med = best_of(lambda: import_path(path), repeat)
    base_min2, _ = best_of(lambda: json.loads(data), repeat)
    base = min(base_min, base_min2)
    ratio = imp_min / base
    events = len(import_path(path).timeline())
    print(f"file: {path.name} ({len(data) / 1e6:.2f} MB, {events} events)")
    print(f"json.loads: {base * 1e3:.1f} ms (min of {repeat * 2}), median {base_med * 1e3:.1f} ms")
    print(f"import_path: {imp_min * 1e3:.1f} ms (min of {repeat}), median {imp_med * 1e3:.1f} ms")
    print(f"ratio import/json.loads: {ratio:.2f}x (target <= {TARGET:.0f}x) "
          f"{'PASS' if ratio <= TARGET else 'FAIL'}")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
