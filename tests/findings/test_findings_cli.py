"""`osler findings`: exit codes, one JSON document, sources."""

from __future__ import annotations

import json
import subprocess
import sys

from osler.cli import main
from tests.knowledge.packmaker import write_pack


def run_json(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else None), err


def test_text(capsys):
    code, doc, _ = run_json(capsys, ["findings", "--text", "Denies chest pain. Possible rash.",
                                     "--no-semantic", "--json"])
    assert code == 0
    got = {f["id"]: f for f in doc["findings"]}
    assert got["chest-pain"]["present"] is False and got["chest-pain"]["source"] == "text[7:17]"
    assert got["skin-rash"]["certain"] is False and got["skin-rash"]["text"] == "rash"
    assert doc["kb"]["name"] and doc["semantic"] is False


def test_record_at_a_time_and_all_mentions(capsys, small_bundle_path):
    code, doc, _ = run_json(capsys, ["findings", str(small_bundle_path), "--no-semantic",
                                     "--json"])
    ids = {f["id"]: f for f in doc["findings"]}
    assert ids["tachycardia"]["present"] and ids["tachycardia"]["value"] == 118
    assert ids["tachycardia"]["source"].startswith("Observation/")
    assert doc["patient"]
    code, doc, _ = run_json(capsys, ["findings", str(small_bundle_path), "--at", "2023-01-11",
                                     "--no-semantic", "--json", "--all"])
    assert code == 0 and "tachycardia" not in {f["id"] for f in doc["findings"]}
    assert doc["at"].startswith("2023-01-11")


def test_text_file_and_text_output(tmp_path, capsys):
    note = tmp_path / "note.txt"
    note.write_text("HR 130, afebrile", encoding="utf-8")
    assert main(["findings", "--text-file", str(note), "--no-semantic"]) == 0
    out = capsys.readouterr().out
    assert "+  Tachycardia" in out and "= 130 /min" in out and "-  Fever" in out


def test_bad_input_is_one_line_exit_2(tmp_path, capsys):
    for argv in (["findings"], ["findings", "--text", "x", "--at", "yesterday"],
                 ["findings", "--text-file", str(tmp_path / "missing.txt")],
                 ["findings", str(tmp_path / "missing.json")]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("osler findings: error:"), err


def test_other_kb_pack(tmp_path, capsys):
    folder = write_pack(tmp_path / "kb")
    code, doc, _ = run_json(capsys, ["findings", "--kb", str(folder), "--text",
                                     "coughing, afebrile", "--no-semantic", "--json"])
    assert code == 0 and doc["kb"]["name"] == "Test pack"
    assert [(f["id"], f["present"]) for f in doc["findings"]] == [("cough", True),
                                                                  ("fever", False)]


def test_console_script_prints_one_json_document():
    out = subprocess.run([sys.executable, "-m", "osler", "findings", "--text",
                          "no fever, cough", "--no-semantic", "--json"],
                         capture_output=True, text=True, check=True, timeout=120)
    doc = json.loads(out.stdout)
    assert {f["id"] for f in doc["findings"]} == {"fever", "cough"}
