"""The KB build script: prior estimation, body-part variants, and a reproducible pack."""

from __future__ import annotations

import importlib.util
import json
import math
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO, shared

spec = importlib.util.spec_from_file_location("build_kb", REPO / "resources" / "kb" /
                                              "build_kb.py")
build_kb = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build_kb)


def synthetic_symcat(priors: dict[str, float], p_s_given_c: dict[str, dict[str, float]],
                     listed: int = 8):
    """SymCat-shaped dicts whose P(c|s) follow Bayes' rule from the given priors."""
    conditions = {c: {"symptoms": {s: {"probability": p * 100} for s, p in sym.items()}}
                  for c, sym in p_s_given_c.items()}
    symptoms = {}
    all_s = sorted({s for sym in p_s_given_c.values() for s in sym})
    for s in all_s:
        p_s = sum(priors[c] * p_s_given_c[c].get(s, 0) for c in priors)
        post = {c: priors[c] * p_s_given_c[c].get(s, 0) / p_s for c in priors}
        top = sorted((c for c in post if post[c] > 0), key=lambda c: -post[c])[:listed]
        symptoms[s] = {"common_causes": {f"cause-{c}": {"probability": post[c] * 100}
                                         for c in top}}
    return conditions, symptoms


def test_priors_recovered_from_bayes_consistent_tables():
    priors = {"a": 0.5, "b": 0.3, "c": 0.15, "d": 0.05}
    psc = {"a": {"s1": 0.6, "s2": 0.2}, "b": {"s1": 0.3, "s2": 0.5}, "c": {"s2": 0.4, "s3": 0.7},
           "d": {"s3": 0.9, "s1": 0.1}}
    conds, syms = synthetic_symcat(priors, psc)
    est, basis = build_kb.estimate_priors(conds, syms)
    total = sum(est.values())
    for c, p in priors.items():
        assert est[c] / total == pytest.approx(p, rel=1e-6)
        assert basis[c] == "symcat-least-squares"


def test_unlisted_condition_gets_a_censored_estimate_below_the_bound():
    names = [f"c{i}" for i in range(10)]
    priors = {c: (10 - i) / 55 for i, c in enumerate(names)}
    psc = {c: {"s1": 0.5} for c in names}
    conds, syms = synthetic_symcat(priors, psc, listed=8)  # c8, c9 are not listed
    est, basis = build_kb.estimate_priors(conds, syms)
    assert basis["c9"] == "symcat-censored"
    # Not listed means P(c9|s1) < P(c7|s1), so its prior is below c7's; half the bound used.
    assert est["c9"] == pytest.approx(est["c7"] * build_kb.CENSORED_FRACTION, rel=1e-6)
    assert all(math.isfinite(v) and v > 0 for v in est.values())


def test_body_part_variants():
    v = build_kb.body_variants("Foot or toe pain")
    assert {"pain in the foot", "painful toe", "feet pain", "sore foot"} <= set(v)
    assert "stiff knee" in build_kb.body_variants("Knee stiffness or tightness")
    assert "lower back pain" in build_kb.body_variants("Low back pain")
    assert build_kb.body_variants("Cough") == []


def test_shipped_pack_is_exactly_what_the_script_builds(tmp_path):
    data = shared()
    out = tmp_path / "kb"
    stats = build_kb.build(data, out)
    assert stats["icd10_mapped"] == f"{stats['conditions']}/{stats['conditions']}"
    for name in ("manifest.json", "conditions.json", "findings.json", "icd10_mapping.json",
                 "hpo.json"):
        assert (out / name).read_bytes() == (REPO / "resources" / "kb" / name).read_bytes(), (
            f"resources/kb/{name} is stale: rerun resources/kb/build_kb.py")


def test_inconsistent_curation_stops_the_build(tmp_path, monkeypatch):
    data = shared()
    cur = tmp_path / "curation"
    shutil.copytree(REPO / "resources" / "kb" / "curation", cur)
    doc = json.loads((cur / "cant_miss.json").read_text())
    doc["conditions"]["no-such-condition"] = ["x", "y"]
    (cur / "cant_miss.json").write_text(json.dumps(doc))
    monkeypatch.setattr(build_kb, "CURATION", cur)
    with pytest.raises(build_kb.BuildError, match="no-such-condition"):
        build_kb.build(data, tmp_path / "out")
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_build_script_refuses_a_missing_data_folder(tmp_path, capsys):
    assert build_kb.main([str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")]) == 2
    assert "symcat" in capsys.readouterr().err
    assert Path(build_kb.__file__).name == "build_kb.py"


def _conds() -> dict:
    """Two small conditions in the build's internal shape."""
    return {
        "chancroid": {"findings": {"ankle-pain": 0.32, "fatigue": 0.32, "bumps-on-penis": 0.1},
                      "finding_basis": {"ankle-pain": "symcat", "fatigue": "symcat",
                                        "bumps-on-penis": "symcat"}},
        "flu": {"findings": {"fever": 0.9, "cough": 0.8},
                "finding_basis": {"fever": "symcat", "cough": "osler-estimate"}},
    }


FIDS = {"ankle-pain", "fatigue", "bumps-on-penis", "fever", "cough", "swollen-lymph-nodes"}


def _apply(entries: list[dict], conds: dict | None = None) -> dict:
    conds = conds or _conds()
    build_kb.apply_hallmarks(conds, [("curation/hallmarks/t.json", {"entries": entries})],
                             FIDS, lambda f: f)
    return conds


def test_hallmark_layer_caps_a_noisy_list_then_sets_its_hallmarks():
    c = _apply([
        {"condition": "chancroid", "finding": "*", "cap": 0.05, "basis": "osler-estimate",
         "note": "survey noise"},
        {"condition": "chancroid", "finding": "bumps-on-penis", "p": 0.5, "basis": "x"},
        {"condition": "chancroid", "finding": "swollen-lymph-nodes", "p": 0.4, "basis": "x"},
    ])["chancroid"], None
    chancroid = c[0]
    assert chancroid["findings"] == {"ankle-pain": 0.05, "fatigue": 0.05,
                                     "bumps-on-penis": 0.5, "swollen-lymph-nodes": 0.4}
    assert chancroid["finding_basis"]["ankle-pain"] == "symcat-capped"
    assert chancroid["finding_basis"]["bumps-on-penis"] == "hallmark"


def test_hallmark_cap_and_drop_keep_the_basis_reviewable():
    conds = _apply([
        {"condition": "flu", "finding": "cough", "cap": 0.5, "basis": "x"},
        {"condition": "flu", "finding": "fever", "drop": True, "basis": "x", "note": "test"},
    ])
    assert conds["flu"]["findings"] == {"cough": 0.5}
    assert conds["flu"]["finding_basis"] == {"cough": "osler-estimate-capped"}


@pytest.mark.parametrize(("entry", "message"), [
    ({"condition": "nope", "finding": "fever", "p": 0.5, "basis": "x"}, "unknown condition"),
    ({"condition": "flu", "finding": "nope", "p": 0.5, "basis": "x"}, "unknown finding"),
    ({"condition": "flu", "finding": "fever", "p": 1.5, "basis": "x"}, r"\(0, 1\]"),
    ({"condition": "flu", "finding": "fever", "p": 0.5}, "needs a basis"),
    ({"condition": "flu", "finding": "fever", "p": 0.5, "cap": 0.2, "basis": "x"}, "exactly one"),
    ({"condition": "flu", "finding": "fever", "drop": True, "basis": "x"}, "needs a note"),
    ({"condition": "flu", "finding": "*", "p": 0.5, "basis": "x", "note": "n"}, "only a cap"),
])
def test_bad_hallmark_entries_name_file_and_entry(entry, message):
    with pytest.raises(build_kb.BuildError, match=message) as exc:
        _apply([entry])
    assert "curation/hallmarks/t.json entries[0]" in str(exc.value)


def test_one_pair_curated_twice_is_refused():
    e = {"condition": "flu", "finding": "fever", "p": 0.5, "basis": "x"}
    with pytest.raises(build_kb.BuildError, match=r"entries\[1\].*already curated in"):
        _apply([e, dict(e, p=0.6)])


def test_new_findings_from_two_files_must_agree():
    a = ("a.json", {"new_findings": [{"id": "genital-ulcer", "label": "Genital ulcer",
                                      "category": "sign", "synonyms": ["genital sore"]}]})
    b = ("b.json", {"new_findings": [{"id": "genital-ulcer", "label": "Genital ulcer",
                                      "category": "sign", "synonyms": ["ulcer on genitals"]}]})
    merged = build_kb.new_findings([a, b])
    assert merged[0]["synonyms"] == ["genital sore", "ulcer on genitals"]
    c = ("c.json", {"new_findings": [{"id": "genital-ulcer", "label": "Ulcer",
                                      "category": "sign"}]})
    with pytest.raises(build_kb.BuildError, match=r"c\.json new_findings.*already defined"):
        build_kb.new_findings([a, c])
    with pytest.raises(build_kb.BuildError, match="category"):
        build_kb.new_findings([("d.json", {"new_findings": [
            {"id": "x", "label": "X", "category": "vital"}]})])


def test_added_condition_is_validated_and_joins_the_pack():
    conds = {"migraine": {"age_lr": {"15-29": 2.0}, "sex_lr": {"female": 1.5},
                          "findings": {}, "finding_basis": {}}}
    spec = {"id": "ttorsion", "name": "Testicular torsion", "icd10": ["N44.00"],
            "findings": {"fever": 0.1, "cough": 0.05}, "age_sex_from": "migraine",
            "sex_lr": {"female": 0.0001, "male": 2.0},
            "prior": {"relative_to": "migraine", "factor": 0.1}, "basis": "osler-estimate",
            "cant_miss": {"rationale": "testis lost within hours", "citation": "ref"}}
    icd, cm, priors = {}, {}, {}
    build_kb.add_conditions(conds, [spec], FIDS, lambda f: f, icd, cm, priors)
    t = conds["ttorsion"]
    assert t["sex_lr"] == {"female": 0.0001, "male": 2.0} and t["age_lr"] == {"15-29": 2.0}
    assert t["finding_basis"] == {"fever": "osler-estimate", "cough": "osler-estimate"}
    assert icd["ttorsion"] == ["N44.00"] and cm["ttorsion"][0] == "testis lost within hours"
    assert priors["ttorsion"]["factor"] == 0.1
    for bad, message in ((dict(spec, id="migraine"), "already exists"),
                         (dict(spec, findings={"nope": 0.5}), "unknown finding"),
                         (dict(spec, prior={"relative_to": "x", "factor": 1}), "prior"),
                         (dict(spec, age_lr={"old": 2.0}), "bad age_lr"),
                         ({k: v for k, v in spec.items() if k != "icd10"}, "missing 'icd10'")):
        with pytest.raises(build_kb.BuildError, match=message):
            fresh = {"migraine": conds["migraine"]}
            build_kb.add_conditions(fresh, [bad], FIDS, lambda f: f, {}, {}, {})


def test_a_curated_broad_finding_is_not_raised_again_from_its_children(tmp_path, monkeypatch):
    data = shared()
    cur = tmp_path / "curation"
    shutil.copytree(REPO / "resources" / "kb" / "curation", cur)
    (cur / "hallmarks").mkdir(exist_ok=True)
    for other in (cur / "hallmarks").glob("*.json"):  # this test's pairs only from t.json
        doc = json.loads(other.read_text())
        doc["entries"] = [e for e in doc.get("entries", []) if e["condition"] != "heart-attack"]
        other.write_text(json.dumps(doc))
    (cur / "hallmarks" / "t.json").write_text(json.dumps({"entries": [
        {"condition": "heart-attack", "finding": "sharp-chest-pain", "p": 0.6, "basis": "t"},
        {"condition": "heart-attack", "finding": "chest-pain", "p": 0.3, "basis": "t"}]}))
    monkeypatch.setattr(build_kb, "CURATION", cur)
    build_kb.build(data, tmp_path / "out")
    conds = {c["id"]: c for c in json.loads((tmp_path / "out" / "conditions.json").read_text())[
        "conditions"]}
    mi = conds["heart-attack"]
    assert mi["findings"]["sharp-chest-pain"] == 0.6
    assert mi["findings"]["chest-pain"] == 0.3  # not the noisy-OR of its children
    assert mi["finding_basis"]["chest-pain"] == "hallmark"
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert "resources/kb/curation/hallmarks/t.json" in manifest["inputs"]


def test_specific_findings_inherit_only_from_a_listed_broad_finding():
    pack = REPO / "resources" / "kb"
    hier = json.loads((pack / "curation" / "hierarchy.json").read_text())
    conds = json.loads((pack / "conditions.json").read_text())["conditions"]
    findings = json.loads((pack / "findings.json").read_text())["findings"]
    parents = {f["id"]: f["parent"] for f in findings if f.get("parent")}
    share = hier["inherit"]
    inherited = 0
    for c in conds:
        for fid, basis in c["finding_basis"].items():
            if basis != "inherited-from-broad":
                continue
            inherited += 1
            parent = parents[fid]
            assert c["finding_basis"][parent] != "derived-from-specific", (c["id"], fid)
            assert c["findings"][fid] == round(c["findings"][parent] * share[fid], 4)
    assert inherited > 100
    assert "hemoptysis" not in share and "thunderclap-headache" not in share  # distinct signs


def test_a_prerequisite_naming_an_unknown_finding_stops_the_build(tmp_path, monkeypatch):
    data = shared()
    cur = tmp_path / "curation"
    shutil.copytree(REPO / "resources" / "kb" / "curation", cur)
    doc = json.loads((cur / "prerequisites.json").read_text())
    doc["conditions"].pop("appendicitis", None)
    doc["conditions"]["appendicitis"] = {"requires": [{"any_of": ["no-such-finding"],
                                                        "basis": "test"}]}
    (cur / "prerequisites.json").write_text(json.dumps(doc))
    monkeypatch.setattr(build_kb, "CURATION", cur)
    with pytest.raises(build_kb.BuildError,
                       match=r"curation/prerequisites\.json: appendicitis: "
                             r"requires\[0\]\.any_of\[0\]: unknown finding 'no-such-finding'"):
        build_kb.build(data, tmp_path / "out")
    assert not (tmp_path / "out" / "manifest.json").exists()
