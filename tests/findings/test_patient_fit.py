"""Findings that must fit the patient: children's vital-sign limits by age (PALS 2020),
sex- and age-restricted findings set aside with a warning, in text, records and the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from osler.cli import main
from osler.fhir import import_path
from osler.fhir.builder import BundleBuilder
from osler.findings import semantic
from osler.findings.extract import FindingExtractor
from osler.findings.measure import decide
from osler.findings.merge import merge_findings
from osler.findings.population import age_span, mismatch
from osler.findings.record import exact_age, findings_from_record
from osler.knowledge import default_kb, load_pack
from tests.findings.test_qualified_mentions import states
from tests.knowledge.packmaker import conditions, findings, write_pack


@pytest.fixture(scope="module")
def kb():
    return default_kb()


@pytest.fixture
def ex(kb):
    return FindingExtractor(kb, semantic=False)  # fresh: warnings are per extractor


VITALS = "HR 140, RR 40, BP 75/45"


@pytest.mark.parametrize(("age", "expected"), [
    (None, {"tachycardia": "+", "tachypnoea": "+", "hypotension": "+"}),  # unknown: adult
    (40, {"tachycardia": "+", "tachypnoea": "+", "hypotension": "+"}),
    (0.02, {"tachycardia": "-", "tachypnoea": "-", "hypotension": "-"}),  # 1-week-old
    (0.5, {"tachycardia": "-", "tachypnoea": "-", "hypotension": "-"}),  # 6 months
    (2, {"tachycardia": "-", "tachypnoea": "+", "hypotension": "-"}),  # limits 140, 37, 74
    (4, {"tachycardia": "+", "tachypnoea": "+", "hypotension": "+"}),  # limits 120, 28, 78
])
def test_heart_and_breathing_rates_by_age(ex, age, expected):
    got = states(ex, VITALS, age=age)
    assert {k: got[k] for k in expected} == expected


def test_bradycardia_uses_the_sleeping_lower_limit(ex):
    assert states(ex, "pulse 95", age=0.5)["bradycardia"] == "-"  # infant asleep: 90-160
    assert states(ex, "pulse 95", age=0.5)["tachycardia"] == "-"
    assert states(ex, "pulse 85", age=0.5)["bradycardia"] == "+"
    assert states(ex, "pulse 55", age=8)["bradycardia"] == "+"
    assert states(ex, "pulse 55", age=30)["bradycardia"] == "-"


def test_whole_years_decide_only_when_every_age_in_the_year_agrees(kb):
    hr = kb.finding("tachycardia")
    # '--age 0' could be a neonate (limit 205) or an older infant (limit 180)
    assert decide(hr, "8867-4", 190, "/min", None, 0) is None
    assert decide(hr, "8867-4", 190, "/min", None, 0.5).present
    assert not decide(hr, "8867-4", 190, "/min", None, 0.05).present
    assert decide(hr, "8867-4", 210, "/min", None, 0).present  # above both
    assert age_span(3) == (3.0, pytest.approx(4.0)) and age_span(0.25) == (0.25, 0.25)


def test_childrens_blood_pressure_is_only_ever_raised_when_clearly_high(ex):
    assert states(ex, "BP 150/80", age=5)["hypertension"] == "+"
    assert "hypertension" not in states(ex, "BP 110/70", age=5)  # height percentiles needed
    assert states(ex, "BP 110/70", age=40)["hypertension"] == "-"
    assert states(ex, "BP 85/50", age=9)["hypotension"] == "+"  # < 70 + 2 x 9
    assert states(ex, "BP 89/50", age=10)["hypotension"] == "+"
    assert states(ex, "BP 89/50", age=9)["hypotension"] == "-"


def test_rule_descriptions_name_the_age(kb):
    v = decide(kb.finding("tachycardia"), "8867-4", 150, "/min", None, 2)
    assert v.present and "age 1 y to under 3 y" in v.rule_text


@pytest.mark.parametrize(("text", "sex", "fid"), [
    ("Vaginal bleeding since yesterday.", "male", "vaginal-bleeding"),
    ("She has testicular pain.", "female", "pain-in-testicles"),
    ("Urethral discharge for a week.", "female", "penile-discharge"),
    ("Positive pregnancy test.", "male", "pregnant"),
    ("Heavy menstrual bleeding.", "male", "heavy-menstrual-flow"),
])
def test_findings_of_the_other_sex_are_set_aside_with_a_warning(ex, text, sex, fid):
    assert fid not in states(ex, text, sex=sex)
    assert states(ex, text)[fid] == "+"  # sex unknown: kept
    assert any(ex.kb.finding(fid).label in w and f"patient is {sex}" in w
               for w in ex.warnings)
    assert [s.finding for s in ex.take_set_aside()] == [fid]
    assert ex.take_set_aside() == []


def test_absent_findings_of_the_other_sex_go_quietly(ex):
    assert states(ex, "No urethral discharge.", sex="female") == {}
    assert ex.warnings == []


@pytest.mark.parametrize(("age", "kept"), [(None, True), (0.5, True), (4, True), (5, False),
                                           (34, False)])
def test_infant_findings_only_for_young_children(ex, age, kept):
    got = states(ex, "He is irritable and feeding poorly.", age=age)
    assert ("irritable-infant" in got) is kept and ("infant-feeding-problem" in got) is (
        kept and (age is None or age < 2))
    assert any("Irritable infant not used" in w for w in ex.warnings) is (not kept)


def test_pregnancy_needs_an_age_that_can_be_pregnant(ex, kb):
    assert mismatch(kb.finding("pregnant"), "female", 0.04)
    assert mismatch(kb.finding("pregnant"), "female", 25) is None
    assert mismatch(kb.finding("pregnant"), None, None) is None


def infant_record(sex: str = "male"):
    b = BundleBuilder("infant-vitals")
    b.patient("Baby", "Testperson", sex, "2024-01-01")
    t = "2024-03-01T09:00:00+00:00"  # two months old
    b.vital(t, "8867-4", "Heart rate", 150, "/min")
    b.vital(t, "9279-1", "Respiratory rate", 45, "/min")
    b.condition("2024-02-20", "72892002", "Normal pregnancy")  # a miscoded entry
    b.note(t, "Irritable and feeding poorly. Vaginal bleeding noted by mother.", title="note")
    return b.bundle()


def test_record_uses_age_at_each_event_and_the_records_sex(kb, ex, tmp_path):
    path = tmp_path / "b.json"
    path.write_text(json.dumps(infant_record()))
    tl = import_path(path).timeline()
    assert exact_age(tl.patient.birth_date, datetime(2024, 3, 1, tzinfo=UTC)) == \
        pytest.approx(60 / 365.25)
    found = {f.id: f for f in merge_findings(findings_from_record(tl, kb, extractor=ex))}
    assert not found["tachycardia"].present and found["tachycardia"].value == 150
    assert not found["tachypnoea"].present
    assert found["irritable-infant"].present and found["infant-feeding-problem"].present
    assert "vaginal-bleeding" not in found and "pregnant" not in found
    assert any("Vaginal bleeding not used" in w for w in ex.warnings)  # from the note
    assert any(w.startswith("Currently pregnant not used") and "Condition/" in w
               for w in ex.warnings)  # from the coded condition
    adult = {f.id: f for f in merge_findings(findings_from_record(
        tl, kb, extractor=FindingExtractor(kb, semantic=False), age=40, sex="female"))}
    assert adult["tachycardia"].present and adult["vaginal-bleeding"].present
    assert adult["pregnant"].present
    assert "irritable-infant" not in adult


def test_cli_age_and_sex(capsys):
    code = main(["findings", "--text", "HR 140, RR 40. Testicular pain.", "--age", "0",
                 "--sex", "female", "--json"])
    doc = json.loads(capsys.readouterr().out)
    # Set-aside notes are warnings too, but not a sign that the sentence model is missing.
    assert code == 0 and doc["semantic"] is semantic.available()
    got = {f["id"]: f["present"] for f in doc["findings"]}
    assert got["tachypnoea"] is False and "pain-in-testicles" not in got
    assert any("Pain in testicles not used" in w for w in doc["warnings"])
    assert main(["findings", "--text", "cough", "--age", "200", "--no-semantic"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--age 200" in err


def test_a_clinics_pack_decides_who_a_finding_fits(tmp_path):
    finds = [
        *findings(),
        {"id": "prostate-pain", "label": "Prostate pain", "category": "symptom",
         "synonyms": ["prostate pain"], "sex": "male"},
        {"id": "colic", "label": "Infant colic", "category": "symptom", "synonyms": ["colic"],
         "max_age": 1},
        {"id": "fast-pulse", "label": "Fast pulse", "category": "vital",
         "rules": [{"loinc": ["8867-4"], "op": ">", "value": 100, "unit": "/min",
                    "min_age": 12},
                   {"loinc": ["8867-4"], "op": ">", "value": 160, "unit": "/min",
                    "max_age": 12}]}]
    conds = conditions()
    conds[0]["findings"].update({"prostate-pain": 0.1, "colic": 0.1, "fast-pulse": 0.5})
    kb = load_pack(write_pack(tmp_path / "kb", finds=finds, conds=conds))
    ex = FindingExtractor(kb, semantic=False)
    assert states(ex, "prostate pain, colic, HR 130", sex="female", age=0.5) == {
        "colic": "+", "fast-pulse": "-"}
    assert states(ex, "prostate pain, colic, HR 130", sex="male", age=30) == {
        "prostate-pain": "+", "fast-pulse": "+"}


def test_the_differential_service_passes_age_and_sex(kb):
    from osler.reasoning.kbmatrix import KBMatrix
    from osler.reasoning.service import DdxService, load_engine

    m = KBMatrix.from_kb(kb)
    svc = DdxService(kb, load_engine(m, kb, engine="naive-bayes"),
                     FindingExtractor(kb, semantic=False))
    text = "HR 150, RR 45. Testicular pain."
    baby = {f.id: f.present for f in svc.findings(text=text, age=0, sex="female")}
    assert baby == {"tachycardia": False, "bradycardia": False, "tachypnoea": False}
    adult = {f.id: f.present for f in svc.findings(text=text, age=40, sex="male")}
    assert adult["tachycardia"] and adult["tachypnoea"] and adult["pain-in-testicles"]
    d = svc.run(text=text, age=0, sex="female", top=3)
    assert any("Pain in testicles not used" in w for w in d.warnings)
    again = svc.run(text=text, age=0, sex="female", top=3)  # each request says it again
    assert any("Pain in testicles not used" in w for w in again.warnings)
    assert not any("not used" in w for w in svc.run(text=text, age=40, sex="male").warnings)
