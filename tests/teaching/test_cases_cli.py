"""`osler cases`: exit 0 on success, 2 with one line on stderr on bad input, --json."""

from __future__ import annotations

import json

import pytest

from osler.cli import main
from tests.conftest import small_bundle
from tests.teaching.case_fixtures import private_case_folder, write_mini_case  # noqa: F401


@pytest.fixture
def user_folder(private_case_folder):  # noqa: F811
    """$OSLER_CASES_DIR for the test: the trainer's own cases."""
    return private_case_folder


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_and_filter(capsys):
    code, out, err = run(capsys, "cases", "list", "--json")
    doc = json.loads(out)
    assert code == 0 and err == "" and len(doc["cases"]) >= 8
    assert all("gold" not in c for c in doc["cases"])  # listing gives nothing away
    code, out, _ = run(capsys, "cases", "list", "--specialty", "neurology", "--json")
    assert [c["id"] for c in json.loads(out)["cases"]] == ["sudden-severe-headache"]
    code, out, _ = run(capsys, "cases", "list", "--difficulty", "advanced")
    assert code == 0 and "confused-and-shivering" in out and "sudden" not in out
    code, out, err = run(capsys, "cases", "list", "--difficulty", "hard")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1


def test_show(capsys):
    code, out, _ = run(capsys, "cases", "show", "crushing-chest-pain-at-rest", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["gold"]["name"] == "Acute myocardial infarction"
    assert [s["stage"] for s in doc["stages"]] == ["presentation", "history", "exam", "labs",
                                                   "imaging"]
    assert doc["patient"] == "58-year-old male"
    code, out, err = run(capsys, "cases", "show", "no-such-case")
    assert code == 2 and "no case with id 'no-such-case'" in err and len(err.splitlines()) == 1


def test_add_show_remove_round_trip(capsys, tmp_path, user_folder):
    record = tmp_path / "record.json"
    record.write_text(json.dumps(small_bundle()), encoding="utf-8")
    code, out, err = run(capsys, "cases", "add", str(record), "--title", "Cough, fever 62F",
                         "--gold", "pneumonia", "--specialty", "respiratory", "--difficulty",
                         "beginner", "--objective", "Use CURB-65", "--now",
                         "2024-03-01T10:00:00Z", "--json")
    assert code == 0, err
    added = json.loads(out)
    assert added["added"] == "cough-fever-62f" and added["gold"]["icd10"] == ["J18.9", "J17"]
    assert (user_folder / "cough-fever-62f.case.json").is_file()
    code, out, _ = run(capsys, "cases", "list", "--text", "62F", "--json")
    assert [c["source"] for c in json.loads(out)["cases"]] == ["user"]
    code, out, _ = run(capsys, "cases", "show", "cough-fever-62f", "--json")
    assert json.loads(out)["now"] == "2024-03-01T10:00:00+00:00"
    code, out, err = run(capsys, "cases", "add", str(record), "--title", "Cough, fever 62F",
                         "--gold", "pneumonia")
    assert code == 2 and "already exists" in err
    code, out, err = run(capsys, "cases", "add", str(record), "--title", "Cough, fever 62F",
                         "--gold", "heart attack", "--force", "--json")
    assert code == 0, err
    assert json.loads(out)["gold"]["icd10"][0].startswith("I21")
    code, out, _ = run(capsys, "cases", "remove", "cough-fever-62f")
    assert code == 0 and not any(user_folder.iterdir())


def test_add_imports_a_case_file_beside_the_bundle(capsys, tmp_path, user_folder):
    sidecar = write_mini_case(tmp_path / "shared", "from-colleague")
    code, _out, err = run(capsys, "cases", "add", str(sidecar.with_name("from-colleague.json")))
    assert code == 0, err
    assert sorted(p.name for p in user_folder.iterdir()) == [
        "from-colleague.case.json", "from-colleague.json"]


@pytest.mark.parametrize("argv, words", [
    (["--title", "only a title"], "give both --title and --gold"),
    ([], "no case file"),
    (["--title", "t", "--gold", "Frobnitz syndrome"], "names no condition"),
    (["--title", "t", "--gold", "pneumonia", "--gold-icd10", "ZZZ"], "not an ICD-10-CM code"),
    (["--title", "t", "--gold", "pneumonia", "--now", "soon"], "--now"),
    (["--title", "t", "--gold", "pneumonia", "--notes-file", "/nonexistent/notes.txt"],
     "cannot read"),
])
def test_add_bad_input_is_one_line_and_exit_2(capsys, tmp_path, argv, words, user_folder):
    record = tmp_path / "record.json"
    record.write_text(json.dumps(small_bundle()), encoding="utf-8")
    code, out, err = run(capsys, "cases", "add", str(record), *argv)
    assert code == 2 and out == "" and words in err and len(err.strip().splitlines()) == 1
    assert not user_folder.exists() or not any(user_folder.iterdir())


def test_a_broken_user_case_is_a_warning_in_the_listing(capsys, user_folder):
    write_mini_case(user_folder, "broken", gold={"name": ""})
    code, out, err = run(capsys, "cases", "list")
    assert code == 0 and "breathless-after-knee-surgery" in out
    assert "broken.case.json: gold.name: must not be empty" in err
