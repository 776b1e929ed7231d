"""Overrides as audit records (no window), built from a real differential and stored for real."""

from __future__ import annotations

import pytest

from osler.audit import AuditInputError, AuditStore
from osler.reasoning.service import DdxService
from osler.ui.overrides import OverrideRequest, build_record, default_clinician_id
from tests.audit.sample import provider
from tests.reasoning.conftest import tiny_kb


@pytest.fixture(scope="module")
def diff():
    svc = DdxService.create(engine="naive-bayes", kb=tiny_kb(), semantic=False)
    return svc.run(text="cough, fever and shortness of breath", age=60, sex="male", top=4)


def test_each_action_becomes_a_valid_record_and_is_stored(diff, tmp_path):
    second = diff.diagnoses[1]
    requests = [
        OverrideRequest("accept", rank=1),
        OverrideRequest("reject", rank=2, reason_code="insufficient-evidence"),
        OverrideRequest("rerank", rank=2, new_rank=1, reason_code="alternative-more-likely"),
        OverrideRequest("add", name="Aortic dissection", icd10=("I71.00",),
                        reason_code="findings-not-in-record"),
        OverrideRequest("comment", reason_text="Discussed with the registrar"),
        OverrideRequest("comment", rank=1, reason_text="Order a CT pulmonary angiogram"),
    ]
    records = [build_record(diff, r, "dr-test", "patient-1") for r in requests]
    with AuditStore.open(tmp_path / "a.db", provider()) as store:
        entries = store.append_batch(records)
        assert [e.action for e in entries] == ["accept", "reject", "rerank", "add", "comment",
                                               "comment"]
        assert entries[1].diagnosis["name"] == second.name
        assert entries[1].reason["code"] == "insufficient-evidence"
        assert entries[2].decision == {"new_rank": 1}
        assert entries[3].diagnosis == {"name": "Aortic dissection", "icd10": ["I71.00"],
                                        "rank": None, "probability": None}
        assert entries[4].diagnosis is None and entries[5].diagnosis["rank"] == 1
        assert entries[0].differential_shown[0]["name"] == diff.diagnoses[0].name
        assert all(e.patient == store.pseudonym("patient-1") for e in entries)


def test_missing_reason_or_text_is_refused_before_anything_is_written(diff):
    with pytest.raises(AuditInputError, match="reason"):
        build_record(diff, OverrideRequest("reject", rank=1), "dr-test", "p")
    with pytest.raises(AuditInputError, match="free text"):
        build_record(diff, OverrideRequest("reject", rank=1, reason_code="other"), "dr", "p")
    with pytest.raises(AuditInputError, match="comment"):
        build_record(diff, OverrideRequest("comment", rank=1), "dr-test", "p")
    with pytest.raises(AuditInputError, match="rank 99"):
        build_record(diff, OverrideRequest("accept", rank=99), "dr-test", "p")


def test_default_clinician_is_the_os_account():
    assert default_clinician_id().strip()
