"""Build small FHIR R4 resources and Bundles: for demo cases, teaching cases, tests, benchmarks.

Ids are deterministic (uuid5 of a seed) so that rebuilt cases keep their event ids.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
OBS_CAT = "http://terminology.hl7.org/CodeSystem/observation-category"


def _iso(t: datetime | str) -> str:
    return t if isinstance(t, str) else t.isoformat()


def concept(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


@dataclass
class BundleBuilder:
    """Accumulates resources for one patient and writes a transaction Bundle."""

    seed: str
    entries: list[dict[str, Any]] = field(default_factory=list)
    patient_id: str = ""
    _n: int = 0

    def _id(self) -> str:
        self._n += 1
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"osler:{self.seed}:{self._n}"))

    def _add(self, resource: dict[str, Any]) -> str:
        rid = resource.setdefault("id", self._id())
        self.entries.append(
            {
                "fullUrl": f"urn:uuid:{rid}",
                "resource": resource,
                "request": {"method": "POST", "url": resource["resourceType"]},
            }
        )
        return rid

    def _subject(self) -> dict[str, str]:
        return {"reference": f"urn:uuid:{self.patient_id}"}

    def patient(self, given: str, family: str, gender: str, birth_date: str,
                **extra: Any) -> str:
        res = {
            "resourceType": "Patient",
            "name": [{"use": "official", "given": [given], "family": family}],
            "gender": gender,
            "birthDate": birth_date,
            **extra,
        }
        self.patient_id = self._add(res)
        return self.patient_id

    def encounter(self, start: datetime | str, end: datetime | str | None, display: str,
                  cls: str = "AMB", snomed: str = "185345009") -> str:
        res: dict[str, Any] = {
            "resourceType": "Encounter",
            "status": "finished" if end else "in-progress",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": cls},
            "type": [concept(SNOMED, snomed, display)],
            "subject": self._subject(),
            "period": {"start": _iso(start), **({"end": _iso(end)} if end else {})},
        }
        return self._add(res)

    def condition(self, when: datetime | str, code: str, display: str, *,
                  active: bool = True, encounter: str | None = None,
                  system: str = SNOMED, abated: datetime | str | None = None,
                  clinical: str | None = None) -> str:
        res: dict[str, Any] = {
            "resourceType": "Condition",
            "clinicalStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                "code": clinical or ("active" if active else "resolved")}]},
            "verificationStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                "code": "confirmed"}]},
            "code": concept(system, code, display),
            "subject": self._subject(),
            "onsetDateTime": _iso(when),
        }
        if abated is not None:
            res["abatementDateTime"] = _iso(abated)
        if encounter:
            res["encounter"] = {"reference": f"urn:uuid:{encounter}"}
        return self._add(res)

    def observation(self, when: datetime | str, loinc: str, display: str,
                    value: float | str | None, unit: str | None = None, *,
                    category: str = "laboratory", low: float | None = None,
                    high: float | None = None, encounter: str | None = None,
                    components: list[tuple[str, str, float, str]] | None = None) -> str:
        res: dict[str, Any] = {
            "resourceType": "Observation",
            "status": "final",
            "category": [{"coding": [{"system": OBS_CAT, "code": category}]}],
            "code": concept(LOINC, loinc, display),
            "subject": self._subject(),
            "effectiveDateTime": _iso(when),
        }
        if isinstance(value, int | float):
            res["valueQuantity"] = {"value": value, "unit": unit, "system": UCUM, "code": unit}
        elif isinstance(value, str):
            res["valueString"] = value
        if low is not None or high is not None:
            rr: dict[str, Any] = {}
            if low is not None:
                rr["low"] = {"value": low, "unit": unit}
            if high is not None:
                rr["high"] = {"value": high, "unit": unit}
            res["referenceRange"] = [rr]
        if components:
            res["component"] = [
                {"code": concept(LOINC, c, d), "valueQuantity": {"value": v, "unit": u}}
                for c, d, v, u in components
            ]
        if encounter:
            res["encounter"] = {"reference": f"urn:uuid:{encounter}"}
        return self._add(res)

    def vital(self, when: datetime | str, loinc: str, display: str, value: float,
              unit: str, **kw: Any) -> str:
        return self.observation(when, loinc, display, value, unit, category="vital-signs", **kw)

    def blood_pressure(self, when: datetime | str, systolic: float, diastolic: float,
                       **kw: Any) -> str:
        return self.observation(
            when, "85354-9", "Blood pressure panel", None, category="vital-signs",
            components=[("8480-6", "Systolic blood pressure", systolic, "mm[Hg]"),
                        ("8462-4", "Diastolic blood pressure", diastolic, "mm[Hg]")], **kw)

    def medication(self, when: datetime | str, rxnorm: str, display: str,
                   status: str = "active", dosage: str | None = None) -> str:
        res: dict[str, Any] = {
            "resourceType": "MedicationRequest",
            "status": status,
            "intent": "order",
            "medicationCodeableConcept": concept(RXNORM, rxnorm, display),
            "subject": self._subject(),
            "authoredOn": _iso(when),
        }
        if dosage:
            res["dosageInstruction"] = [{"text": dosage}]
        return self._add(res)

    def procedure(self, when: datetime | str, code: str, display: str) -> str:
        return self._add({
            "resourceType": "Procedure",
            "status": "completed",
            "code": concept(SNOMED, code, display),
            "subject": self._subject(),
            "performedDateTime": _iso(when),
        })

    def allergy(self, when: datetime | str, code: str, display: str,
                reaction: str | None = None) -> str:
        res: dict[str, Any] = {
            "resourceType": "AllergyIntolerance",
            "clinicalStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                "code": "active"}]},
            "code": concept(SNOMED, code, display),
            "patient": self._subject(),
            "recordedDate": _iso(when),
        }
        if reaction:
            res["reaction"] = [{"manifestation": [{"text": reaction}]}]
        return self._add(res)

    def immunization(self, when: datetime | str, cvx: str, display: str) -> str:
        return self._add({
            "resourceType": "Immunization",
            "status": "completed",
            "vaccineCode": concept("http://hl7.org/fhir/sid/cvx", cvx, display),
            "patient": self._subject(),
            "occurrenceDateTime": _iso(when),
        })

    def note(self, when: datetime | str, text: str, title: str = "Progress note",
             loinc: str = "11506-3", encounter: str | None = None) -> str:
        res: dict[str, Any] = {
            "resourceType": "DocumentReference",
            "status": "current",
            "type": concept(LOINC, loinc, title),
            "subject": self._subject(),
            "date": _iso(when),
            "content": [{"attachment": {
                "contentType": "text/plain; charset=utf-8",
                "data": base64.b64encode(text.encode("utf-8")).decode("ascii"),
            }}],
        }
        if encounter:
            res["context"] = {"encounter": [{"reference": f"urn:uuid:{encounter}"}]}
        return self._add(res)

    def raw(self, resource: dict[str, Any]) -> str:
        """Add any resource as given (a 'subject' is filled in when it has none)."""
        return self._add(resource)

    def bundle(self, **extra: Any) -> dict[str, Any]:
        return {"resourceType": "Bundle", "type": "transaction", "entry": self.entries, **extra}
