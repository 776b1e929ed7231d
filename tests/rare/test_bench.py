"""The rare-panel benchmark's plumbing (its timings are for bench runs, never asserted)."""


def test_rare_bench_measures_the_panel_against_the_differential_alone():
    from bench.rare_bench import run

    r = run(repeat=1)
    assert len(r["cases"]) == 3 and r["first_use_s"] >= 0
    for row in r["cases"]:
        assert row["differential_ms"] > 0 and row["with_panel_ms"] > 0
