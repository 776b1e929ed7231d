"""What a caller may record: actions, coded reasons, required fields, normalisation."""

from __future__ import annotations

import pytest

from osler.audit import REASONS, Action, AuditInputError, OverrideRecord, fingerprint_inputs
from tests.audit.sample import CLINICIAN, PATIENT_ID, ddx, record


def make(**overrides):
    base = {"action": "accept", "clinician_id": CLINICIAN, "patient_id": PATIENT_ID,
            "model": ddx()["model"], "inputs_fingerprint": "sha256:00",
            "diagnosis": {"name": "Influenza", "icd10": "J11.1", "rank": 3,
                          "probability": 0.15}}
    base.update(overrides)
    return OverrideRecord(**base)


def test_every_action_can_be_recorded():
    for action in Action:
        r = record(action=action.value)
        assert r.action is action


def test_reason_codes_are_a_coded_set_in_cds_hooks_style():
    assert {"patient-declined", "not-clinically-appropriate", "already-considered",
            "alternative-more-likely", "insufficient-evidence", "other"} <= set(REASONS)
    for code, reason in REASONS.items():
        coding = reason.coding()
        assert coding == {"system": "urn:osler:override-reason", "code": code,
                          "display": reason.display}


@pytest.mark.parametrize("overrides, field", [
    ({"action": "dismiss"}, "action"),
    ({"clinician_id": " "}, "clinician_id"),
    ({"clinician_id": "dr\nwho"}, "clinician_id"),
    ({"patient_id": ""}, "patient_id"),
    ({"model": {"id": "m"}}, "model.version"),
    ({"inputs_fingerprint": None}, "inputs_fingerprint"),
    ({"diagnosis": None}, "diagnosis"),
    ({"diagnosis": {"name": "X", "probability": 1.5}}, "diagnosis.probability"),
    ({"diagnosis": {"name": "X", "rank": 0}}, "diagnosis.rank"),
    ({"action": "reject"}, "reason_code"),
    ({"action": "reject", "reason_code": "because"}, "reason_code"),
    ({"action": "reject", "reason_code": "other"}, "reason_text"),
    ({"action": "rerank", "reason_code": "insufficient-evidence"}, "decision.new_rank"),
    ({"action": "comment", "diagnosis": None}, "reason_text"),
    ({"decision": {"x": float("nan")}}, "decision"),
    ({"differential_shown": [{"rank": 1}]}, "differential_shown[0].name"),
    ({"reason_text": "x" * 9000}, "reason_text"),
])
def test_invalid_records_are_refused_naming_the_field(overrides, field):
    with pytest.raises(AuditInputError) as info:
        make(**overrides)
    assert info.value.field == field
    assert field in str(info.value)


def test_normalisation_keeps_only_known_fields_and_codes_as_lists():
    r = make(diagnosis={"name": " Influenza ", "icd10": "J11.1", "rank": 3, "secret": "x"},
             differential_shown=ddx()["differential"], reason_text="   ")
    assert r.diagnosis == {"name": "Influenza", "icd10": ["J11.1"], "rank": 3,
                           "probability": None}
    assert set(r.differential_shown[0]) == {"rank", "name", "icd10", "probability", "cant_miss"}
    assert r.reason_text is None


def test_from_ddx_picks_by_rank_or_name_and_adds_missing_diagnoses():
    doc = ddx()
    by_rank = OverrideRecord.from_ddx(doc, action="accept", clinician_id="c", patient_id="p",
                                      rank=2)
    by_name = OverrideRecord.from_ddx(doc, action="accept", clinician_id="c", patient_id="p",
                                      name="acute BRONCHITIS")
    assert by_rank.diagnosis == by_name.diagnosis
    assert by_rank.diagnosis["name"] == "Acute bronchitis"
    assert by_rank.model["sha256"] == "ab" * 32
    assert by_rank.inputs_fingerprint == fingerprint_inputs(doc["findings"])
    added = OverrideRecord.from_ddx(doc, action="add", clinician_id="c", patient_id="p",
                                    name="Pulmonary embolism", icd10="I26.99")
    assert added.diagnosis == {"name": "Pulmonary embolism", "icd10": ["I26.99"], "rank": None,
                               "probability": None}
    with pytest.raises(AuditInputError, match="rank 7"):
        OverrideRecord.from_ddx(doc, action="accept", clinician_id="c", patient_id="p", rank=7)
    with pytest.raises(AuditInputError, match="differential"):
        OverrideRecord.from_ddx({"model": {}}, action="accept", clinician_id="c",
                                patient_id="p", rank=1)


def test_fingerprint_is_order_independent_for_keys_and_sensitive_to_values():
    a = fingerprint_inputs({"x": 1, "y": [1, 2]})
    assert a == fingerprint_inputs({"y": [1, 2], "x": 1})
    assert a != fingerprint_inputs({"x": 1, "y": [2, 1]})
    assert a.startswith("sha256:") and len(a) == 7 + 64
