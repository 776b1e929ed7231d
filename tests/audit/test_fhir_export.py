"""The FHIR R4 export: shape, content, signatures, and where it is written."""

from __future__ import annotations

import base64
import json
import os
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from osler.audit import AuditStoreError
from tests.audit import fhir_r4
from tests.audit.sample import CLINICIAN, PATIENT_ID, record
from tests.conftest import shared


@pytest.fixture
def exported(store, tmp_path):
    for i, action in enumerate(("accept", "reject", "rerank", "add", "comment")):
        store.append(record(i, action=action))
    out = tmp_path / "export" / "audit.fhir.json"
    out.parent.mkdir()
    assert store.export_fhir(out) == 5
    return store, out, json.loads(out.read_text(encoding="utf-8"))


def resources(bundle, kind):
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_bundle_is_r4_shaped(exported):
    _store, _out, bundle = exported
    fhir_r4.bundle(bundle)
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds == ["AuditEvent", "Provenance"] * 5


def test_audit_event_content(exported):
    store, _out, bundle = exported
    ae = resources(bundle, "AuditEvent")[1]
    assert ae["subtype"][0]["code"] == "reject"
    clinician = ae["agent"][0]
    assert clinician["requestor"] is True
    assert clinician["who"]["identifier"]["value"] == CLINICIAN
    patient = next(e for e in ae["entity"] if e.get("role", {}).get("display") == "Patient")
    assert patient["what"]["type"] == "Patient"
    assert patient["what"]["identifier"]["value"] == store.pseudonym(PATIENT_ID)
    assert PATIENT_ID not in json.dumps(bundle)
    model = next(e for e in ae["entity"] if e.get("name") == "model")
    assert model["what"]["identifier"]["value"] == "osler-test@0.0.1"
    assert "alternative-more-likely" in ae["outcomeDesc"] or "Another diagnosis" in \
        ae["outcomeDesc"]


def test_provenance_links_reason_and_signature(exported):
    store, _out, bundle = exported
    urls = {e["resource"]["id"]: e["fullUrl"] for e in bundle["entry"]}
    anchor = store.anchor()
    for ae, prov in zip(resources(bundle, "AuditEvent"), resources(bundle, "Provenance")):
        assert prov["target"][0]["reference"] == urls[ae["id"]]
        assert prov["agent"][0]["who"]["identifier"]["value"] == CLINICIAN
        entry = next(e for e in ae["entity"] if e.get("name") == "osler-entry")
        body = base64.b64decode(next(d for d in entry["detail"] if d["type"] == "body")
                                ["valueBase64Binary"])
        sig = prov["signature"][0]
        assert sig["who"]["identifier"]["value"] == anchor.public_key
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(anchor.public_key))
        key.verify(base64.b64decode(sig["data"]), body)  # raises if forged
        assert json.loads(body)["action"] == ae["subtype"][0]["code"]
    reject = resources(bundle, "Provenance")[1]
    assert reject["reason"][0]["coding"][0]["code"] == "alternative-more-likely"
    assert reject["reason"][0]["text"].startswith("Chest film")


def test_filters_and_ids_are_stable(store, tmp_path, exported):
    _s, _out, bundle = exported
    again = tmp_path / "again.json"
    assert store.export_fhir(again, action="rerank") == 1
    second = json.loads(again.read_text())
    assert second["entry"][0]["resource"]["id"] == bundle["entry"][4]["resource"]["id"]


def test_export_is_written_only_where_asked(exported, tmp_path):
    store, out, _bundle = exported
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]
    if os.name == "posix":
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
    with pytest.raises(AuditStoreError, match="already exists"):
        store.export_fhir(out)
    store.export_fhir(out, overwrite=True)
    with pytest.raises(AuditStoreError, match="folder"):
        store.export_fhir(out.parent)
    with pytest.raises(AuditStoreError, match="does not exist"):
        store.export_fhir(tmp_path / "nowhere" / "x.json")
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]


def test_our_audit_event_uses_the_elements_of_the_hl7_examples(exported):
    """Cross-check with AuditEvent examples from the FHIR R4 specification (shared data)."""
    folder = shared("fhir_r4_examples")
    examples = [json.loads(p.read_text(encoding="utf-8")) for p in folder.rglob("*.json")
                if "audit" in p.name.lower()]
    examples = [e for e in examples if e.get("resourceType") == "AuditEvent"]
    if not examples:
        pytest.skip("no AuditEvent examples in the shared data")
    for example in examples:
        fhir_r4.audit_event(example)  # our checker accepts HL7's own examples
    _store, _out, bundle = exported
    used = set().union(*(set(r) for r in resources(bundle, "AuditEvent")))
    seen = set().union(*(set(e) for e in examples))
    assert used - seen <= {"subtype", "outcomeDesc", "purposeOfEvent"}
