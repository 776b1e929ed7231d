"""Import a FHIR file or folder into one Timeline per patient, with located issues."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from osler.cancel import NEVER, CancelToken
from osler.fhir.bundle_stream import stream as stream_bundle
from osler.fhir.dates import format_time
from osler.fhir.errors import FhirError, ImportIssue
from osler.fhir.fields import Fields
from osler.fhir.mapping import Mapper, Resolver, resource_event_id
from osler.fhir.patients import parse_patient, patient_keys, placeholder_id
from osler.fhir.reader import FhirInput, RawResource, display_name
from osler.fhir.resource_types import BILLING_TYPES, PATIENT_FIELD
from osler.record import Event, Patient, Source, Timeline

MAX_LISTED_WARNINGS = 200
DEFAULT_ALL_PATIENTS_MB = 64


def all_patients_bytes() -> int:
    """Inputs up to this size load every patient's events (switching patient is then
    instant); larger ones load only the chosen patient's, so memory follows that patient,
    not the file (OSLER_ALL_PATIENTS_MB overrides)."""
    try:
        mb = float(os.environ.get("OSLER_ALL_PATIENTS_MB", DEFAULT_ALL_PATIENTS_MB))
    except ValueError:
        mb = DEFAULT_ALL_PATIENTS_MB
    return int(max(0.0, mb) * 1024 * 1024)


@dataclass(frozen=True, slots=True)
class RosterEntry:
    """One patient of the input: demographics and how much of the input is theirs.
    `events` is None when their events were not loaded (a large input, another patient)."""

    patient: Patient
    resources: int
    events: int | None


@dataclass(slots=True)
class ImportResult:
    """What an import produced: the loaded patients' timelines, every patient of the input
    (the roster), issues, and what was left out."""

    source: str
    timelines: list[Timeline]
    issues: list[ImportIssue] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    resources: int = 0
    roster: list[RosterEntry] = field(default_factory=list)
    all_loaded: bool = True

    def timeline(self, patient_id: str | None = None) -> Timeline:
        """The chosen patient's timeline (the first one when no id is given)."""
        if not self.timelines and not self.roster:
            raise FhirError("no patient data in input (no Patient and no resource with a "
                            "patient subject)", Source(self.source))
        if patient_id is None and self.timelines:
            return self.timelines[0]
        for t in self.timelines:
            if t.patient.id == patient_id:
                return t
        if any(e.patient.id == patient_id for e in self.roster):
            raise FhirError(
                f"patient {patient_id!r} is in the input but was not loaded (only one "
                f"patient of a large input is; import again naming it)", Source(self.source))
        ids = [e.patient.id for e in self.roster] or [t.patient.id for t in self.timelines]
        raise FhirError(
            f"no patient with id {patient_id!r}; the input has " + ", ".join(ids[:10]),
            Source(self.source),
        )

    def summary(self, patient_id: str | None = None) -> dict[str, Any]:
        """The `osler import --json` document."""
        chosen = self.timeline(patient_id) if self.timelines else None
        doc: dict[str, Any] = {
            # `is not None`: a patient with no events is an empty (falsy) Timeline.
            "patient": chosen.patient.summary() if chosen is not None else None,
            "counts": chosen.counts() if chosen is not None else {},
            "events": len(chosen) if chosen is not None else 0,
            "warnings": [str(i) for i in self.issues[:MAX_LISTED_WARNINGS]],
            "warning_count": len(self.issues),
            "resources": self.resources,
            "skipped": dict(sorted(self.skipped.items())),
        }
        if len(self.roster) > 1:
            # events: null for a patient whose events were not loaded (a large input).
            doc["patients"] = [
                {"id": e.patient.id, "name": e.patient.name, "events": e.events,
                 "resources": e.resources}
                for e in self.roster
            ]
        return doc


CHECK_EVERY = 256  # resources between cancellation checks


def import_path(path: str | Path, cancel: CancelToken = NEVER, patient: str | None = None,
                all_patients: bool | None = None) -> ImportResult:
    """Import a Bundle, NDJSON file/folder or single resource; raises FhirError if unusable
    (and osler.cancel.Cancelled, between resources, once CANCEL is set).

    Two passes over the input (patients and ids first, then events): NDJSON is streamed
    from disk on each, so no raw resource is held longer than it takes to map it. Every
    patient's events are kept when `all_patients` (default: inputs up to
    all_patients_bytes()); otherwise only `patient`'s (the first when None): the others are
    counted in the roster, and a wrong `patient` raises FhirError naming the ids there are."""
    p = Path(path)
    source = FhirInput(p)
    if all_patients is None:
        all_patients = source.size() <= all_patients_bytes()
    if not all_patients:  # a large Bundle is read an entry at a time
        source.streamer = stream_bundle
    issues: list[ImportIssue] = []
    result = _build(display_name(p), source, issues, cancel, all_patients, patient)
    if patient is not None:
        result.timeline(patient)  # a patient the input lacks is bad input, said now
    return result


def load_timeline(path: str | Path, patient_id: str | None = None) -> Timeline:
    """Import and return one patient's timeline."""
    return import_path(path, patient=patient_id).timeline(patient_id)


def _build(name: str, source: FhirInput, issues: list[ImportIssue],
           cancel: CancelToken = NEVER, keep_all: bool = True,
           wanted: str | None = None) -> ImportResult:
    """Without `keep_all`, only `wanted`'s events are kept (the first patient's if None)."""
    resolver = Resolver(compact=not keep_all)
    mapper = Mapper(resolver)
    skipped: Counter[str] = Counter()
    patients: dict[str, Patient] = {}
    order: list[str] = []
    key_to_patient: dict[str, str] = {}
    shared: dict[Any, Any] = {}  # see Fields.shared

    def passes(n: int, last: bool) -> Iterator[RawResource]:
        # Reading finds the same issues on each pass: keep the first pass's.
        yield from source.resources(issues if n == 1 else [], last=last)

    # Pass 1: patients, medications, and the ids of every event-bearing resource.
    count = 0
    for raw in passes(1, last=False):
        count += 1
        if count % CHECK_EVERY == 0:
            cancel.check()
        res, rtype = raw.resource, raw.resource["resourceType"]
        if rtype == "Patient":
            f = Fields(raw.source, issues)
            pat = parse_patient(res, f)
            if pat.id in patients:
                issues.append(ImportIssue(raw.source, "id", "duplicate Patient; later one kept"))
            else:
                order.append(pat.id)
            patients[pat.id] = pat
            for key in patient_keys(res, raw.full_url):
                key_to_patient[key] = pat.id
        elif rtype == "Medication":
            resolver.add_medication(res, raw.full_url, Fields(raw.source, []))
        elif rtype in PATIENT_FIELD:
            rid = res.get("id") if isinstance(res.get("id"), str) else None
            resolver.add(rtype, rid, raw.full_url, resource_event_id(rtype, res, raw.full_url))

    # Pass 2: events, attached to their patient.
    cancel.check()
    resolver.freeze()
    events: dict[str, dict[str, Event]] = {}
    per_patient: Counter[str] = Counter()
    for n, raw in enumerate(passes(2, last=True)):
        if n % CHECK_EVERY == 0:
            cancel.check()
        res, rtype = raw.resource, raw.resource["resourceType"]
        if rtype == "Patient" or rtype == "Medication":
            continue
        if rtype in BILLING_TYPES:
            skipped[rtype] += 1
            continue
        pfield = PATIENT_FIELD.get(rtype)
        if pfield is None:
            skipped[rtype] += 1
            continue
        f = Fields(raw.source, issues, shared)
        if res.get("status") == "entered-in-error":
            skipped["entered-in-error"] += 1
            continue
        pid = _patient_for(res, pfield, f, key_to_patient, patients, order)
        if pid is None:
            skipped[rtype] += 1
            continue
        per_patient[pid] += 1
        # order[0] is settled once any patient is known: the first Patient resource, else
        # the first patient a reference names.
        if not keep_all and pid != (order[0] if wanted is None else wanted):
            continue
        eid = resource_event_id(rtype, res, raw.full_url)
        try:
            new = mapper.events(res, eid, f)
        except Exception as exc:
            issues.append(ImportIssue(raw.source, None, f"unreadable resource ({exc!r}); skipped"))
            skipped[rtype] += 1
            continue
        bucket = events.setdefault(pid, {})
        for ev in new:
            if ev.id in bucket:
                issues.append(ImportIssue(raw.source, "id",
                                          f"duplicate resource {ev.id}; the later one kept"))
            bucket[ev.id] = ev

    issues.extend(source.late_issues)
    timelines = []
    roster = []
    target = order[0] if wanted is None and order else wanted
    for pid in order:  # each patient's bucket is freed as its timeline is made
        if keep_all or pid == target:
            timelines.append(Timeline(patients[pid], list(events.pop(pid, {}).values())))
            roster.append(RosterEntry(patients[pid], per_patient[pid], len(timelines[-1])))
        else:
            roster.append(RosterEntry(patients[pid], per_patient[pid], None))
    return ImportResult(name, timelines, issues, skipped, count, roster,
                        all_loaded=keep_all or len(order) <= 1)


def _patient_for(
    res: dict[str, Any],
    pfield: str,
    f: Fields,
    key_to_patient: dict[str, str],
    patients: dict[str, Patient],
    order: list[str],
) -> str | None:
    subj = f.obj(res, pfield, pfield)
    if subj is None:
        f.warn(pfield, "missing; the resource names no patient and was skipped")
        return None
    ref = f.text(subj, "reference", f"{pfield}.reference")
    if not ref:
        f.warn(f"{pfield}.reference", "missing; the resource names no patient and was skipped")
        return None
    if ref in key_to_patient:
        return key_to_patient[ref]
    tail = "/".join(ref.rstrip("/").split("/")[-2:])
    if tail in key_to_patient:
        return key_to_patient[tail]
    if ref.startswith("#"):
        return _contained_patient(res, ref, f, patients, order, key_to_patient)
    pid = placeholder_id(ref)
    if pid is None:
        f.warn(f"{pfield}.reference", f"{ref[:80]!r} is not a patient; skipped")
        return None
    if pid not in patients:
        f.warn(f"{pfield}.reference",
               f"{ref[:80]!r}: Patient not in the input; demographics unknown")
        display = f.text(subj, "display", f"{pfield}.display")
        patients[pid] = Patient(id=pid, name=display, placeholder=True)
        order.append(pid)
    key_to_patient[ref] = pid
    return pid


def event_json(e: Event) -> dict[str, Any]:
    """One event as printed by `osler timeline --json`."""
    doc: dict[str, Any] = {
        "id": e.id,
        "kind": e.kind.value,
        "time": format_time(e.time, e.time_precision),
        "code": e.code.code if e.code else None,
        "display": e.display,
        "value": e.value,
        "unit": e.unit,
    }
    if e.code and e.code.system:
        doc["system"] = e.code.system
    if e.end is not None:
        doc["end"] = format_time(e.end)
    if e.ongoing:
        doc["ongoing"] = True
    if e.status:
        doc["status"] = e.status
    if e.reference_range is not None:
        rr = e.reference_range
        doc["reference_range"] = {"low": rr.low, "high": rr.high, "text": rr.text}
    if e.flag:
        doc["interpretation"] = e.flag
    if e.encounter:
        doc["encounter"] = e.encounter
    if e.parent:
        doc["parent"] = e.parent
    if e.text:
        doc["text"] = e.text
    return doc


def _contained_patient(
    res: dict[str, Any],
    ref: str,
    f: Fields,
    patients: dict[str, Patient],
    order: list[str],
    key_to_patient: dict[str, str],
) -> str | None:
    """A patient carried inside the resource itself (FHIR 'contained')."""
    for c in f.objs(res, "contained", "contained"):
        if c.get("resourceType") == "Patient" and c.get("id") == ref[1:]:
            owner = res.get("id") if isinstance(res.get("id"), str) else "resource"
            pat = parse_patient(c, f)
            pid = f"{owner}{ref}"
            if pid not in patients:
                from dataclasses import replace

                patients[pid] = replace(pat, id=pid)
                order.append(pid)
            return pid
    f.warn("subject.reference", f"{ref[:80]!r} names no contained Patient; skipped")
    return None
