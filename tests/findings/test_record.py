"""A record at a point in time -> findings citing their events."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from osler.fhir import import_path
from osler.fhir.builder import BundleBuilder
from osler.findings.extract import FindingExtractor
from osler.findings.merge import merge_findings
from osler.findings.record import findings_from_record
from osler.knowledge import default_kb
from tests.conftest import small_bundle


@pytest.fixture(scope="module")
def kb():
    return default_kb()


@pytest.fixture(scope="module")
def lexicon(kb):
    return FindingExtractor(kb, semantic=False)


def timeline_of(bundle, tmp_path):
    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundle))
    return import_path(path).timeline()


def by_id(findings):
    return {f.id: f for f in merge_findings(findings)}


def test_small_bundle_now(kb, lexicon, tmp_path):
    tl = timeline_of(small_bundle(), tmp_path)
    found = by_id(findings_from_record(tl, kb, extractor=lexicon))
    hr = found["tachycardia"]
    assert hr.present and hr.value == 118 and tl.get(hr.source.event_id).display == "Heart rate"
    assert found["fever"].present and found["fever"].value == 38.6
    assert found["leukocytosis"].present and found["leukocytosis"].value == 16.2
    assert not found["hypotension"].present  # systolic 92
    assert found["history-diabetes"].present
    assert tl.get(found["history-diabetes"].source.event_id).kind.value in ("condition",
                                                                            "medication")
    cough = found["cough"]
    note = tl.get(cough.source.event_id)
    s, e = cough.source.span
    assert note.kind.value == "note" and note.text[s:e] == "Cough"
    assert not found["chest-pain"].present
    assert found["hurts-to-breath"].present and not found["hurts-to-breath"].certain


def test_only_events_known_at_the_time_count(kb, lexicon, tmp_path):
    tl = timeline_of(small_bundle(), tmp_path)
    at = datetime(2023, 1, 11, tzinfo=UTC)
    found = by_id(findings_from_record(tl, kb, at=at, extractor=lexicon))
    assert not found["leukocytosis"].present and found["leukocytosis"].value == 7.1
    assert "tachycardia" not in found and "cough" not in found  # ED visit is later
    assert found["history-diabetes"].present
    later = datetime(2023, 6, 1, tzinfo=UTC)
    assert "leukocytosis" not in by_id(findings_from_record(tl, kb, at=later,
                                                            extractor=lexicon))  # stale


def rich_bundle():
    b = BundleBuilder("findings-record-test")
    b.patient("Bea", "Testperson", "female", "1970-05-05")
    now = "2024-05-10T10:00:00+00:00"
    b.vital(now, "8310-5", "Body temperature", 101.3, "[degF]")
    b.vital(now, "59408-5", "SpO2", 89, "%")
    b.observation(now, "2345-7", "Glucose", 250, "mg/dL")
    b.observation(now, "2160-0", "Creatinine", 150, "umol/L")
    b.observation(now, "718-7", "Hemoglobin", 11.2, "g/dL")
    b.observation(now, "72166-2", "Tobacco smoking status", "Former smoker",
                  category="social-history")
    b.procedure("2024-04-25", "80146002", "Appendectomy")
    b.procedure("2024-04-26", "710824005", "Assessment of health and social care needs")
    b.procedure("2019-01-01", "73761001", "Hysterectomy")
    b.medication("2024-04-26", "855332", "Warfarin Sodium 5 MG Oral Tablet")
    b.medication("2020-01-01", "197361", "Amlodipine 5 MG Oral Tablet", status="stopped")
    b.condition("2010-01-01", "195967001", "Asthma")
    b.condition("2024-05-01", "44054006", "Diabetes mellitus type 2")
    b.condition("2015-01-01", "59621000", "Essential hypertension", active=False)
    b.condition("2024-05-09", "386661006", "Fever (finding)")
    return b.bundle()


def test_units_history_and_recency(kb, lexicon, tmp_path):
    tl = timeline_of(rich_bundle(), tmp_path)
    found = by_id(findings_from_record(tl, kb, extractor=lexicon))
    assert found["fever"].present and found["fever"].value == 101.3  # degF converted
    assert found["hypoxaemia"].present
    assert found["hyperglycaemia"].present  # 250 mg/dL = 13.9 mmol/L
    assert found["raised-creatinine"].present  # 150 umol/L, female limit 1.1 mg/dL
    assert found["anaemia"].present  # female, < 12 g/dL
    assert not found["history-smoking"].present and found["history-former-smoker"].present
    assert found["recent-surgery"].present
    assert tl.get(found["recent-surgery"].source.event_id).display == "Appendectomy"
    assert found["anticoagulant-use"].present
    assert found["history-asthma"].present and found["history-diabetes"].present
    assert "history-hypertension" not in found  # resolved condition, stopped amlodipine


def test_recent_surgery_window(kb, lexicon, tmp_path):
    tl = timeline_of(rich_bundle(), tmp_path)
    later = datetime(2024, 7, 1, tzinfo=UTC)
    found = by_id(findings_from_record(tl, kb, at=later, extractor=lexicon))
    assert "recent-surgery" not in found  # seven weeks after the appendectomy
    assert found["fever"].value is None  # the May temperature is stale; the coded
    assert tl.get(found["fever"].source.event_id).kind.value == "condition"  # symptom remains


def test_condition_resolved_after_the_time_was_active_then(kb, lexicon, tmp_path):
    b = BundleBuilder("resolved-later")
    b.patient("Cy", "Testperson", "male", "1950-01-01")
    b.raw({"resourceType": "Condition", "subject": {"reference": f"urn:uuid:{b.patient_id}"},
           "clinicalStatus": {"coding": [{"code": "resolved"}]},
           "code": {"coding": [{"system": "http://snomed.info/sct", "code": "49436004",
                                "display": "Atrial fibrillation"}]},
           "onsetDateTime": "2020-01-01", "abatementDateTime": "2022-01-01"})
    tl = timeline_of(b.bundle(), tmp_path)
    then = by_id(findings_from_record(tl, kb, at=datetime(2021, 1, 1, tzinfo=UTC),
                                      extractor=lexicon))
    now = by_id(findings_from_record(tl, kb, at=datetime(2023, 1, 1, tzinfo=UTC),
                                     extractor=lexicon))
    assert then["history-atrial-fibrillation"].present
    assert "history-atrial-fibrillation" not in now


def test_empty_record(kb, lexicon, tmp_path):
    b = BundleBuilder("empty")
    b.patient("Di", "Testperson", "female", "1990-01-01")
    assert findings_from_record(timeline_of(b.bundle(), tmp_path), kb, extractor=lexicon) == []
