"""Gold-diagnosis matching and vignette parsing used by `osler eval`."""

import json

import pytest

from osler.reasoning.errors import ReasoningError
from osler.reasoning.gold import GoldMatcher, normalise
from osler.reasoning.vignettes import load_vignettes, parse_demographics


def test_normalise_possessives_and_spacing():
    assert normalise("Crohn’s Disease (CD)") == "crohn disease"
    assert normalise("Hirschsprung's disease") == "hirschsprung disease"


def test_matching_rules_in_order(kb):
    g = GoldMatcher(kb, semantic=False)
    assert g.target("Pulmonary Embolism").method == "name"
    t = g.target("Community-acquired pneumonia")
    assert t.method == "contained-name" and t.condition_ids == {"pneumonia"}
    assert t.hit("pneumonia", ("J18.9",)) and not t.hit("asthma", ("J45.909",))
    assert g.target("Bacterial meningitis").condition_ids == {"meningitis"}
    assert g.target("Frobnication syndrome").method == "unmatched"


def test_icd10_category_counts_as_a_hit(kb):
    t = GoldMatcher(kb, semantic=False).target("Pneumonia, unspecified organism")
    assert t.hit("some-other-id", ("J18.1",))


def test_semantic_fallback_needs_a_clear_winner(kb):
    g = GoldMatcher(kb)
    t = g.target("Lung embolus")
    assert t.method in ("semantic", "unmatched")
    if t.method == "semantic":
        assert t.condition_ids == {"pulmonary-embolism"}
    assert g.target("Broken left femur").method == "unmatched"


def test_demographics():
    assert parse_demographics("70 year old Female") == (70, "female")
    assert parse_demographics("A 35-year-old man") == (35, "male")
    assert parse_demographics("3-month-old boy") == (0, "male")
    assert parse_demographics("unknown") == (None, None)


def test_both_vignette_formats_and_bad_lines(tmp_path):
    avey = {"correct_diagnosis": "Asthma", "demographics": "20 year old Male",
            "chief_complaints": "Wheezing", "presentation": "Wheezy at night.",
            "absent_findings": "No fever", "physical_history": "-", "family_history": "",
            "social_history": ""}
    ac = {"OSCE_Examination": {"Patient_Actor": {"Demographics": "35-year-old female",
          "History": "Headache.", "Symptoms": {"Primary_Symptom": "Headache",
                                               "Secondary_Symptoms": ["Neck stiffness"]}},
          "Physical_Examination_Findings": {"Vital_Signs": {"Temperature": "39.1 C"}},
          "Test_Results": {}, "Correct_Diagnosis": "Meningitis"}}
    p = tmp_path / "v.jsonl"
    p.write_text(json.dumps(avey) + "\n" + json.dumps(ac) + "\n")
    vs = load_vignettes(p)
    assert [v.format for v in vs] == ["avey", "agentclinic"]
    assert vs[0].age == 20 and "No fever" in vs[0].text
    assert vs[1].sex == "female" and "Neck stiffness" in vs[1].text and "39.1" in vs[1].text
    p.write_text(json.dumps(avey) + "\n{broken\n")
    with pytest.raises(ReasoningError, match="line 2"):
        load_vignettes(p)
