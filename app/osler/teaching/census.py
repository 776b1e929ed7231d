"""First pass over the input: who is in it, what identifies them, and how to shift their dates.

Collects every identifying string (names of patients, relatives and practitioners,
addresses, phone numbers, e-mails, identifier values, ids, organisation and place names),
the patients with their birth, death and last-event dates, and which reference points at
what, so that the second pass can scrub free text and keep links resolving.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import unquote

from osler.fhir.dates import DateParseError, parse_datetime
from osler.fhir.patients import patient_keys, placeholder_id
from osler.fhir.reader import RawResource
from osler.teaching.dateshift import DateShift, draw_offset
from osler.teaching.pseudonyms import Pseudonyms
from osler.teaching.safe_harbor import (
    DATE_SHAPE,
    DROPPED_TYPES,
    LABELLED_TYPES,
    NON_EVENT_DATE_KEYS,
    PERSON_REF_KEYS,
    PERSON_TYPES,
    PLACE_TYPES,
    SUBJECT_FIELDS,
    is_address,
    is_date_key,
    is_human_name,
    is_reference,
    reference_type,
)
from osler.teaching.scrub import (
    CONTACT,
    EMAIL,
    ID,
    LOCATION,
    ORGANIZATION,
    PHONE,
    URL,
    KnownStrings,
)

AGE_LIMIT = 89  # Safe Harbor: ages over 89 are grouped as "90 or older"
_TELECOM_TAGS = {
    "phone": PHONE,
    "fax": PHONE,
    "sms": PHONE,
    "pager": PHONE,
    "email": EMAIL,
    "url": URL,
}
_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/fhir+json",
    "application/fhir+xml",
    "application/xhtml+xml",
)


def is_text_type(content_type: object) -> bool:
    """True when an attachment's content type is text we can read and scrub."""
    if not isinstance(content_type, str):
        return False
    return content_type.strip().lower().startswith(_TEXT_TYPES)


@dataclass
class PatientInfo:
    """One patient of the input: label, offset, and the age grouping decided for them."""

    key: str
    label: str = ""
    shift: DateShift | None = None
    birth: date | None = None
    deceased: date | None = None
    placeholder: bool = False
    grouped_birth: date | None = None  # new birthDate when over 89 (already shifted)
    age_excess: int = 0  # years taken off the real age by the grouping

    def group_age(self, today: date) -> None:
        """Safe Harbor: over 89 at death (or today, if alive) becomes exactly 90 then.

        For the living the reference is today, because that is the age the app shows;
        the new birth date also bounds every other date of the patient (see `clamp`).
        """
        if self.birth is None or self.shift is None:
            return
        real_ref = self.deceased or today
        age = years_between(self.birth, real_ref)
        if age <= AGE_LIMIT:
            return
        self.age_excess = age - (AGE_LIMIT + 1)
        ref = self.shift.shift_date(self.deceased) if self.deceased else today
        self.grouped_birth = years_before(ref, AGE_LIMIT + 1)


def years_between(start: date, end: date) -> int:
    """Whole years from start to end (an age)."""
    return end.year - start.year - ((end.month, end.day) < (start.month, start.day))


def years_before(day: date, years: int) -> date:
    """The same calendar day some years earlier (28 February for 29 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def resource_keys(rtype: str, res: dict[str, Any], full_url: str | None) -> list[str]:
    """Every reference string that may point at this resource (ids, fullUrl, identifiers)."""
    if rtype == "Patient":
        keys = patient_keys(res, full_url)
    else:
        keys = []
        rid = res.get("id")
        if isinstance(rid, str):
            keys.append(f"{rtype}/{rid}")
        if full_url:
            keys.append(full_url)
            if not full_url.startswith("urn:"):
                keys.append(_tail(full_url))
        for ident in _identifiers(res):
            system = ident.get("system") if isinstance(ident.get("system"), str) else ""
            keys.append(f"{rtype}?identifier={system}|{ident['value']}")
    for ident in _identifiers(res):
        system = ident.get("system") if isinstance(ident.get("system"), str) else ""
        keys.append(f"{rtype}?identifier={ident['value']}")
        keys.append(f"?identifier={system}|{ident['value']}")
    return keys


def own_key(res: dict[str, Any], full_url: str | None) -> str:
    """The key a resource is known by in this run (its id, else its fullUrl)."""
    rid = res.get("id")
    if isinstance(rid, str):
        return f"{res.get('resourceType')}/{rid}"
    return full_url or f"{res.get('resourceType')}/(no id)"


class Census:
    """What the input holds: patients, identifying strings, and where references point."""

    def __init__(self, pseudonyms: Pseudonyms, secret: bytes | None, today: date | None = None):
        self.pseudonyms = pseudonyms
        self.secret = secret
        self.today = today or date.today()
        self.known = KnownStrings()
        self.patients: dict[str, PatientInfo] = {}
        self.dropped: set[str] = set()
        self._patient_keys: dict[str, str] = {}
        self._types: dict[str, str] = {}
        self._labelled: dict[str, tuple[str, str]] = {}  # reference key -> (kind, own key)
        self._displays: set[tuple[str | None, str | None, str, str]] = set()
        self._dated: list[tuple[str, date, tuple[str, ...]]] = []  # (subject, latest, keys)
        self.too_early: set[str] = set()  # keys of resources dated before a grouped birth
        self._unlinked: DateShift | None = None
        self._finished = False

    # --- pass 1 -------------------------------------------------------------

    def collect(self, raw: RawResource) -> None:
        """Take note of one resource (its own identifiers and everything it names)."""
        res, full_url = raw.resource, raw.full_url
        rtype = res["resourceType"]
        keys = resource_keys(rtype, res, full_url)
        for k in keys:
            self._types.setdefault(k, rtype)
        if rtype in DROPPED_TYPES or (
            rtype == "Binary" and not is_text_type(res.get("contentType"))
        ):
            self.dropped.update(keys)
        if rtype == "Patient":
            self._add_patient(res, full_url, keys)
        elif rtype in LABELLED_TYPES:
            mine = own_key(res, full_url)
            for k in keys:
                self._labelled.setdefault(k, (LABELLED_TYPES[rtype], mine))
            tag = ORGANIZATION if rtype != "Location" else LOCATION
            if rtype in PLACE_TYPES:
                self.known.add(tag, res.get("name"))
                aliases = res.get("alias")
                for alias in aliases if isinstance(aliases, list) else []:
                    self.known.add(tag, alias)
        rid = res.get("id")
        if isinstance(rid, str) and len(rid) >= 8:
            self.known.add(ID, rid)
        if full_url:
            last = re.split(r"[/:]", full_url.rstrip("/"))[-1]
            if len(last) >= 8:
                self.known.add(ID, last)
        self._gather(res, "")
        if rtype != "Patient":
            ref = subject_reference(res)
            latest = self._latest_date(res, "")
            if ref and latest:
                self._dated.append((ref, latest, tuple(keys)))

    def _add_patient(self, res: dict[str, Any], full_url: str | None, keys: list[str]) -> None:
        pk = own_key(res, full_url)
        info = self.patients.setdefault(pk, PatientInfo(pk))
        info.placeholder = False
        for k in [*keys, pk]:
            self._patient_keys[k] = pk
        info.birth = _day(res.get("birthDate")) or info.birth
        info.deceased = _day(res.get("deceasedDateTime")) or info.deceased

    def _gather(self, node: Any, key: str) -> None:
        if isinstance(node, list):
            for item in node:
                self._gather(item, key)
            return
        if not isinstance(node, dict):
            return
        if key in ("identifier", "valueIdentifier") and isinstance(node.get("value"), str):
            self.known.add(ID, node["value"])
        elif key in ("telecom", "valueContactPoint"):
            self.known.add(_TELECOM_TAGS.get(str(node.get("system")), CONTACT), node.get("value"))
        elif key in ("address", "valueAddress") and is_address(node):
            self.known.add_address(node)
        elif key in ("name", "valueHumanName") and is_human_name(node):
            for part in ("given", "family", "text"):
                value = node.get(part)
                for v in value if isinstance(value, list) else [value]:
                    self.known.add_name(v)
        elif key in ("extension", "modifierExtension") and str(node.get("url", "")).endswith(
            "patient-mothersMaidenName"
        ):
            self.known.add_name(node.get("valueString"))
        if is_reference(node) and isinstance(node.get("display"), str):
            ref = node.get("reference") if isinstance(node.get("reference"), str) else None
            hint = node.get("type") if isinstance(node.get("type"), str) else None
            self._displays.add((ref, hint, key, node["display"]))
        for k, v in node.items():
            if isinstance(v, dict | list):
                self._gather(v, k)

    def _latest_date(self, node: Any, key: str) -> date | None:
        best: date | None = None
        if isinstance(node, dict):
            items = [(k, v) for k, v in node.items() if k not in NON_EVENT_DATE_KEYS]
        elif isinstance(node, list):
            items = [(key, v) for v in node]
        else:
            if isinstance(node, str) and (is_date_key(key) or DATE_SHAPE.match(node)):
                day = _day(node)
                if day is not None and day <= self.today:
                    return day
            return None
        for k, v in items:
            d = self._latest_date(v, k)
            if d is not None and (best is None or d > best):
                best = d
        return best

    def finish(self) -> None:
        """Resolve what pass 1 saw: person displays become names, patients get offsets."""
        for ref, hint, key, display in self._displays:
            target = self.target_type(ref, hint)
            if target in PERSON_TYPES or (target is None and key in PERSON_REF_KEYS):
                self.known.add_name(display)
            elif target in PLACE_TYPES:
                self.known.add(LOCATION if target == "Location" else ORGANIZATION, display)
        for ref, _, _ in self._dated:
            self.resolve_patient(ref)  # patients referenced but absent get a placeholder
        # Labels follow a random (or secret-keyed) order, never the input's order.
        for n, pk in enumerate(sorted(self.patients, key=self._order_key), start=1):
            self.patients[pk].label = f"Patient {n}"
        for pk in self.patients:
            self._patient(pk).group_age(self.today)
        # A grouped patient's events from before the new birth date would give the real
        # age away: those resources are left out (and references to them cut).
        for ref, latest, keys in self._dated:
            pk = self.resolve_patient(ref)
            info = self.patients.get(pk) if pk is not None else None
            if info is None or info.grouped_birth is None or info.shift is None:
                continue
            if info.shift.shift_date(latest) < info.grouped_birth:
                self.too_early.update(keys)
                self.dropped.update(keys)
        self._dated.clear()
        by_kind: dict[str, set[str]] = {}
        for kind, mine in self._labelled.values():
            by_kind.setdefault(kind, set()).add(mine)
        for kind, owners in by_kind.items():
            for mine in sorted(owners, key=self._order_key):
                self.pseudonyms.label(kind, mine)
        self._finished = True

    def _order_key(self, key: str) -> str:
        return self.pseudonyms.resource_id(f"order\0{key}")

    # --- pass 2 lookups -----------------------------------------------------

    def _patient(self, pk: str) -> PatientInfo:
        info = self.patients.get(pk)
        if info is None:
            info = self.patients[pk] = PatientInfo(pk, placeholder=True)
        if not info.label and self._finished:
            info.label = f"Patient {len(self.patients)}"
        if info.shift is None:
            info.shift = DateShift(draw_offset(pk, self.secret))
        return info

    def resolve_patient(self, ref: str) -> str | None:
        """The patient key a reference points at, adding a placeholder for absent patients."""
        found = self._lookup(self._patient_keys, ref)
        if found is not None:
            return found
        if ref.startswith("#"):
            return None
        target = self.target_type(ref, None)
        if target is not None and target != "Patient":
            return None
        pid = placeholder_id(ref)
        if pid is None:
            return None
        pk = f"Patient/{pid}"
        self._patient_keys[ref] = pk
        self._patient(pk)
        return pk

    def patient_for(self, res: dict[str, Any], full_url: str | None) -> PatientInfo | None:
        """The patient a resource belongs to (None for shared resources like Organization)."""
        if res.get("resourceType") == "Patient":
            pk = own_key(res, full_url)
            return self._patient(pk) if pk in self.patients else None
        ref = subject_reference(res)
        if ref:
            pk = self.resolve_patient(ref)
            if pk is not None:
                return self._patient(pk)
        for other in _references(res):
            pk = self._lookup(self._patient_keys, other)
            if pk is not None:
                return self._patient(pk)
        return None

    def shift_for(self, patient: PatientInfo | None) -> DateShift:
        """The patient's offset; resources of no patient share one offset of their own."""
        if patient is not None and patient.shift is not None:
            return patient.shift
        if self._unlinked is None:
            real = [p for p in self.patients.values() if not p.placeholder]
            if len(self.patients) == 1 or len(real) == 1:
                only = real[0] if real else next(iter(self.patients.values()))
                self._unlinked = self._patient(only.key).shift
            else:
                self._unlinked = DateShift(draw_offset("\0resources of no patient", self.secret))
        assert self._unlinked is not None
        return self._unlinked

    def label_for(self, node: dict[str, Any]) -> str | None:
        """The stand-in label ("Patient 2", "Practitioner 5") for a reference's display."""
        ref = node.get("reference")
        candidates: list[str] = [ref] if isinstance(ref, str) else []
        ident = node.get("identifier")
        if isinstance(ident, dict) and isinstance(ident.get("value"), str):
            system = ident.get("system") if isinstance(ident.get("system"), str) else ""
            hint = node.get("type") if isinstance(node.get("type"), str) else ""
            candidates += [
                f"{hint}?identifier={system}|{ident['value']}",
                f"?identifier={system}|{ident['value']}",
            ]
        if isinstance(ref, str) and self.target_type(ref, None) in (None, "Patient"):
            pk = self.resolve_patient(ref)
            if pk is not None:
                return self._patient(pk).label
        for cand in candidates:
            pk = self._lookup(self._patient_keys, cand)
            if pk is not None:
                return self._patient(pk).label
            hit = self._lookup(self._labelled, cand)
            if hit is not None:
                return self.pseudonyms.label(*hit)
        return None

    def label_of(self, res: dict[str, Any], full_url: str | None) -> str | None:
        """The label of a person or place resource itself."""
        rtype = res.get("resourceType")
        if rtype == "Patient":
            pk = own_key(res, full_url)
            return self._patient(pk).label if pk in self.patients else None
        if rtype in LABELLED_TYPES:
            return self.pseudonyms.label(LABELLED_TYPES[rtype], own_key(res, full_url))
        return None

    def target_type(self, ref: str | None, hint: str | None) -> str | None:
        """The resource type a reference points at, if the input or the reference says."""
        if ref:
            found = self._lookup(self._types, ref)
            if found is not None:
                return found
            named = reference_type(ref)
            if named is not None:
                return named
        return hint or None

    def is_too_early(self, res: dict[str, Any], full_url: str | None) -> bool:
        """True for a grouped patient's resource dated wholly before the new birth date."""
        return bool(self.too_early) and any(
            k in self.too_early for k in resource_keys(res["resourceType"], res, full_url))

    def is_dropped(self, ref: str) -> bool:
        """True when the reference points at a resource that is left out of the output."""
        return _lookup_in(self.dropped, ref)

    @staticmethod
    def _lookup(table: dict[str, Any], ref: str) -> Any:
        for cand in _candidates(ref):
            if cand in table:
                return table[cand]
        return None


def subject_reference(res: dict[str, Any]) -> str | None:
    """The reference string of the field naming the resource's patient, if any."""
    for field in SUBJECT_FIELDS:
        value = res.get(field)
        if isinstance(value, dict) and isinstance(value.get("reference"), str):
            return value["reference"]
    return None


def _references(node: Any, depth: int = 0):
    if depth > 6:
        return
    if isinstance(node, dict):
        ref = node.get("reference")
        if isinstance(ref, str):
            yield ref
        for k, v in node.items():
            if k != "contained" and isinstance(v, dict | list):
                yield from _references(v, depth + 1)
    elif isinstance(node, list):
        for item in node:
            yield from _references(item, depth + 1)


def _candidates(ref: str) -> list[str]:
    out = [ref]
    plain = unquote(ref)
    if plain != ref:
        out.append(plain)
    if "?" not in plain and not plain.startswith(("urn:", "#")):
        parts = plain.rstrip("/").split("/")
        if len(parts) >= 4 and parts[-2] == "_history":
            parts = parts[:-2]
        if len(parts) >= 2:
            out.append("/".join(parts[-2:]))
    return out


def _lookup_in(keys: set[str], ref: str) -> bool:
    return any(c in keys for c in _candidates(ref))


def _tail(url: str) -> str:
    return "/".join(url.rstrip("/").split("/")[-2:])


def _identifiers(res: dict[str, Any]) -> list[dict[str, Any]]:
    value = res.get("identifier")
    items = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
    return [i for i in items if isinstance(i, dict) and isinstance(i.get("value"), str)]


def _day(value: object) -> date | None:
    try:
        parsed, _ = parse_datetime(value)
    except DateParseError:
        return None
    return parsed.date()
