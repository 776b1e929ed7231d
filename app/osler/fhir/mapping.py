"""FHIR R4 resources -> timeline events (one function per resource type)."""

from __future__ import annotations

import hashlib
import json
from array import array
from collections.abc import Callable
from datetime import datetime
from typing import Any

from osler.fhir.fields import Concept, Fields, narrative_text
from osler.record import Coding, Event, EventKind, ReferenceRange

VITAL_LOINC = frozenset(
    [
        "85354-9",
        "8480-6",
        "8462-4",
        "8867-4",
        "8310-5",
        "9279-1",
        "2708-6",
        "59408-5",
        "29463-7",
        "8302-2",
        "39156-5",
        "8287-5",
        "9843-4",
        "72514-3",
        "8331-1",
        "8332-9",
        "8333-7",
        "8334-5",
        "59576-9",
        "77606-2",
        "8289-1",
    ]
)

STATUS_VALUES = {
    "Observation": {
        "registered",
        "preliminary",
        "final",
        "amended",
        "corrected",
        "cancelled",
        "entered-in-error",
        "unknown",
    },
    "MedicationRequest": {
        "active",
        "on-hold",
        "cancelled",
        "completed",
        "entered-in-error",
        "stopped",
        "draft",
        "unknown",
    },
    "Encounter": {
        "planned",
        "arrived",
        "triaged",
        "in-progress",
        "onleave",
        "finished",
        "cancelled",
        "entered-in-error",
        "unknown",
    },
    "Procedure": {
        "preparation",
        "in-progress",
        "not-done",
        "on-hold",
        "stopped",
        "completed",
        "entered-in-error",
        "unknown",
    },
    "Immunization": {"completed", "entered-in-error", "not-done"},
}
CLINICAL_STATUS = {"active", "recurrence", "relapse", "inactive", "remission", "resolved"}
ACTIVE_CLINICAL = {"active", "recurrence", "relapse"}


class Resolver:
    """Resolves references inside one import: encounters, medications, contained.

    `compact=True` (imports too large to hold every patient) keeps an id that is its own
    event id ("Encounter/123", every id in NDJSON) as a 64-bit hash in one sorted array,
    8 bytes each instead of about 130 in a dict, so a million-resource file's references
    stay resolvable in a few MB. A false match needs two of the file's ids to share a
    64-bit hash (about 1 in 10^7 for a million ids); it could only link an event to an
    encounter id that is not in the file."""

    def __init__(self, compact: bool = False) -> None:
        self.event_ids: dict[str, str] = {}
        self.medications: dict[str, str] = {}
        self._hashes: array[int] | None = array("q") if compact else None
        self._sorted: Any = None  # numpy array once frozen

    def add(self, rtype: str, rid: str | None, full_url: str | None, event_id: str) -> None:
        if rid:
            key = f"{rtype}/{rid}"
            if key != event_id:
                self.event_ids[key] = event_id
            elif self._hashes is not None:
                self._hashes.append(hash(key))
            else:  # one string, not two (a million-resource import)
                self.event_ids[key] = key
        if full_url:
            self.event_ids[full_url] = event_id
            if "/" in full_url and not full_url.startswith("urn:"):
                tail = "/".join(full_url.rstrip("/").split("/")[-2:])
                self.event_ids.setdefault(tail, event_id)

    def freeze(self) -> None:
        """All ids are in (end of the first pass): sort the compact hashes for lookup."""
        if self._hashes is not None and self._sorted is None:
            import numpy as np

            self._sorted = np.sort(np.frombuffer(self._hashes, dtype=np.int64))
            self._hashes = None

    def add_medication(self, res: dict[str, Any], full_url: str | None, f: Fields) -> None:
        concept = f.concept(res, "code", "code")
        if concept is None:
            return
        rid = res.get("id")
        if isinstance(rid, str):
            self.medications[f"Medication/{rid}"] = concept.text
        if full_url:
            self.medications[full_url] = concept.text

    def event_id(self, ref: str | None) -> str | None:
        if not ref:
            return None
        tail = "/".join(ref.rstrip("/").split("/")[-2:])
        return (self.event_ids.get(ref) or self.event_ids.get(tail)
                or self._hashed(ref) or self._hashed(tail))

    def _hashed(self, key: str) -> str | None:
        if self._hashes is not None:
            self.freeze()
        if self._sorted is None or not self._sorted.size:
            return None
        h = hash(key)
        i = int(self._sorted.searchsorted(h))
        return key if i < self._sorted.size and int(self._sorted[i]) == h else None


def resource_event_id(rtype: str, res: dict[str, Any], full_url: str | None) -> str:
    """Stable id: Type/id, else the fullUrl's uuid, else a hash of the content."""
    rid = res.get("id")
    if isinstance(rid, str) and rid:
        return f"{rtype}/{rid}"
    if full_url:
        return f"{rtype}/{full_url.rsplit(':', 1)[-1].rsplit('/', 1)[-1]}"
    digest = hashlib.sha256(json.dumps(res, sort_keys=True, default=str).encode()).hexdigest()
    return f"{rtype}/sha256-{digest[:16]}"


def _status(f: Fields, res: dict[str, Any], rtype: str) -> str | None:
    status = f.text(res, "status", "status")
    allowed = STATUS_VALUES.get(rtype)
    if status is not None and allowed is not None and status not in allowed:
        f.warn("status", f"{status[:40]!r} is not a valid {rtype}.status code; ignored")
        return None
    return status


def _clinical(f: Fields, res: dict[str, Any], key: str = "clinicalStatus") -> str | None:
    c = f.concept(res, key, key)
    if c is None:
        return None
    code = next((x.code for x in c.codings if x.code), None) or c.text
    if key == "clinicalStatus" and code not in CLINICAL_STATUS:
        f.warn(key, f"{str(code)[:40]!r} is not a valid clinical status; ignored")
        return None
    return code


def _first_time(*candidates: tuple[datetime, str] | None) -> tuple[datetime | None, str]:
    for c in candidates:
        if c is not None:
            return c
    return None, "second"


class Mapper:
    """Turns one resource into events; knows nothing about patients or files."""

    def __init__(self, resolver: Resolver):
        self.resolver = resolver
        self.handlers: dict[str, Callable[[dict[str, Any], str, Fields], list[Event]]] = {
            "Encounter": self.encounter,
            "Condition": self.condition,
            "Observation": self.observation,
            "MedicationRequest": self.medication,
            "MedicationStatement": self.medication,
            "MedicationAdministration": self.medication,
            "MedicationDispense": self.medication,
            "Procedure": self.procedure,
            "AllergyIntolerance": self.allergy,
            "Immunization": self.immunization,
            "DiagnosticReport": self.report,
            "DocumentReference": self.document,
            "Composition": self.composition,
            "ClinicalImpression": self.impression,
            "CarePlan": self.careplan,
            "Goal": self.goal,
            "ImagingStudy": self.imaging,
            "FamilyMemberHistory": self.family_history,
            "Device": self.device,
            "ServiceRequest": self.order,
            "DeviceRequest": self.order,
            "NutritionOrder": self.order,
        }

    def events(self, res: dict[str, Any], event_id: str, f: Fields) -> list[Event]:
        handler = self.handlers.get(res["resourceType"])
        return handler(res, event_id, f) if handler else []

    # --- helpers -------------------------------------------------------------
    def _base(
        self,
        event_id: str,
        kind: EventKind,
        f: Fields,
        res: dict[str, Any],
        concept: Concept | None,
        time: tuple[datetime | None, str],
        fallback: str,
        **kw: Any,
    ) -> Event:
        enc = f.reference(res, "encounter", "encounter") or f.reference(res, "context", "context")
        return Event(
            id=event_id,
            kind=kind,
            time=time[0],
            time_precision=time[1],
            display=(concept.text if concept and concept.text else fallback),
            code=concept.primary if concept else None,
            codes=concept.codings if concept else (),
            encounter=self.resolver.event_id(enc),
            source=f.source,
            **kw,
        )

    # --- resource types -----------------------------------------------------
    def encounter(self, res: dict[str, Any], eid: str, f: Fields) -> list[Event]:
        types = f.concepts(res, "type", "type")
        concept = types[0] if types else None
        cls = f.obj(res, "class", "class")
        cls_code = f.text(cls, "code", "class.code") if cls else None
        start, end = f.period(res, "period", "period")
        status = _status(f, res, "Encounter")
        reasons = [c.text for c in f.concepts(res, "reasonCode", "reasonCode")]
        extra = {"reason": "; ".join(reasons)} if reasons else {}
        return [
            self._base(
                eid,
                EventKind.ENCOUNTER,
                f,
                {},
                concept,
                _first_time(start),
                f"Encounter ({cls_code or 'unspecified'})",
                end=end[0] if end else None,
                ongoing=status == "in-progress",
                status=status,
                category=cls_code,
                extra=extra,
            )
        ]

    def condition(self, res: dict[str, Any], eid: str, f: Fields) -> list[Event]:
        concept = f.concept(res, "code", "code")
        clinical = _clinical(f, res)
        verification = _clinical(f, res, "verificationStatus")
        onset = f.when(res, "onsetDateTime", "onsetDateTime")
        if onset is None:
            onset = f.period(res, "onsetPeriod", "onsetPeriod")[0]
        recorded = f.when(res, "recordedDate", "recordedDate")
        abated = f.when(res, "abatementDateTime", "abatementDateTime")
        if abated is None:
            abated = f.period(res, "abatementPeriod", "abatementPeriod")[1]
        cats = f.concepts(res, "category", "category")
        extra = {"verification": verification} if verification else {}
        if clinical in ACTIVE_CLINICAL and abated is not None:
            # FHIR's invariant con-4: an abated condition cannot be active. The abatement is
            # the more specific statement; it is kept and the contradiction reported.
            f.warn("clinicalStatus", f"{clinical!r} contradicts abatement "
                   f"{abated[0].date().isoformat()}; read as ended then")
        return [
            self._base(
                eid,
                EventKind.CONDITION,
                f,
                res,
                concept,
                _first_time(onset, recorded),
                "Condition",
                end=abated[0] if abated else None,
                ongoing=clinical in ACTIVE_CLINICAL and abated is None,
                status=clinical,
                category=next((c.codings[0].code for c in cats if c.codings), None),
                extra=extra,
            )
        ]

    def observation(self, res: dict[str, Any], eid: str, f: Fields) -> list[Event]:
        concept = f.concept(res, "code", "code")
        status = _status(f, res, "Observation")
        cats = f.concepts(res, "category", "category")
        cat_codes = {x.code for c in cats for x in c.codings}
        codes = {x.code for x in concept.codings} if concept else set()
        if "vital-signs" in cat_codes or codes & VITAL_LOINC:
            kind = EventKind.VITAL
        elif "laboratory" in cat_codes:
            kind = EventKind.LAB
        else:
            kind = EventKind.OBSERVATION
        category = next(iter(sorted(c for c in cat_codes if c)), None)
        start, end = f.period(res, "effectivePeriod", "effectivePeriod")
        time = _first_time(
            f.when(res, "effectiveDateTime", "effectiveDateTime"),
            f.when(res, "effectiveInstant", "effectiveInstant"),
            start,
            f.when(res, "issued", "issued"),
        )
        value, unit = self._value(res, f, "")
        rr = self._range(res, f, "referenceRange")
        interp = self._interpretation(res, f, "interpretation")
        events: list[Event] = []
        comps = f.objs(res, "component", "component")
        if value is not None or not comps:
            events.append(
                self._base(
                    eid,
                    kind,
                    f,
                    res,
                    concept,
                    time,
                    "Observation",
                    value=value,
                    unit=unit,
                    reference_range=rr,
                    interpretation=interp,
                    status=status,
                    category=category,
                    end=end[0] if end else None,
                )
            )
        seen: dict[str, int] = {}
        for i, comp in enumerate(comps):
            path = f"component[{i}]"
            cc = f.concept(comp, "code", f"{path}.code")
            cvalue, cunit = self._value(comp, f, f"{path}.")
            if cvalue is None:
                continue
            key = cc.primary.code if cc and cc.primary and cc.primary.code else str(i)
            n = seen.get(key, 0)
            seen[key] = n + 1
            cid = f"{eid}#{key}" + (f"-{n}" if n else "")
            events.append(
                self._base(
                    cid,
                    kind,
                    f,
                    res,
                    cc,
                    time,
                    f"{concept.text if concept else 'Component'}",
                    value=cvalue,
                    unit=cunit,
                    reference_range=self._range(comp, f, f"{path}.referenceRange"),
                    interpretation=self._interpretation(comp, f, f"{path}.interpretation"),
                    status=status,
                    category=category,
                    parent=eid,
                )
            )
        return events

    def _value(self, d: dict[str, Any], f: Fields, path: str) -> tuple[Any, str | None]:
        q = f.obj(d, "valueQuantity", f"{path}valueQuantity")
        if q is not None:
            unit = f.text(q, "unit", f"{path}valueQuantity.unit") or f.text(
                q, "code", f"{path}valueQuantity.code"
            )
            return f.num(q, "value", f"{path}valueQuantity.value"), unit
        c = f.concept(d, "valueCodeableConcept", f"{path}valueCodeableConcept")
        if c is not None:
            return c.text, None
        for key in ("valueString", "valueTime", "valueDateTime"):
            s = f.text(d, key, f"{path}{key}")
            if s is not None:
                return s, None
        if "valueBoolean" in d:
            v = d["valueBoolean"]
            if isinstance(v, bool):
                return v, None
            f.warn(f"{path}valueBoolean", "expected true/false; value dropped")
        if "valueInteger" in d:
            n = f.num(d, "valueInteger", f"{path}valueInteger")
            return n, None
        r = f.obj(d, "valueRatio", f"{path}valueRatio")
        if r is not None:
            num = f.num(f.obj(r, "numerator", "n") or {}, "value", f"{path}valueRatio.numerator")
            den = f.num(
                f.obj(r, "denominator", "d") or {}, "value", f"{path}valueRatio.denominator"
            )
            if num is not None and den is not None:
                return f"{num:g}/{den:g}", None
        rng = f.obj(d, "valueRange", f"{path}valueRange")
        if rng is not None:
            lo = f.num(f.obj(rng, "low", "l") or {}, "value", f"{path}valueRange.low")
            hi = f.num(f.obj(rng, "high", "h") or {}, "value", f"{path}valueRange.high")
            return f"{'' if lo is None else f'{lo:g}'}-{'' if hi is None else f'{hi:g}'}", None
        return None, None

    def _range(self, d: dict[str, Any], f: Fields, path: str) -> ReferenceRange | None:
        ranges = f.objs(d, "referenceRange", path)
        if not ranges:
            return None
        r = ranges[0]
        low = f.num(f.obj(r, "low", f"{path}[0].low"), "value", f"{path}[0].low.value")
        high = f.num(f.obj(r, "high", f"{path}[0].high"), "value", f"{path}[0].high.value")
        text = f.text(r, "text", f"{path}[0].text")
        if low is None and high is None and text is None:
            return None
        return ReferenceRange(low, high, text)

    def _interpretation(self, d: dict[str, Any], f: Fields, path: str) -> str | None:
        for c in f.concepts(d, "interpretation", path):
            for x in c.codings:
                if x.code:
                    return x.code
            return c.text or None
        return None

    def medication(self, res: dict[str, Any], eid: str, f: Fields) -> list[Event]:
        rtype = res["resourceType"]
        concept = f.concept(res, "medicationCodeableConcept", "medicationCodeableConcept")
        if concept is None:
            ref = f.reference(res, "medicationReference", "medicationReference")
            name = self._contained_medication(res, ref, f) or (
                self.resolver.medications.get(ref or "") if ref else None
            )
            if name is None and ref:
                mr = f.obj(res, "medicationReference", "medicationReference")
                name = f.text(mr, "display", "medicationReference.display")
            if name:
                concept = Concept((), name)
        status = (
            _status(f, res, rtype)
            if rtype == "MedicationRequest"
            else f.text(res, "status", "status")
        )
        start = end = None
        if rtype == "MedicationRequest":
            start = f.when(res, "authoredOn", "authoredOn")
            dr = f.obj(res, "dispenseRequest", "dispenseRequest")
            vp_start, vp_end = f.period(dr, "validityPeriod", "dispenseRequest.validityPeriod")
            start = start or vp_start
            end = vp_end
        elif rtype == "MedicationDispense":
            start = f.when(res, "whenHandedOver", "whenHandedOver") or f.when(
                res, "whenPrepared", "whenPrepared"
            )
        else:
            ps, pe = f.period(res, "effectivePeriod", "effectivePeriod")
            start = f.when(res, "effectiveDateTime", "effectiveDateTime") or ps
            end = pe
            if start is None and rtype == "MedicationStatement":
                start = f.when(res, "dateAsserted", "dateAsserted")
        dosage = []
        if rtype == "MedicationAdministration":
            single = f.obj(res, "dosage", "dosage")
            dosages = [single] if single else []
        else:
            dosages = f.objs(res, "dosageInstruction", "dosageInstruction") or f.objs(
                res, "dosage", "dosage"
            )
        for i, d in enumerate(dosages):
            t = f.text(d, "text", f"dosage[{i}].text")
            if t:
                dosage.append(t)
        extra = {"resource": rtype}
        if dosage:
            extra["dosage"] = "; ".join(dosage)
        return [
            self._base(
                eid,
                EventKind.MEDICATION,
                f,
                res,
                concept,
                _first_time(start),
                "Medication",
                end=end[0] if end else None,
                ongoing=status == "active" and end is None,
                status=status,
                extra=extra,
            )
        ]

    def _contained_medication(self, res: dict[str, Any], ref: str | None, f: Fields) -> str | None:
        if not ref or not ref.startswith("#"):
            return None
        for i, c in enumerate(f.objs(res, "contained", "contained")):
            if c.get("id") == ref[1:]:
                con = f.concept(c, "code", f"contained[{i}].code")
                return con.text if con else None
        return None

    def procedure(self, res: dict[str, Any], eid: str, f: Fields) -> list[Event]:
        concept = f.concept(res, "code", "code")
        start, end = f.period(res, "performedPeriod", "performedPeriod")
        when = f.when(res, "performedDateTime", "performedDateTime") or start
        return [
            self._base(
                eid,
                EventKind.PROCEDURE,
                f,
                res,
                concept,
                _first_time(when),
                "Procedure",
                end=end[0] if end else None,
                status=_status(f, res, "Procedure"),
            )
        ]

    def allergy(self, res: dict[str, Any], eid: str, f: Fields) -> list[Event]:
        concept = f.concept(res, "code", "code")
        clinical = _clinical(f, res)
        when = f.when(res, "onsetDateTime", "onsetDateTime") or f.when(
            res, "recordedDate", "recordedDate"
        )
        reactions = []
        for i, r in enumerate(f.objs(res, "reaction", "reaction")):
            for c in f.concepts(r, "manifestation", f"reaction[{i}].manifestation"):
                reactions.append(c.text)
        cats = f.arr(res, "category", "category")
        extra = {}
        if reactions:
            extra["reaction"] = "; ".join(reactions)
        crit = f.text(res, "criticality", "criticality")
        if crit:
            extra["criticality"] = crit
        return [
            self._base(
                eid,
                EventKind.ALLERGY,
                f,
                res,
                concept,
                _first_time(when),
                "Allergy",
                ongoing=clinical in ACTIVE_CLINICAL or clinical is None,
                status=clinical,
                category=next((c for c in cats if isinstance(c, str)), None),
                extra=extra,
            )
        ]

    def immunization(self, res: dict[str, Any], eid: str, f: Fields) -> list[Event]:
        concept = f.concept(res, "vaccineCode", "vaccineCode")
        when = f.when(res, "occurrenceDateTime", "occurrenceDateTime") or f.when(
            res, "recorded", "recorded"
        )
        return [
            self._base(
                eid,
                EventKind.IMMUNIZATION,
                f,
                res,
                concept,
                _first_time(when),
                "Immunization",
                status=_status(f, res, "Immunization"),
            )
        ]

    def report(self, res: dict[str, Any], eid: str, f: Fields) -> list[Event]:
        concept = f.concept(res, "code", "code")
        start, end = f.period(res, "effectivePeriod", "effectivePeriod")
        when = (
            f.when(res, "effectiveDateTime", "effectiveDateTime")
            or start
            or f.when(res, "issued", "issued")
        )
        texts = []
        for i, att in enumerate(f.objs(res, "presentedForm", "presentedForm")):
            t = f.attachment_text(att, f"presentedForm[{i}]")
            if t:
                texts.append(t)
        conclusion = f.text(res, "conclusion", "conclusion")
        if conclusion:
            texts.append(conclusion)
        results = [
            self.resolver.event_id(f.text(r, "reference", "result.reference"))
            for r in f.objs(res, "result", "result")
        ]
        cats = f.concepts(res, "category", "category")
        extra = {"results": " ".join(r for r in results if r)} if any(results) else {}
        return [
            self._base(
                eid,
                EventKind.REPORT,
                f,
                res,
                concept,
                _first_time(when),
                "Report",
                end=end[0] if end else None,
                text="\n\n".join(texts) or None,
                status=f.text(res, "status", "status"),
                category=next((c.text for c in cats), None),
                extra=extra,
            )
        ]

    def document(self, res: dict[str, Any], eid: str, f: Fields) -> list[Event]:
        concept = f.concept(res, "type", "type")
        ctx = f.obj(res, "context", "context")
        start, _ = f.period(ctx, "period", "context.period")
        when = f.when(res, "date", "date") or start
        texts = []
        external = 0
        for i, content in enumerate(f.objs(res, "content", "content")):
            att = f.obj(content, "attachment", f"content[{i}].attachment")
            if att is None:
                continue
            t = f.attachment_text(att, f"content[{i}].attachment")
            if t:
                texts.append(t)
            elif att.get("url"):
                external += 1
        desc = f.text(res, "description", "description")
        extra = {"external_attachments": str(external)} if external else {}
        encs = [
            f.text(r, "reference", "context.encounter.reference")
            for r in f.objs(ctx, "encounter", "context.encounter")
        ]
        ev = self._base(
            eid,
            EventKind.NOTE,
            f,
            res,
            concept,
            _first_time(when),
            desc or "Note",
            text="\n\n".join(texts) or desc,
            status=f.text(res, "status", "status"),
            extra=extra,
        )
        if encs and ev.encounter is None:
            from dataclasses import replace

            ev = replace(ev, encounter=self.resolver.event_id(encs[0]))
        return [ev]

    def composition(self, res: dict[str, Any], eid: str, f: Fields) -> list[Event]:
        concept = f.concept(res, "type", "type")
        title = f.text(res, "title", "title")
        parts = []
        for i, s in enumerate(f.objs(res, "section", "section")):
            st = f.text(s, "title", f"section[{i}].title")
            div = f.text(f.obj(s, "text", f"section[{i}].text"), "div", f"section[{i}].text.div")
            if st or div:
                parts.append(f"{st or ''}\n{narrative_text(div) if div else ''}".strip())
        return [
            self._base(
                eid,
                EventKind.NOTE,
                f,
                res,
                concept,
                _first_time(f.when(res, "date", "date")),
                title or "Composition",
                text="\n\n".join(parts) or title,
                status=f.text(res, "status", "status"),
            )
        ]

    def impression(self, res: dict[str, Any], eid: str, f: Fields) -> list[Event]:
        concept = f.concept(res, "code", "code")
        when = f.when(res, "effectiveDateTime", "effectiveDateTime") or f.when(res, "date", "date")
        text = "\n".join(
            t
            for t in (f.text(res, "description", "description"), f.text(res, "summary", "summary"))
            if t
        )
        return [
            self._base(
                eid,
                EventKind.NOTE,
                f,
                res,
                concept,
                _first_time(when),
                "Clinical impression",
                text=text or None,
                status=f.text(res, "status", "status"),
            )
        ]

    def careplan(self, res: dict[str, Any], eid: str, f: Fields) -> list[Event]:
        cats = f.concepts(res, "category", "category")
        concept = cats[-1] if cats else None
        title = f.text(res, "title", "title") or f.text(res, "description", "description")
        start, end = f.period(res, "period", "period")
        status = f.text(res, "status", "status")
        acts = []
        for i, a in enumerate(f.objs(res, "activity", "activity")):
            det = f.obj(a, "detail", f"activity[{i}].detail")
            c = f.concept(det, "code", f"activity[{i}].detail.code") if det else None
            if c:
                acts.append(c.text)
        ev = self._base(
            eid,
            EventKind.CAREPLAN,
            f,
            res,
            concept,
            _first_time(start),
            title or "Care plan",
            end=end[0] if end else None,
            ongoing=status == "active" and end is None,
            status=status,
            extra={"activities": "; ".join(acts)} if acts else {},
        )
        return [ev]

    def goal(self, res: dict[str, Any], eid: str, f: Fields) -> list[Event]:
        concept = f.concept(res, "description", "description")
        when = f.when(res, "startDate", "startDate") or f.when(res, "statusDate", "statusDate")
        return [
            self._base(
                eid,
                EventKind.CAREPLAN,
                f,
                res,
                concept,
                _first_time(when),
                "Goal",
                status=f.text(res, "lifecycleStatus", "lifecycleStatus"),
                category="goal",
            )
        ]

    def imaging(self, res: dict[str, Any], eid: str, f: Fields) -> list[Event]:
        procs = f.concepts(res, "procedureCode", "procedureCode")
        concept = procs[0] if procs else None
        modality = []
        for i, m in enumerate(f.objs(res, "modality", "modality")):
            c = f.text(m, "code", f"modality[{i}].code")
            if c:
                modality.append(c)
        for i, s in enumerate(f.objs(res, "series", "series")):
            m = f.obj(s, "modality", f"series[{i}].modality")
            c = f.text(m, "code", f"series[{i}].modality.code") if m else None
            if c and c not in modality:
                modality.append(c)
        desc = f.text(res, "description", "description")
        return [
            self._base(
                eid,
                EventKind.IMAGING,
                f,
                res,
                concept,
                _first_time(f.when(res, "started", "started")),
                desc or f"Imaging study ({', '.join(modality) or 'unknown modality'})",
                status=f.text(res, "status", "status"),
                category=",".join(modality) or None,
            )
        ]

    def family_history(self, res: dict[str, Any], eid: str, f: Fields) -> list[Event]:
        rel = f.concept(res, "relationship", "relationship")
        conds = []
        for i, c in enumerate(f.objs(res, "condition", "condition")):
            con = f.concept(c, "code", f"condition[{i}].code")
            if con:
                conds.append(con)
        label = f"{rel.text if rel else 'Relative'}: " + (
            ", ".join(c.text for c in conds) or "history"
        )
        codings = tuple(x for c in conds for x in c.codings)
        concept = Concept(codings, label)
        return [
            self._base(
                eid,
                EventKind.FAMILY_HISTORY,
                f,
                res,
                concept,
                _first_time(f.when(res, "date", "date")),
                label,
                status=f.text(res, "status", "status"),
            )
        ]

    def device(self, res: dict[str, Any], eid: str, f: Fields) -> list[Event]:
        concept = f.concept(res, "type", "type")
        names = [
            f.text(n, "name", "deviceName.name") for n in f.objs(res, "deviceName", "deviceName")
        ]
        name = next((n for n in names if n), None)
        return [
            self._base(
                eid,
                EventKind.DEVICE,
                f,
                res,
                concept,
                _first_time(f.when(res, "manufactureDate", "manufactureDate")),
                name or "Device",
                status=f.text(res, "status", "status"),
            )
        ]

    def order(self, res: dict[str, Any], eid: str, f: Fields) -> list[Event]:
        rtype = res["resourceType"]
        concept = f.concept(res, "code", "code") or f.concept(
            res, "codeCodeableConcept", "codeCodeableConcept"
        )
        when = f.when(res, "authoredOn", "authoredOn") or f.when(res, "dateTime", "dateTime")
        if when is None:
            when = f.when(res, "occurrenceDateTime", "occurrenceDateTime")
        return [
            self._base(
                eid,
                EventKind.ORDER,
                f,
                res,
                concept,
                _first_time(when),
                {"NutritionOrder": "Nutrition order", "DeviceRequest": "Device request"}.get(
                    rtype, "Order"
                ),
                status=f.text(res, "status", "status"),
                extra={"resource": rtype},
            )
        ]


def coding_label(c: Coding) -> str:
    """'LOINC 8480-6' style label of a coding."""
    return f"{c.system_name} {c.code}".strip()
