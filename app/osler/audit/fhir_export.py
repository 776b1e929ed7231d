"""FHIR R4 export of audit entries: a collection Bundle with an AuditEvent and a Provenance each.

AuditEvent follows the IHE BALP pattern (clinician as requesting agent, the patient in
`entity` with role Patient, here by pseudonymous identifier); Provenance records who
decided (the clinician), what contributed (the model) and why (the override reason), and
carries the store's Ed25519 signature over the entry so an export can be checked alone.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from osler.audit.entry import AuditEntry
from osler.audit.errors import AuditStoreError
from osler.audit.override import canonical_json

NAMESPACE = uuid.UUID("3f0c5c2e-6a0e-4f0a-9d2b-6f1d0c0a5e11")
DCM = "http://dicom.nema.org/resources/ontology/DCM"
ACTION_SYSTEM = "urn:osler:override-action"
EVENT_TYPE = {"system": "urn:osler:audit-event-type", "code": "cds-override",
              "display": "Clinician action on decision-support output"}
ACTION_DISPLAY = {
    "accept": "Accepted a suggested diagnosis",
    "reject": "Rejected a suggested diagnosis",
    "rerank": "Re-ranked a suggested diagnosis",
    "add": "Added a diagnosis the model did not suggest",
    "comment": "Commented on the differential",
}
AUDIT_ACTION = {"accept": "U", "reject": "U", "rerank": "U", "add": "C", "comment": "C"}
"""AuditEvent.action: accept/reject/rerank update the working differential, add/comment create."""
SOURCE_SIGNATURE = {"system": "urn:iso-astm:E1762-95:2013", "code": "1.2.840.10065.1.12.1.14",
                    "display": "Source Signature"}


def _coding(system: str, code: str, display: str) -> dict[str, str]:
    return {"system": system, "code": code, "display": display}


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _uuid(store_id: str, seq: int, kind: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{store_id}/{seq}/{kind}"))


def _summary(e: AuditEntry) -> str:
    what = ACTION_DISPLAY.get(e.action, e.action)
    if e.diagnosis:
        rank = f" (rank {e.diagnosis['rank']})" if e.diagnosis.get("rank") else ""
        what += f": {e.diagnosis['name']}{rank}"
    if e.action == "rerank" and "new_rank" in e.decision:
        what += f" -> rank {e.decision['new_rank']}"
    if e.reason:
        what += f"; reason: {e.reason.get('display') or e.reason.get('code')}"
    return what


def audit_event(e: AuditEntry) -> dict[str, Any]:
    """The AuditEvent for one entry."""
    model = e.model
    model_details = [{"type": k, "valueString": str(model[k])}
                     for k in ("sha256", "device", "quantization", "server", "weights")
                     if model.get(k)]
    clinical = [{"type": "differential-shown",
                 "valueString": canonical_json(e.differential_shown)},
                {"type": "decision", "valueString": canonical_json(e.decision)}]
    if e.diagnosis:
        clinical.insert(0, {"type": "diagnosis", "valueString": canonical_json(e.diagnosis)})
    if e.reason_text:
        clinical.append({"type": "reason-text", "valueString": e.reason_text})
    return {
        "resourceType": "AuditEvent",
        "id": _uuid(e.store_id, e.seq, "AuditEvent"),
        "type": dict(EVENT_TYPE),
        "subtype": [_coding(ACTION_SYSTEM, e.action, ACTION_DISPLAY.get(e.action, e.action))],
        "action": AUDIT_ACTION.get(e.action, "E"),
        "recorded": e.time,
        "outcome": "0",
        "outcomeDesc": _summary(e),
        "purposeOfEvent": [{"coding": [_coding(
            "http://terminology.hl7.org/CodeSystem/v3-ActReason", "TREAT", "treatment")]}],
        "agent": [
            {"type": {"coding": [_coding(
                "http://terminology.hl7.org/CodeSystem/extra-security-role-type", "humanuser",
                "human user")]},
             "who": {"identifier": {"system": "urn:osler:clinician", "value": e.clinician_id}},
             "altId": e.os_user,
             "requestor": True},
            {"type": {"coding": [_coding(DCM, "110150", "Application")]},
             "who": {"display": f"Osler {e.app_version}"},
             "requestor": False},
        ],
        "source": {
            "site": e.host,
            "observer": {"display": f"Osler audit store {e.store_id}"},
            "type": [_coding("http://terminology.hl7.org/CodeSystem/security-source-type", "4",
                             "Application Server")],
        },
        "entity": [
            {"what": {"type": "Patient", "identifier": {
                "system": f"urn:osler:audit:{e.store_id}:patient-pseudonym",
                "value": e.patient}},
             "type": _coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "1",
                             "Person"),
             "role": _coding("http://terminology.hl7.org/CodeSystem/object-role", "1",
                             "Patient")},
            {"what": {"identifier": {"system": "urn:osler:model",
                                     "value": f"{model['id']}@{model['version']}"}},
             "type": _coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "2",
                             "System Object"),
             "name": "model",
             **({"detail": model_details} if model_details else {})},
            {"what": {"identifier": {"system": "urn:osler:inputs-fingerprint",
                                     "value": e.inputs_fingerprint}},
             "type": _coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "2",
                             "System Object"),
             "role": _coding("http://terminology.hl7.org/CodeSystem/object-role", "3",
                             "Report"),
             "name": "differential shown and the clinician's decision",
             "detail": clinical},
            {"what": {"identifier": {"system": f"urn:osler:audit:{e.store_id}:entry",
                                     "value": str(e.seq)}},
             "type": _coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "2",
                             "System Object"),
             "name": "osler-entry",
             "description": "The audit entry exactly as hashed and signed (body), with its "
                            "place in the hash chain.",
             "detail": [{"type": "seq", "valueString": str(e.seq)},
                        {"type": "prev-hash", "valueString": e.prev_hash},
                        {"type": "entry-hash", "valueString": e.entry_hash},
                        {"type": "body", "valueBase64Binary": _b64(e.body)}]},
        ],
    }


def provenance(e: AuditEntry, public_key: str, sign: Callable[[bytes], str]) -> dict[str, Any]:
    """The Provenance for one entry: author, contributing model, reason, store signature."""
    model = e.model
    resource: dict[str, Any] = {
        "resourceType": "Provenance",
        "id": _uuid(e.store_id, e.seq, "Provenance"),
        "target": [{"reference": "urn:uuid:" + _uuid(e.store_id, e.seq, "AuditEvent"),
                    "type": "AuditEvent"}],
        "occurredDateTime": e.time,
        "recorded": e.time,
        "activity": {"coding": [_coding(ACTION_SYSTEM, e.action,
                                        ACTION_DISPLAY.get(e.action, e.action))]},
        "agent": [
            {"type": {"coding": [_coding(
                "http://terminology.hl7.org/CodeSystem/provenance-participant-type", "author",
                "Author")]},
             "who": {"identifier": {"system": "urn:osler:clinician", "value": e.clinician_id}}},
            {"type": {"coding": [_coding(
                "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                "assembler", "Assembler")]},
             "who": {"identifier": {"system": "urn:osler:model",
                                    "value": f"{model['id']}@{model['version']}"},
                     "display": "decision-support model that produced the differential"}},
        ],
        "entity": [{"role": "source", "what": {"identifier": {
            "system": "urn:osler:inputs-fingerprint", "value": e.inputs_fingerprint}}}],
        "signature": [{
            "type": [dict(SOURCE_SIGNATURE)],
            "when": e.time,
            "who": {"identifier": {"system": "urn:osler:audit-store-key:ed25519",
                                   "value": public_key},
                    "display": f"Osler audit store {e.store_id}"},
            "data": sign(e.body.encode("utf-8")),
        }],
    }
    if e.reason or e.reason_text:
        concept: dict[str, Any] = {}
        if e.reason:
            concept["coding"] = [dict(e.reason)]
        if e.reason_text:
            concept["text"] = e.reason_text
        resource["reason"] = [concept]
    return resource


def build_bundle(entries: list[AuditEntry], *, store_id: str, public_key: str,
                 sign: Callable[[bytes], str]) -> dict[str, Any]:
    """A FHIR R4 collection Bundle: AuditEvent then Provenance for each entry, oldest first."""
    items = []
    for e in entries:
        ae, prov = audit_event(e), provenance(e, public_key, sign)
        items.append({"fullUrl": "urn:uuid:" + ae["id"], "resource": ae})
        items.append({"fullUrl": "urn:uuid:" + prov["id"], "resource": prov})
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "identifier": {"system": "urn:osler:audit-store", "value": store_id},
        "type": "collection",
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "entry": items,
    }


def write_export(path: Path, bundle: dict[str, Any], overwrite: bool = False) -> None:
    """Write BUNDLE to PATH only (via a temporary name in the same folder), mode 0600."""
    if path.is_dir():
        raise AuditStoreError("is a folder; give a file name for the export", path)
    if path.exists() and not overwrite:
        raise AuditStoreError("already exists (choose another name or overwrite)", path)
    if not path.parent.is_dir():
        raise AuditStoreError("the folder does not exist", path)
    data = (json.dumps(bundle, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    tmp = path.with_name(f".{path.name}.writing-{secrets.token_hex(4)}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise AuditStoreError("already exists (choose another name or overwrite)",
                                      path) from None
            except OSError:
                os.replace(tmp, path)
    except OSError as exc:
        raise AuditStoreError(f"cannot write the export: {exc.strerror or exc}", path) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
