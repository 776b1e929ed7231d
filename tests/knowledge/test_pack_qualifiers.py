"""Pack fields that qualify findings (who they fit, how text may qualify them, age-specific
thresholds, normal statements): loaded from a project-made pack, refused when malformed
with the file, entry and field named; the shipped pack's curation carries them."""

from __future__ import annotations

import importlib.util
import json
import shutil

import pytest

from osler.knowledge import KnowledgeError, default_kb, load_pack
from osler.reasoning.service import kb_fingerprint
from tests.conftest import REPO, shared
from tests.knowledge.packmaker import findings, write_pack


def qualified_findings() -> list[dict]:
    out = findings()
    out.append({"id": "testicular-pain", "label": "Testicular pain", "category": "symptom",
                "sex": "male", "min_age": 1, "max_age": 120, "direction": "increased",
                "circumstance": True, "current_only": True, "recent": True})
    out[1]["rules"].append({"loinc": ["8310-5"], "op": ">=", "value": 37.5, "unit": "Cel",
                            "max_age": 0.25, "present_only": True})
    out[2]["past"] = "testicular-pain"
    return out


def pack(tmp_path, finds=None, systems=None):
    folder = write_pack(tmp_path / "kb", finds=finds if finds is not None
                        else qualified_findings())
    if systems is not None:
        doc = json.loads((folder / "findings.json").read_text())
        doc["normal_systems"] = systems
        (folder / "findings.json").write_text(json.dumps(doc))
        from tests.knowledge.packmaker import rehash
        rehash(folder)
    return folder


def test_qualifiers_load(tmp_path):
    kb = load_pack(pack(tmp_path, systems=[{"name": "chest", "phrases": ["chest"],
                                            "absent": ["cough"]}]))
    f = kb.finding("testicular-pain")
    assert (f.sex, f.min_age, f.max_age, f.direction) == ("male", 1.0, 120.0, "increased")
    assert f.circumstance and f.current_only and f.recent
    assert kb.finding("history-smoking").past == "testicular-pain"
    rule = kb.finding("fever").rules[1]
    assert rule.max_age == 0.25 and rule.present_only and rule.covers_age(0.1, 0.1)
    assert not rule.covers_age(1, 2)
    assert "under 3 months" in rule.describe()
    assert kb.normal_systems[0].absent == ("cough",)
    plain = kb.finding("cough")
    assert (plain.sex, plain.direction, plain.past, plain.current_only) == (None, None, None,
                                                                            False)


@pytest.mark.parametrize(("entry", "key", "value", "field", "needle"), [
    (3, "sex", "other", "sex", "female"),
    (3, "min_age", -1, "min_age", "age in years"),
    (3, "max_age", "five", "max_age", "number"),
    (3, "min_age", 130, "max_age", "below max_age"),
    (3, "direction", "up", "direction", "increased"),
    (3, "circumstance", "yes", "circumstance", "true or false"),
    (3, "current_only", 1, "current_only", "true or false"),
    (3, "past", "no-such-finding", "past", "unknown finding"),
    (3, "past", "testicular-pain", "past", "another finding"),
])
def test_malformed_qualifiers_are_refused(tmp_path, entry, key, value, field, needle):
    finds = qualified_findings()
    finds[entry][key] = value
    with pytest.raises(KnowledgeError) as info:
        load_pack(pack(tmp_path, finds=finds))
    err = info.value
    assert err.file == "findings.json" and err.entry == finds[entry]["id"]
    assert err.field == field and needle in str(err)


@pytest.mark.parametrize(("rule", "field"), [
    ({"max_age": -2}, "rules[1].max_age"),
    ({"min_age": 5, "max_age": 2}, "rules[1].max_age"),
    ({"present_only": "no"}, "rules[1].present_only"),
])
def test_malformed_rule_ages(tmp_path, rule, field):
    finds = qualified_findings()
    finds[1]["rules"][1].update(rule)
    with pytest.raises(KnowledgeError) as info:
        load_pack(pack(tmp_path, finds=finds))
    assert info.value.entry == "fever" and info.value.field == field


@pytest.mark.parametrize(("systems", "needle"), [
    ([{"name": "chest", "phrases": ["chest"], "absent": ["wheeze"]}], "unknown finding"),
    ([{"name": "chest", "phrases": [], "absent": ["cough"]}], "at least one"),
    (["chest"], "must be an object"),
    ({"chest": ["cough"]}, "must be a list"),
])
def test_malformed_normal_systems(tmp_path, systems, needle):
    with pytest.raises(KnowledgeError) as info:
        load_pack(pack(tmp_path, systems=systems))
    assert info.value.file == "findings.json" and needle in str(info.value)


def test_shipped_pack_carries_the_curated_qualifiers():
    kb = default_kb()
    assert kb.finding("vaginal-bleeding").sex == "female"
    assert kb.finding("pain-in-testicles").sex == "male"
    assert kb.finding("irritable-infant").max_age == 5
    assert kb.finding("heavy-menstrual-flow").direction == "increased"
    assert kb.finding("history-smoking").past == "history-former-smoker"
    assert kb.finding("pregnant").current_only and kb.finding("recent-travel").recent
    assert kb.finding("exertional-symptoms").circumstance
    assert {s.name for s in kb.normal_systems} >= {"abdomen", "chest", "blood count"}
    assert "st depression" in {p.lower() for p in kb.blocked_phrases}
    ages = sorted((r.min_age or 0, r.value) for r in kb.finding("tachycardia").rules)
    assert ages[0] == (0, 205) and ages[-1] == (12, 100)
    assert kb.finding("tachycardia").rule.value == 100  # the adults' rule stays first


def test_qualifiers_do_not_change_what_the_model_learns(tmp_path):
    """Only ids, P(finding|condition), priors and LRs enter the model; the curation of
    qualifiers changes none of them (the shipped model stays valid)."""
    kb = default_kb()
    stripped = tmp_path / "stripped"
    shutil.copytree(kb.path, stripped)
    doc = json.loads((stripped / "findings.json").read_text(encoding="utf-8"))
    for f in doc["findings"]:
        for key in ("sex", "min_age", "max_age", "direction", "circumstance", "past",
                    "current_only", "recent"):
            f.pop(key, None)
        f["rules"] = [r for r in f.get("rules", []) if "max_age" not in r]
        for r in f["rules"]:
            r.pop("min_age", None)
    doc.pop("normal_systems")
    (stripped / "findings.json").write_text(json.dumps(doc), encoding="utf-8")
    from tests.knowledge.packmaker import rehash
    rehash(stripped)
    assert kb_fingerprint(load_pack(stripped)) == kb_fingerprint(kb)


def test_build_refuses_qualifiers_for_unknown_findings(tmp_path, monkeypatch):
    data = shared()
    spec = importlib.util.spec_from_file_location("build_kb", REPO / "resources" / "kb" /
                                                  "build_kb.py")
    build_kb = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_kb)
    cur = tmp_path / "curation"
    shutil.copytree(REPO / "resources" / "kb" / "curation", cur)
    doc = json.loads((cur / "findings.json").read_text(encoding="utf-8"))
    doc["populations"]["male"].append("no-such-finding")
    (cur / "findings.json").write_text(json.dumps(doc), encoding="utf-8")
    monkeypatch.setattr(build_kb, "CURATION", cur)
    with pytest.raises(build_kb.BuildError, match=r"populations\.male.*no-such-finding"):
        build_kb.build(data, tmp_path / "out")
    assert not (tmp_path / "out" / "manifest.json").exists()
