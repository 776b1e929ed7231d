"""`osler kb stats`."""

import json

from osler.cli import main
from tests.knowledge.packmaker import write_pack


def test_kb_stats_json_on_the_shipped_pack(capsys):
    assert main(["kb", "stats", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    cov = doc["icd10_coverage"]
    assert cov["symcat"]["text"] == "801/801" and cov["ddxplus"]["text"] == "49/49"
    assert cov["combined"]["mapped"] == cov["combined"]["total"] == doc["conditions"]["total"]
    assert cov["combined"]["valid_codes"] == cov["combined"]["codes"]
    assert doc["conditions"]["by_source"]["symcat"] == 801
    assert doc["cant_miss"] >= 9 and doc["findings"]["by_category"]["vital"] >= 7
    assert "SymCat" in doc["license"] and doc["version"]


def test_kb_stats_text_and_other_pack(tmp_path, capsys):
    folder = write_pack(tmp_path / "kb")
    assert main(["kb", "stats", "--kb", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "Test pack 0.0.1" in out and "2 conditions" in out and "test data" in out
    assert main(["kb", "stats", "--kb", str(folder), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["icd10_coverage"]["combined"]["text"] == "2/2"
