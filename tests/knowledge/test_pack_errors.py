"""A broken pack is refused with a KnowledgeError naming the file, the entry and the field."""

from __future__ import annotations

import json

import pytest

from osler.cli import main
from osler.knowledge import KnowledgeError, load_pack
from tests.knowledge.packmaker import conditions, findings, rehash, write_pack


def broken(tmp_path, **kw):
    with pytest.raises(KnowledgeError) as info:
        load_pack(write_pack(tmp_path / "kb", **kw))
    return info.value


def test_missing_folder_and_manifest(tmp_path):
    with pytest.raises(KnowledgeError, match="not a folder"):
        load_pack(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(KnowledgeError) as info:
        load_pack(tmp_path / "empty")
    err = info.value
    assert err.file == "manifest.json" and "missing" in str(err)


def test_bad_json_names_line_and_column(tmp_path):
    folder = write_pack(tmp_path / "kb")
    (folder / "conditions.json").write_text('{"conditions": [\n  {"id": "x",,}]}')
    rehash(folder)
    with pytest.raises(KnowledgeError) as info:
        load_pack(folder)
    err = info.value
    assert err.file == "conditions.json" and "line 2" in str(err)


def test_changed_file_fails_its_checksum(tmp_path):
    err = broken(tmp_path, raw={"findings.json": json.dumps({"findings": findings()}) + " "})
    assert err.file == "findings.json" and err.field == "sha256"


def test_wrong_format_and_version(tmp_path):
    assert broken(tmp_path, manifest={"format": "zip"}).field == "format"
    err = broken(tmp_path, manifest={"format_version": 99})
    assert err.field == "format_version" and "99" in str(err)


def test_unknown_finding_in_a_condition(tmp_path):
    conds = conditions()
    conds[1]["findings"]["night-sweats"] = 0.2
    err = broken(tmp_path, conds=conds)
    assert (err.file, err.entry, err.field) == ("conditions.json", "pneumonia",
                                                "findings.night-sweats")
    assert str(err).startswith("conditions.json: pneumonia: findings.night-sweats:")


def test_alias_used_as_an_id_is_explained(tmp_path):
    conds = conditions()
    conds[0]["findings"]["smoking-problems"] = 0.1
    assert "use that id" in str(broken(tmp_path, conds=conds))


@pytest.mark.parametrize(("field", "value", "needle"), [
    ("prior", 1.5, "outside"),
    ("prior", "0.5", "must be a number"),
    ("icd10", ["I21.9", "heart attack"], "well-formed"),
    ("severity", 9, "1..5"),
    ("age_lr", {"elderly": 2.0}, "unknown key"),
    ("sex_lr", {"female": -1}, "negative"),
    ("cant_miss", "yes", "true or false"),
    ("id", "Flu Virus", "slug"),
])
def test_condition_field_errors(tmp_path, field, value, needle):
    conds = conditions()
    conds[0][field] = value
    err = broken(tmp_path, conds=conds)
    assert needle in str(err) and err.file == "conditions.json"
    assert (err.field or "").startswith(field) or (field == "id" and err.entry == "entry 0")


def test_probability_outside_range(tmp_path):
    conds = conditions()
    conds[0]["findings"]["cough"] = 1.2
    err = broken(tmp_path, conds=conds)
    assert err.entry == "flu" and err.field == "findings.cough" and "[0, 1]" in str(err)


def test_priors_must_sum_to_one(tmp_path):
    conds = conditions()
    conds[0]["prior"] = 0.2
    err = broken(tmp_path, conds=conds)
    assert err.field == "prior" and "sum" in str(err)


def test_cant_miss_needs_rationale(tmp_path):
    conds = conditions()
    del conds[1]["cant_miss_rationale"]
    assert broken(tmp_path, conds=conds).field == "cant_miss_rationale"


def test_duplicate_ids(tmp_path):
    conds = conditions()
    conds.append(dict(conds[0]))
    assert "duplicate" in str(broken(tmp_path, conds=conds))
    finds = findings()
    finds.append(dict(finds[0]))
    err = broken(tmp_path, finds=finds)
    assert err.file == "findings.json" and err.entry == "cough"


@pytest.mark.parametrize(("mutate", "field", "needle"), [
    (lambda f: f[1]["rules"][0].update(unit="furlongs"), "rules[0].unit", "convert"),
    (lambda f: f[1]["rules"][0].update(op="=="), "rules[0].op", "one of"),
    (lambda f: f[1]["rules"][0].update(loinc=[]), "rules[0].loinc", "LOINC"),
    (lambda f: f[1]["rules"][0].update(sex="other"), "rules[0].sex", "female"),
    (lambda f: f[0].update(category="feeling"), "category", "one of"),
    (lambda f: f[0].update(codes=["snomed 123"]), "codes", "system|code"),
    (lambda f: f[2]["record"][0].update(kind="telepathy"), "record[0].kind", "event kind"),
    (lambda f: f[0].update(parent="nothing"), "parent", "unknown parent"),
    (lambda f: f[0].update(synonyms="coughing"), "synonyms", "list of strings"),
])
def test_finding_field_errors(tmp_path, mutate, field, needle):
    finds = findings()
    mutate(finds)
    err = broken(tmp_path, finds=finds)
    assert err.file == "findings.json" and err.field == field and needle in str(err)


def test_cli_reports_a_broken_pack_in_one_line(tmp_path, capsys):
    conds = conditions()
    conds[0]["findings"]["night-sweats"] = 0.2
    folder = write_pack(tmp_path / "kb", conds=conds)
    assert main(["kb", "stats", "--kb", str(folder), "--json"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "conditions.json: flu: findings.night-sweats" in err


def _with(field: str, value, cid: str = "pneumonia") -> list:
    conds = conditions()
    next(c for c in conds if c["id"] == cid)[field] = value
    return conds


def test_prerequisites_are_parsed_and_counted(tmp_path):
    from osler.knowledge.stats import kb_stats

    conds = _with("requires", [{"any_of": ["history-smoking", "condition:flu", "age>=18"],
                                "basis": "test basis"}])
    conds[0]["excludes"] = [{"any_of": ["sex:male"], "basis": "test"}]
    kb = load_pack(write_pack(tmp_path / "kb", conds=conds))
    req = kb.condition("pneumonia").requires[0]
    assert [i.text() for i in req.any_of] == ["history-smoking", "condition:flu", "age>=18"]
    assert kb.condition("flu").excludes[0].any_of[0].kind == "sex"
    pre = kb_stats(kb)["prerequisites"]
    assert (pre["with_requirements"], pre["with_exclusions"], pre["reviewed"]) == (1, 1, 2)


@pytest.mark.parametrize(("entry", "field", "message"), [
    ({"any_of": ["no-such-finding"], "basis": "x"}, "requires[0].any_of[0]", "unknown finding"),
    ({"any_of": ["condition:no-such"], "basis": "x"}, "requires[0].any_of[0]",
     "unknown condition"),
    ({"any_of": ["cough", "age<>3"], "basis": "x"}, "requires[0].any_of[1]", "age bound"),
    ({"any_of": ["sex:other"], "basis": "x"}, "requires[0].any_of[0]", "female or male"),
    ({"any_of": ["cough"]}, "requires[0].basis", "clinical basis"),
    ({"any_of": [], "basis": "x"}, "requires[0].any_of", "non-empty"),
])
def test_a_bad_prerequisite_names_file_condition_and_field(tmp_path, entry, field, message):
    err = broken(tmp_path, conds=_with("requires", [entry]))
    assert (err.file, err.entry, err.field) == ("conditions.json", "pneumonia", field)
    assert message in str(err)


def test_bad_base_rate_and_episode_window(tmp_path):
    finds = findings()
    finds[2]["base_rate"] = 1.5
    err = broken(tmp_path, finds=finds)
    assert (err.file, err.entry, err.field) == ("findings.json", "history-smoking", "base_rate")
    folder = write_pack(tmp_path / "kb2")
    (folder / "episode.json").write_text(json.dumps({"windows_days": {"vital": -1}}))
    m = json.loads((folder / "manifest.json").read_text())
    m["files"]["episode.json"] = ""
    (folder / "manifest.json").write_text(json.dumps(m))
    rehash(folder)
    with pytest.raises(KnowledgeError) as info:
        load_pack(folder)
    assert info.value.file == "episode.json" and info.value.field == "windows_days.vital"
