"""FHIR Patient resources -> record.Patient, and matching references to patients."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from osler.fhir.fields import Fields
from osler.record import Patient
from osler.record.patient import Identifier

GENDERS = {"male", "female", "other", "unknown"}


def parse_patient(res: dict[str, Any], f: Fields) -> Patient:
    """Demographics of a Patient resource; bad fields are dropped with an issue."""
    rid = res.get("id") if isinstance(res.get("id"), str) else None
    names = f.objs(res, "name", "name")
    chosen = next((n for n in names if n.get("use") == "official"), None) or (
        next((n for n in names if n.get("use") == "usual"), None) or (names[0] if names else None)
    )
    given: tuple[str, ...] = ()
    family = display = None
    if chosen is not None:
        given = tuple(g for g in f.arr(chosen, "given", "name.given") if isinstance(g, str))
        family = f.text(chosen, "family", "name.family")
        display = f.text(chosen, "text", "name.text") or " ".join([*given, family or ""]).strip()
    gender = f.text(res, "gender", "gender")
    if gender is not None and gender not in GENDERS:
        f.warn("gender", f"{gender[:20]!r} is not a FHIR administrative gender; ignored")
        gender = None
    birth = f.when(res, "birthDate", "birthDate")
    deceased: datetime | bool | None = None
    dd = f.when(res, "deceasedDateTime", "deceasedDateTime")
    if dd is not None:
        deceased = dd[0]
    elif isinstance(res.get("deceasedBoolean"), bool):
        deceased = res["deceasedBoolean"]
    idents = []
    for i, ident in enumerate(f.objs(res, "identifier", "identifier")):
        value = f.text(ident, "value", f"identifier[{i}].value")
        if value:
            t = f.concept(ident, "type", f"identifier[{i}].type")
            idents.append(Identifier(f.text(ident, "system", f"identifier[{i}].system"), value,
                                     t.text if t else None))
    addresses = []
    for i, a in enumerate(f.objs(res, "address", "address")):
        parts = [x for x in f.arr(a, "line", f"address[{i}].line") if isinstance(x, str)]
        for key in ("city", "district", "state", "postalCode", "country"):
            v = f.text(a, key, f"address[{i}].{key}")
            if v:
                parts.append(v)
        text = f.text(a, "text", f"address[{i}].text") or ", ".join(parts)
        if text:
            addresses.append(text)
    telecom = []
    for i, t in enumerate(f.objs(res, "telecom", "telecom")):
        v = f.text(t, "value", f"telecom[{i}].value")
        if v:
            telecom.append(v)
    return Patient(
        id=rid or "unknown",
        name=display or None,
        given=given,
        family=family,
        gender=gender,
        birth_date=birth[0].date() if birth else None,
        deceased=deceased,
        identifiers=tuple(idents),
        addresses=tuple(addresses),
        telecom=tuple(telecom),
    )


def patient_keys(res: dict[str, Any], full_url: str | None) -> list[str]:
    """Every reference string that may point at this Patient resource."""
    keys = []
    rid = res.get("id")
    if isinstance(rid, str):
        keys.append(f"Patient/{rid}")
    if full_url:
        keys.append(full_url)
        if not full_url.startswith("urn:"):
            keys.append("/".join(full_url.rstrip("/").split("/")[-2:]))
    for ident in res.get("identifier", []) if isinstance(res.get("identifier"), list) else []:
        if isinstance(ident, dict) and isinstance(ident.get("value"), str):
            system = ident.get("system") if isinstance(ident.get("system"), str) else ""
            keys.append(f"Patient?identifier={system}|{ident['value']}")
    return keys


def placeholder_id(ref: str) -> str | None:
    """Patient id named by a reference when the Patient is absent; None if not a patient."""
    if ref.startswith("urn:uuid:"):
        return ref[len("urn:uuid:") :]
    if ref.startswith("Patient?"):
        return ref.split("|")[-1] or None
    parts = ref.rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2] == "Patient":
        return parts[-1]
    if len(parts) >= 4 and parts[-4] == "Patient" and parts[-2] == "_history":
        return parts[-3]
    return None
