"""Loading KB packs: the project-made tiny pack and the shipped one."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from osler.knowledge import default_kb, kb_for, load_pack
from osler.knowledge.model import age_band
from osler.knowledge.pack import default_pack_dir
from tests.knowledge.packmaker import write_pack

CANT_MISS_EXAMPLES = ["heart-attack", "pulmonary-embolism", "aortic-dissection", "meningitis",
                      "subarachnoid-hemorrhage", "ectopic-pregnancy", "sepsis", "stroke",
                      "appendicitis"]


def test_tiny_pack_loads_with_its_fields(tmp_path):
    kb = load_pack(write_pack(tmp_path / "kb"))
    assert kb.name == "Test pack" and kb.version == "0.0.1"
    assert [c.id for c in kb.conditions] == ["flu", "pneumonia"]
    pn = kb.condition("pneumonia")
    assert pn.cant_miss and pn.cant_miss_rationale and pn.severity == 3
    assert pn.findings == {"cough": 0.9, "fever": 0.7, "history-smoking": 0.3}
    fever = kb.finding("fever")
    assert fever.rule is fever.rules[0] and fever.rule.matches(38.2)
    assert not fever.rule.matches(37.9)
    assert fever.negated_synonyms == ("afebrile",)
    assert kb.finding("smoking-problems").id == "history-smoking"  # alias
    assert kb.resolve_finding("smoking-problems") == "history-smoking"
    assert kb.resolve_finding("nonexistent") is None
    assert kb.blocked_phrases == ("sleep paralysis",)
    assert kb.findings_in("vital") == [fever]


def test_kb_for_caches_per_folder(tmp_path):
    folder = write_pack(tmp_path / "kb")
    assert kb_for(folder) is kb_for(str(folder))


def test_default_pack_follows_osler_kb(tmp_path):
    folder = write_pack(tmp_path / "kb")
    code = ("from osler.knowledge import default_kb; kb = default_kb(); "
            "print(kb.name, len(kb.conditions))")
    env = {**os.environ, "OSLER_KB": str(folder)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "Test pack 2"


def test_age_band_boundaries():
    assert [age_band(a) for a in (0, 1, 4, 5, 14, 15, 29, 30, 44, 45, 59, 60, 74, 75, 110)] == [
        "<1", "1-4", "1-4", "5-14", "5-14", "15-29", "15-29", "30-44", "30-44", "45-59",
        "45-59", "60-74", "60-74", "75+", "75+"]
    assert age_band(None) is None and age_band(-1) is None


# --- the shipped pack ---------------------------------------------------------------

@pytest.fixture(scope="module")
def kb():
    return load_pack(default_pack_dir())


def test_shipped_pack_counts(kb):
    sources = [s for c in kb.conditions for s in c.sources]
    assert sources.count("symcat") == 801
    assert sources.count("ddxplus") == 49
    # 801 SymCat + 10 DDXPlus-only + 399 Osler (aortic dissection, 61 in
    # added_conditions.json, 337 in curation/added/*.json)
    assert len(kb.conditions) == 1210
    assert sources.count("osler") == 399
    assert all(c.prerequisites_reviewed for c in kb.conditions if c.cant_miss)
    background = [f for f in kb.findings if f.category in ("history", "risk-factor")]
    assert all(f.base_rate is not None for f in background)
    ids = {f.id for f in kb.findings}
    assert len(ids) == len(kb.findings) > 550
    assert default_kb() is default_kb()


def test_every_condition_has_a_valid_icd10_cm_code(kb):
    cm = pytest.importorskip("simple_icd_10_cm")
    for c in kb.conditions:
        assert c.icd10, c.id
        for code in c.icd10:
            assert cm.is_valid_item(code), (c.id, code)


def test_priors_sum_to_one_and_links_are_probabilities(kb):
    assert abs(sum(c.prior for c in kb.conditions) - 1.0) < 1e-6
    for c in kb.conditions:
        assert c.prior > 0 and c.prior_basis
        for fid, p in c.findings.items():
            assert kb.has_finding(fid) and 0.0 <= p <= 1.0, (c.id, fid)
            assert c.finding_basis.get(fid), (c.id, fid)


def test_cant_miss_examples_are_flagged_with_cited_rationale(kb):
    for cid in CANT_MISS_EXAMPLES:
        c = kb.condition(cid)
        assert c.cant_miss, cid
        assert c.cant_miss_rationale and len(c.cant_miss_rationale) < 200
        assert c.cant_miss_citation and any(ch.isdigit() for ch in c.cant_miss_citation)
    assert not kb.condition("common-cold").cant_miss


def test_merged_and_added_conditions(kb):
    pe = kb.condition("pulmonary-embolism")
    assert pe.sources == ("symcat", "ddxplus") and pe.severity == 2
    assert pe.findings["raised-d-dimer"] >= 0.9 and pe.finding_basis["raised-d-dimer"] == \
        "osler-estimate"
    assert pe.findings["shortness-of-breath"] > 0 and pe.finding_basis[
        "shortness-of-breath"] == "symcat"
    for cid in ("unstable-angina", "anaphylaxis", "epiglottitis", "cluster-headache", "ebola"):
        c = kb.condition(cid)
        assert c.sources == ("ddxplus",) and c.severity is not None and c.findings
    ad = kb.condition("aortic-dissection")
    assert ad.sources == ("osler",) and "IRAD" in (ad.literature or "")
    assert ad.icd10 == ("I71.00",)


def test_broad_findings_carry_evidence_from_specific_ones(kb):
    mi = kb.condition("heart-attack")
    assert mi.findings["chest-pain"] >= mi.findings["sharp-chest-pain"]
    assert mi.finding_basis["chest-pain"] == "derived-from-specific"


def test_vital_and_lab_rules(kb):
    expect = {"fever": ("8310-5", ">=", 38.0, "Cel"), "tachycardia": ("8867-4", ">", 100, "/min"),
              "tachypnoea": ("9279-1", ">", 20, "/min"), "hypoxaemia": ("2708-6", "<", 94, "%"),
              "hypotension": ("8480-6", "<", 90, "mm[Hg]"),
              "leukocytosis": ("6690-2", ">", 11.0, "10*3/uL"),
              "hyperglycaemia": ("2339-0", ">", 11.1, "mmol/L")}
    for fid, (loinc, op, value, unit) in expect.items():
        rule = kb.finding(fid).rule
        assert loinc in rule.loinc and (rule.op, rule.value, rule.unit) == (op, value, unit)
    anaemia = {r.sex: r.value for r in kb.finding("anaemia").rules}
    assert anaemia == {"female": 12.0, "male": 13.0}
    for fid in ("raised-crp", "raised-troponin", "raised-d-dimer", "hyponatraemia",
                "hyperkalaemia", "raised-creatinine", "thrombocytopenia", "leukopenia"):
        assert kb.finding(fid).rules, fid


def test_history_findings_have_record_rules(kb):
    for fid in ("history-diabetes", "history-hypertension", "history-smoking", "history-copd",
                "history-asthma", "history-heart-failure", "history-coronary-disease",
                "history-atrial-fibrillation", "history-ckd", "history-cancer", "pregnant",
                "recent-surgery", "immobilisation", "anticoagulant-use", "immunosuppression"):
        assert kb.finding(fid).record, fid
    assert kb.finding("increased-heart-rate").id == "tachycardia"
