"""`osler findings` and `osler kb stats` with every socket blocked (the MiniLM loads locally)."""

import json

from tests.test_offline import run_offline


def test_findings_and_kb_stats_offline(small_bundle_path):
    proc = run_offline("findings", str(small_bundle_path), "--text",
                       "my tummy really hurts, no vomiting", "--json")
    assert proc.returncode == 0, proc.stderr
    assert "network access attempted" not in proc.stderr
    doc = json.loads(proc.stdout)
    ids = {f["id"]: f for f in doc["findings"]}
    assert doc["semantic"] is True and ids["abdominal-pain"].get("score", 1) < 1
    assert ids["vomiting"]["present"] is False and ids["tachycardia"]["present"] is True
    proc = run_offline("kb", "stats", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["icd10_coverage"]["combined"]["text"] == "1210/1210"
