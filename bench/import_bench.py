"""FHIR import benchmarks, each against a baseline measured in the same run.

- time (default): import of the largest Synthea bundle vs json.loads of the same bytes,
  same process. Prints the ratio (target <= 5x). Uses ../shared/data/synthea_r4 when
  present, else a project-made record of similar size.
- memory (`--memory`, or any `--sizes`): for each size, a generated Bundle and NDJSON file
  of that many MB (synthetic patients of ~5,000 events each, bench/synthetic_record.py) are
  imported, each in a fresh subprocess; prints the child's peak RSS (ru_maxrss), its ratio
  to the file size, and its ratio to a baseline subprocess that imports osler.fhir and reads
  nothing. Inputs over OSLER_ALL_PATIENTS_MB (64) load only the first patient's events,
  as `osler import` and the window do; `--all-patients` keeps every patient's instead.
  Targets: Bundle peak <= 8x the file; NDJSON peak <= 300 MB whatever its size (one
  patient loaded).

    python -m bench.import_bench
    python -m bench.import_bench --memory --sizes 50,200 [--kinds bundle,ndjson] [--json]
                                 [--keep DIR] [--all-patients]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from osler.fhir import import_path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "synthea_r4"
TARGET = 5.0
BUNDLE_TARGET = 8.0  # peak RSS / Bundle file size
NDJSON_TARGET_MB = 300.0  # peak RSS of an NDJSON import, one patient loaded
EVENTS_PER_PATIENT = 5_000

# The child imports (or, as the baseline, only loads the package) and prints its peak RSS.
CHILD = """
import json, resource, sys, time
from osler.fhir import import_path
out = {"events": 0, "patients": 0, "error": None}
t0 = time.perf_counter()
if sys.argv[1] != "-":
    try:
        result = import_path(sys.argv[1])
        out["events"] = sum(len(t) for t in result.timelines)
        out["patients"] = len(result.roster)
        out["loaded"] = len(result.timelines)
        out["warnings"] = len(result.issues)
    except Exception as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
out["seconds"] = time.perf_counter() - t0
# VmHWM is this process's own peak; ru_maxrss also counts the parent's memory at the
# fork (Linux keeps the larger across exec), which would credit the bench's own RSS.
try:
    with open("/proc/self/status") as status:
        out["maxrss_kb"] = next(int(l.split()[1]) for l in status if l.startswith("VmHWM:"))
except (OSError, StopIteration):
    out["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(out))
"""


# --- time -------------------------------------------------------------------------

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


def time_bench() -> int:
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


# --- memory -----------------------------------------------------------------------

def _ndjson_resource(res: dict[str, Any], types: dict[str, str]) -> dict[str, Any]:
    """A Bundle entry's resource as Bulk Data NDJSON holds it: urn:uuid references become
    Type/id (an NDJSON line has no fullUrl to resolve them against)."""
    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("reference")
            if isinstance(ref, str) and ref.startswith("urn:uuid:"):
                rid = ref[9:]
                node["reference"] = f"{types.get(rid, 'Patient')}/{rid}"
            for v in node.values():
                fix(v)
        elif isinstance(node, list):
            for v in node:
                fix(v)
        return node

    return fix(res)


def write_inputs(folder: Path, mb: float, events: int = EVENTS_PER_PATIENT) -> tuple[Path, Path]:
    """A Bundle and an NDJSON file of about `mb` MB each (the size of the Bundle), the same
    patients in both, written a patient at a time (the generator never holds the whole file)."""
    from bench.synthetic_record import synthetic_bundle

    bundle_path = folder / f"bundle-{mb:g}MB.json"
    ndjson_path = folder / f"resources-{mb:g}MB.ndjson"
    target = mb * 1024 * 1024
    written = 0
    seed = 0
    with bundle_path.open("w", encoding="utf-8") as b, ndjson_path.open("w", encoding="utf-8") as n:
        b.write('{"resourceType":"Bundle","type":"collection","entry":[')
        while written < target:
            seed += 1
            # Small sizes (tests) get small patients so the file stays near its target.
            per = max(50, min(events, int((target - written) / 760) + 50))
            entries = synthetic_bundle(per, seed=seed)["entry"]
            types = {e["resource"]["id"]: e["resource"]["resourceType"] for e in entries}
            for e in entries:
                e.pop("request", None)
                text = json.dumps(e, separators=(",", ":"))
                b.write(("," if written else "") + text)
                written += len(text) + 1
            for e in entries:
                n.write(json.dumps(_ndjson_resource(e["resource"], types),
                                   separators=(",", ":")) + "\n")
        b.write("]}")
    return bundle_path, ndjson_path


def _child(path: Path | None, env: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(path) if path else "-"],
                          capture_output=True, text=True, env=env, timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(f"child failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def memory_bench(sizes: list[float], keep: Path | None = None,
                 kinds: tuple[str, ...] = ("bundle", "ndjson"),
                 all_patients: bool | None = None) -> dict[str, Any]:
    """Peak RSS of importing each generated input in a fresh process, with the baseline.
    `all_patients`: None follows the importer's size rule, True/False force either way."""
    folder = keep or Path(tempfile.mkdtemp(prefix="osler-import-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    # Measure the import itself: lift the size limit (a refusal would be reported as such).
    env["OSLER_MAX_IMPORT_MB"] = str(int(max(sizes) * 2) + 16)
    if all_patients is None:
        env.pop("OSLER_ALL_PATIENTS_MB", None)
    else:
        env["OSLER_ALL_PATIENTS_MB"] = str(int(max(sizes) * 2) + 16) if all_patients else "0"
    base = _child(None, env)
    base_mb = base["maxrss_kb"] / 1024
    rows = []
    try:
        for mb in sizes:
            bundle, ndjson = write_inputs(folder, mb)
            for kind, path in (("bundle", bundle), ("ndjson", ndjson)):
                if kind not in kinds:
                    path.unlink()
                    continue
                r = _child(path, env)
                size_mb = path.stat().st_size / 2**20
                peak = r["maxrss_kb"] / 1024
                rows.append({
                    "kind": kind, "file_mb": round(size_mb, 1), "peak_rss_mb": round(peak, 1),
                    "baseline_rss_mb": round(base_mb, 1),
                    "peak_over_file": round(peak / size_mb, 2),
                    "above_baseline_over_file": round((peak - base_mb) / size_mb, 2),
                    "peak_over_baseline": round(peak / base_mb, 2),
                    "events": r["events"], "patients": r["patients"],
                    "patients_loaded": r.get("loaded"),
                    "seconds": round(r["seconds"], 1), "error": r["error"],
                })
                if not keep:
                    path.unlink()
    finally:
        if not keep:
            for p in folder.iterdir():
                p.unlink()
            folder.rmdir()
    return {"baseline_rss_mb": round(base_mb, 1), "all_patients": all_patients, "rows": rows}


def print_memory(report: dict[str, Any]) -> bool:
    """Print the table; True when every input is within its target and nothing failed."""
    ok = True
    print(f"baseline (python + import osler.fhir, nothing read): "
          f"{report['baseline_rss_mb']:.0f} MB peak RSS")
    print(f"{'kind':<7} {'file MB':>8} {'peak MB':>8} {'peak/file':>10} {'(peak-base)/file':>17} "
          f"{'peak/base':>10} {'patients':>9} {'events':>9} {'s':>6}")
    for r in report["rows"]:
        print(f"{r['kind']:<7} {r['file_mb']:>8.1f} {r['peak_rss_mb']:>8.0f} "
              f"{r['peak_over_file']:>9.2f}x {r['above_baseline_over_file']:>16.2f}x "
              f"{r['peak_over_baseline']:>9.2f}x "
              f"{str(r['patients_loaded']) + '/' + str(r['patients']):>9} "
              f"{r['events']:>9} {r['seconds']:>6.1f}"
              + (f"  ERROR {r['error']}" if r["error"] else ""))
        if r["error"] or (r["kind"] == "bundle" and r["peak_over_file"] > BUNDLE_TARGET
                          and r["file_mb"] >= 10):
            ok = False
        if (r["kind"] == "ndjson" and not report["all_patients"]
                and r["peak_rss_mb"] > NDJSON_TARGET_MB):
            ok = False
    print(f"targets: Bundle peak <= {BUNDLE_TARGET:.0f}x file size (files of 10 MB or more); "
          + ("NDJSON not judged (--all-patients)" if report["all_patients"] else
             f"NDJSON peak <= {NDJSON_TARGET_MB:.0f} MB") + f": {'PASS' if ok else 'FAIL'}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory", action="store_true", help="peak-RSS benchmark")
    parser.add_argument("--sizes", help="comma-separated input sizes in MB (implies --memory; "
                        "default 50,200)")
    parser.add_argument("--kinds", default="bundle,ndjson",
                        help="which inputs to measure (default bundle,ndjson)")
    parser.add_argument("--keep", type=Path, help="write the inputs here and keep them")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--all-patients", action="store_true",
                        help="keep every patient's events, whatever the input's size")
    args = parser.parse_args(argv)
    if not (args.memory or args.sizes):
        return time_bench()
    try:
        sizes = [float(s) for s in (args.sizes or "50,200").split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes: not a list of numbers: {args.sizes!r}")
    if not sizes or min(sizes) <= 0:
        parser.error("--sizes: give positive sizes in MB")
    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    if not kinds or set(kinds) - {"bundle", "ndjson"}:
        parser.error(f"--kinds: choose from bundle,ndjson, not {args.kinds!r}")
    report = memory_bench(sizes, args.keep, kinds, True if args.all_patients else None)
    if args.json:
        print(json.dumps(report, indent=2))
        ok = not any(r["error"] for r in report["rows"])
    else:
        ok = print_memory(report)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
