"""Import memory, measured by bench/import_bench.py in fresh subprocesses against a baseline
process of the same run (peak RSS, never time)."""

from __future__ import annotations

import json

from bench.import_bench import BUNDLE_TARGET, main, memory_bench


def test_memory_bench_runs_at_tiny_size(capsys):
    assert main(["--sizes", "0.1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    rows = {r["kind"]: r for r in report["rows"]}
    assert set(rows) == {"bundle", "ndjson"}
    assert report["baseline_rss_mb"] > 0
    for r in rows.values():
        assert r["error"] is None and r["events"] > 0 and r["patients"] == 1
        assert r["peak_rss_mb"] >= report["baseline_rss_mb"] * 0.9
    assert rows["bundle"]["events"] == rows["ndjson"]["events"]


def test_ndjson_is_streamed_and_a_bundle_stays_within_its_target():
    # 16 MB: big enough that holding every raw resource (about 8x the file above the
    # baseline before the streaming importer) stands out from the fixed costs.
    rows = {r["kind"]: r for r in memory_bench([16], all_patients=True)["rows"]}
    ndjson, bundle = rows["ndjson"], rows["bundle"]
    assert ndjson["error"] is None and bundle["error"] is None
    assert ndjson["events"] == bundle["events"] > 20_000
    assert ndjson["above_baseline_over_file"] < 3.0, ndjson
    assert bundle["above_baseline_over_file"] <= BUNDLE_TARGET, bundle


def test_one_patient_ndjson_memory_does_not_grow_with_the_file():
    # Loading only the first patient (what a large input gets): going from 4 to 24 MB of
    # NDJSON (1 to 6 patients of ~5,000 events) may not add more than a patient's worth.
    # Holding every patient's events (the all-patients mode) adds about 1.2x the file.
    report = memory_bench([4, 24], kinds=("ndjson",), all_patients=False)
    small, large = report["rows"]
    assert small["error"] is None and large["error"] is None
    assert large["patients"] > small["patients"] >= 1
    assert large["patients_loaded"] == small["patients_loaded"] == 1
    assert large["peak_rss_mb"] - small["peak_rss_mb"] < 8, report
