"""Second pass: rewrite one FHIR resource or Bundle with its identifiers removed.

Walks every element generically, recognising datatypes by key and shape (dates,
HumanName, Address, ContactPoint, Identifier, Reference, Attachment, Age, narrative)
so that no resource type is missed; clinical content (codes, values, units, the
intervals between events) is kept. Counts what it changed, never the values.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from osler.fhir.resource_types import R4_RESOURCE_TYPES
from osler.teaching.census import Census, PatientInfo, is_text_type
from osler.teaching.dateshift import DateShift
from osler.teaching.pseudonyms import Pseudonyms
from osler.teaching.safe_harbor import (
    CODE_KEYS,
    DATE_SHAPE,
    DROP_KEYS,
    DROPPED_EXTENSIONS,
    DROPPED_TYPES,
    LABELLED_TYPES,
    PERSON_REF_KEYS,
    PERSON_TYPES,
    is_address,
    is_age,
    is_attachment,
    is_date_key,
    is_human_name,
    is_reference,
)
from osler.teaching.scrub import NAME, TextScrubber

NEUTRAL_BASE = "http://example.org/fhir"  # replaces the source server in absolute URLs
AGE_GROUPED_EXTENSION = "urn:osler:fhir:StructureDefinition:age-90-or-older"
DEIDENTIFIED_TAG = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "PSEUDED",
    "display": "pseudonymized",
}
REMOVED_ATTACHMENT = "[attachment removed during de-identification: {kind} cannot be checked " \
    "automatically]"
ATTACHMENT_KEYS = frozenset({"attachment", "valueAttachment", "presentedForm",
                             "contentAttachment"})
_DROP = object()  # marker: leave this element out


@dataclass(frozen=True, slots=True)
class _Ctx:
    rtype: str
    shift: DateShift
    patient: PatientInfo | None


class ResourceRewriter:
    """Rewrites resources and Bundles; one per run, sharing the census and pseudonyms."""

    def __init__(self, census: Census, pseudonyms: Pseudonyms, scrubber: TextScrubber,
                 counts: Counter[str]):
        self.census = census
        self.pseudonyms = pseudonyms
        self.scrubber = scrubber
        self.counts = counts

    # --- documents ------------------------------------------------------------

    def document(self, doc: dict[str, Any], full_url: str | None = None) -> dict[str, Any] | None:
        """A Bundle or a single resource, rewritten; None when it must be left out."""
        if doc.get("resourceType") == "Bundle":
            return self._bundle(doc)
        return self.resource(doc, full_url)

    def _bundle_ctx(self) -> _Ctx:
        """Bundle-level dates (timestamp, lastUpdated) shift with resources of no patient."""
        return _Ctx("Bundle", self.census.shift_for(None), None)

    def _bundle(self, bundle: dict[str, Any]) -> dict[str, Any]:
        ctx = self._bundle_ctx()
        out: dict[str, Any] = {}
        for key, value in bundle.items():
            if key == "entry":
                items = value if isinstance(value, list) else []
                entries = [e for e in map(self._entry, items) if e is not None]
                if entries:
                    out["entry"] = entries
            elif key in ("link", "signature"):
                self.counts[f"Bundle.{key} removed"] += 1
            elif key == "id" and isinstance(value, str):
                out["id"] = self.pseudonyms.resource_id(value)
            else:
                new = self._value(value, key, ctx)
                if new is not _DROP:
                    out[key] = new
        return out

    def _entry(self, entry: Any) -> dict[str, Any] | None:
        if not isinstance(entry, dict):
            self.counts["Bundle entries left out (not an object)"] += 1
            return None
        res = entry.get("resource")
        url = entry.get("fullUrl") if isinstance(entry.get("fullUrl"), str) else None
        out: dict[str, Any] = {}
        if url:
            new_url = self._full_url(url)
            if new_url:
                out["fullUrl"] = new_url
        if res is not None:
            rtype = res.get("resourceType") if isinstance(res, dict) else None
            if not isinstance(rtype, str) or rtype not in R4_RESOURCE_TYPES:
                self.counts["Bundle entries left out (unknown resourceType)"] += 1
                return None
            new = self.document(res, url)
            if new is None:
                return None
            out["resource"] = new
        request = entry.get("request")
        if isinstance(request, dict):
            req: dict[str, Any] = {}
            if isinstance(request.get("method"), str):
                req["method"] = self._string(request["method"], "method", self._bundle_ctx())
            if isinstance(request.get("url"), str):
                req["url"] = self._request_url(request["url"])
            if req:
                out["request"] = req
        if isinstance(entry.get("search"), dict):
            search = self._value(entry["search"], "search", self._bundle_ctx())
            if search is not _DROP:
                out["search"] = search
        if "resource" not in out and "request" not in out:
            return None
        return out

    def resource(self, res: dict[str, Any], full_url: str | None = None) -> dict[str, Any] | None:
        """One resource rewritten with its patient's offset; None when it is left out."""
        rtype = res["resourceType"]
        if rtype in DROPPED_TYPES or (rtype == "Binary"
                                      and not is_text_type(res.get("contentType"))):
            self.counts[f"{rtype} resources left out (cannot be checked)"] += 1
            return None
        if self.census.is_too_early(res, full_url):
            self.counts["resources before a grouped birth date left out (age over 89)"] += 1
            return None
        patient = self.census.patient_for(res, full_url)
        ctx = _Ctx(rtype, self.census.shift_for(patient), patient)
        out = self._resource_fields(res, ctx, full_url, top=True)
        meta = out.pop("meta", None)
        meta = meta if isinstance(meta, dict) else {}
        security = meta.get("security") if isinstance(meta.get("security"), list) else []
        meta["security"] = [*(s for s in security if s != DEIDENTIFIED_TAG), DEIDENTIFIED_TAG]
        head = {k: out.pop(k) for k in ("resourceType", "id") if k in out}
        return {**head, "meta": meta, **out}

    def _resource_fields(self, res: dict[str, Any], ctx: _Ctx, full_url: str | None,
                         top: bool) -> dict[str, Any]:
        rtype = ctx.rtype if top else str(res.get("resourceType"))
        out: dict[str, Any] = {}
        for key, value in res.items():
            if key == "id" and isinstance(value, str):
                out["id"] = self.pseudonyms.resource_id(value) if top else value
            elif key == "text" and isinstance(value, dict):
                if rtype in LABELLED_TYPES:
                    self.counts["narratives removed (person or place)"] += 1
                else:
                    new = self._narrative(value, ctx)
                    if new is not None:
                        out["text"] = new
            elif key == "meta" and isinstance(value, dict):
                meta = {k: v for k, v in value.items() if k != "source"}
                if "source" in value:
                    self.counts["meta.source removed"] += 1
                new = self._value(meta, "meta", ctx)
                if new is not _DROP and new:
                    out["meta"] = new
            elif key == "name" and rtype in LABELLED_TYPES:
                out["name"] = self._own_name(res, rtype, value, full_url if top else None)
            elif key == "birthDate" and rtype == "Patient" and top:
                new = self._birth_date(value, ctx)
                if new is not None:
                    out["birthDate"] = new
                    if ctx.patient is not None and ctx.patient.grouped_birth is not None:
                        out["_birthDate"] = {"extension": [
                            {"url": AGE_GROUPED_EXTENSION, "valueBoolean": True}]}
            elif key == "_birthDate":
                continue  # primitive extensions of the original birth date are not kept
            elif key == "contained" and isinstance(value, list):
                kept = []
                for c in value:
                    if isinstance(c, dict) and isinstance(c.get("resourceType"), str):
                        if c["resourceType"] in DROPPED_TYPES:
                            self.counts["contained resources left out"] += 1
                            continue
                        kept.append(self._resource_fields(c, ctx, None, top=False))
                if kept:
                    out["contained"] = kept
            elif key == "data" and rtype == "Binary":
                new = self._attachment({"contentType": res.get("contentType"), "data": value},
                                       ctx)
                out["data"] = new.get("data", "")
            else:
                new = self._value(value, key, ctx)
                if new is not _DROP:
                    out[key] = new
        return out

    # --- generic walk -----------------------------------------------------------

    def _value(self, value: Any, key: str, ctx: _Ctx) -> Any:
        if key in DROP_KEYS:
            self.counts[f"{key} removed"] += 1
            return _DROP
        if isinstance(value, dict):
            return self._dict(value, key, ctx)
        if key in ("extension", "modifierExtension") and isinstance(value, list):
            return self._extensions(value, ctx)
        if isinstance(value, list):
            items = [self._value(v, key, ctx) for v in value]
            kept = [v for v in items if v is not _DROP]
            return kept if kept else _DROP
        if isinstance(value, str):
            return self._string(value, key, ctx)
        return value

    def _dict(self, node: dict[str, Any], key: str, ctx: _Ctx) -> Any:
        if "resourceType" in node and isinstance(node.get("resourceType"), str):
            return self.document(node) or _DROP  # a resource nested in a field (rare)
        if key in ("identifier", "valueIdentifier"):
            return self._identifier(node, ctx)
        if key in ("name", "valueHumanName") and is_human_name(node):
            self.counts["names replaced"] += 1
            return {"text": NAME}
        if key in ("address", "valueAddress") and is_address(node):
            return self._address(node, ctx)
        if key in ATTACHMENT_KEYS or is_attachment(node):
            return self._attachment(node, ctx)
        if is_age(key, node):
            return self._age(node, ctx)
        reference = is_reference(node)
        terms = _terminology_texts(node)
        out: dict[str, Any] = {}
        for k, v in node.items():
            if reference and k == "reference" and isinstance(v, str):
                if self.census.is_dropped(v):
                    self.counts["references to removed resources cut"] += 1
                    return {"display": "[removed]"}
                new = self._reference(v)
            elif reference and k == "display" and isinstance(v, str):
                new = self._display(node, key, v, ctx)
            elif isinstance(v, str) and (k, v) in terms:
                new = self.scrubber.scrub(v, ctx.shift, self.counts, patterns=False,
                                           age_shift=_age_shift(ctx))
            else:
                new = self._value(v, k, ctx)
            if new is not _DROP:
                out[k] = new
        if not out or (set(out) <= {"id", "extension"} and not out.get("extension")):
            return _DROP
        return out

    def _string(self, value: str, key: str, ctx: _Ctx) -> Any:
        if key in ("uid", "instanceUid") or key.endswith("Uid"):
            self.counts["uids replaced"] += 1
            return self.pseudonyms.uid(value)
        if key in CODE_KEYS:
            return self._code(value, ctx)
        if is_date_key(key) or DATE_SHAPE.match(value):
            shifted = ctx.shift.shift_fhir(value)
            if shifted is not None:
                self.counts["dates shifted"] += 1
                return self._not_before_birth(shifted, ctx)
            if is_date_key(key) and sum(c.isdigit() for c in value) >= 4:
                self.counts["unreadable dates removed"] += 1
                return _DROP
        return self.scrubber.scrub(value, ctx.shift, self.counts, age_shift=_age_shift(ctx))

    def _code(self, value: str, ctx: _Ctx) -> str:
        """A code or URI: kept as it is unless one of the record's identifiers is in it."""
        new = self.scrubber.scrub(value, ctx.shift, self.counts, patterns=False, dates=False)
        if new != value:
            self.counts["code fields holding an identifier scrubbed"] += 1
        return new

    def _not_before_birth(self, shifted: str, ctx: _Ctx) -> str:
        """A grouped patient's date moved up to the new birth date if it falls before it."""
        birth = ctx.patient.grouped_birth if ctx.patient is not None else None
        if birth is None or shifted[:10] >= birth.isoformat()[: len(shifted[:10])]:
            return shifted
        self.counts["dates before a grouped birth date moved to it"] += 1
        if len(shifted) <= 7:
            return birth.isoformat()[: len(shifted)]
        return birth.isoformat() + shifted[10:]

    # --- datatypes -------------------------------------------------------------

    def _identifier(self, node: dict[str, Any], ctx: _Ctx) -> Any:
        out: dict[str, Any] = {}
        for k, v in node.items():
            if k == "value" and isinstance(v, str):
                out["value"] = self.pseudonyms.identifier(v)
                self.counts["identifiers replaced"] += 1
            elif k in ("system", "use") and isinstance(v, str):
                out[k] = self._string(v, k, ctx)
            else:
                new = self._value(v, k, ctx)
                if new is not _DROP:
                    out[k] = new
        return out or _DROP

    def _address(self, node: dict[str, Any], ctx: _Ctx) -> Any:
        kept = {k: self._string(node[k], k, ctx) for k in ("use", "type", "state", "country")
                if isinstance(node.get(k), str)}
        kept = {k: v for k, v in kept.items() if isinstance(v, str) and not v.startswith("[")}
        self.counts["addresses reduced to state and country"] += 1
        return kept if set(kept) & {"state", "country"} else _DROP

    def _age(self, node: dict[str, Any], ctx: _Ctx) -> dict[str, Any]:
        out = {k: v for k, v in ((k, self._value(v, k, ctx)) for k, v in node.items())
               if v is not _DROP}
        if node["value"] > 89:
            self.counts["ages over 89 grouped (Age values)"] += 1
            out.update(value=90, comparator=">=")
        return out

    def _birth_date(self, value: Any, ctx: _Ctx) -> str | None:
        patient = ctx.patient
        if patient is not None and patient.grouped_birth is not None:
            self.counts["birth dates moved (age over 89 shown as 90)"] += 1
            return patient.grouped_birth.isoformat()
        if not isinstance(value, str):
            return None
        shifted = ctx.shift.shift_fhir(value)
        if shifted is None:
            self.counts["unreadable dates removed"] += 1
        else:
            self.counts["dates shifted"] += 1
        return shifted

    def _own_name(self, res: dict[str, Any], rtype: str, value: Any,
                  full_url: str | None) -> Any:
        label = self.census.label_of(res, full_url) or LABELLED_TYPES[rtype]
        self.counts["names replaced"] += 1
        if isinstance(value, str):  # Organization, Location…: a plain string
            return label
        name: dict[str, Any] = {"text": label}
        if rtype == "Patient":
            name = {"use": "anonymous", "text": label}
        return [name] if isinstance(value, list) else name

    def _display(self, node: dict[str, Any], key: str, display: str, ctx: _Ctx) -> str:
        label = self.census.label_for(node)
        if label is not None:
            self.counts["reference displays replaced"] += 1
            return label
        ref = node.get("reference") if isinstance(node.get("reference"), str) else None
        hint = node.get("type") if isinstance(node.get("type"), str) else None
        target = self.census.target_type(ref, hint)
        if target in PERSON_TYPES or (target is None and key in PERSON_REF_KEYS):
            self.counts["reference displays replaced"] += 1
            return NAME
        return self.scrubber.scrub(display, ctx.shift, self.counts, age_shift=_age_shift(ctx))

    def _extensions(self, items: list[Any], ctx: _Ctx) -> Any:
        kept = []
        for ext in items:
            if not isinstance(ext, dict):
                continue
            url = ext.get("url") if isinstance(ext.get("url"), str) else ""
            if any(part in url for part in DROPPED_EXTENSIONS) or "valueContactPoint" in ext:
                self.counts["identifying extensions removed"] += 1
                continue
            if url and self._code(url, ctx) != url:
                self.counts["identifying extensions removed"] += 1
                continue
            out: dict[str, Any] = {"url": url} if url else {}
            for k, v in ext.items():
                if k == "url":
                    continue
                new = self._value(v, k, ctx)
                if new is not _DROP:
                    out[k] = new
            if set(out) - {"url"}:
                kept.append(out)
        return kept or _DROP

    def _narrative(self, text: dict[str, Any], ctx: _Ctx) -> dict[str, Any] | None:
        div = text.get("div")
        if not isinstance(div, str):
            return None
        self.counts["narratives scrubbed"] += 1
        status = text.get("status")
        return {"status": self._string(status, "status", ctx) if isinstance(status, str)
                else "generated",
                "div": self.scrubber.scrub(div, ctx.shift, self.counts,
                                           age_shift=_age_shift(ctx))}

    def _attachment(self, node: dict[str, Any], ctx: _Ctx) -> dict[str, Any]:
        ctype = node.get("contentType")
        data = node.get("data")
        out: dict[str, Any] = {}
        if isinstance(data, str):
            if not is_text_type(ctype):
                return self._removed_attachment(str(ctype or "content of unknown type"))
            try:
                raw = base64.b64decode(data, validate=False)
                charset = _charset(str(ctype))
                text = raw.decode(charset)
            except (binascii.Error, ValueError, LookupError):
                return self._removed_attachment("text that does not decode")
            clean = self.scrubber.scrub(text, ctx.shift, self.counts, age_shift=_age_shift(ctx))
            try:
                encoded = clean.encode(charset)
            except (UnicodeEncodeError, LookupError):
                encoded, ctype = clean.encode("utf-8"), "text/plain; charset=utf-8"
            out["contentType"] = self._string(str(ctype), "contentType", ctx)
            out["data"] = base64.b64encode(encoded).decode("ascii")
            self.counts["attachments scrubbed"] += 1
            if "size" in node:
                out["size"] = len(encoded)
            if "hash" in node:
                out["hash"] = base64.b64encode(hashlib.sha1(encoded).digest()).decode("ascii")
        elif isinstance(ctype, str):
            out["contentType"] = self._string(ctype, "contentType", ctx)
        for k, v in node.items():
            if k in ("contentType", "data", "size", "hash"):
                continue
            if k == "url":
                self.counts["attachment URLs removed"] += 1
                continue
            new = self._value(v, k, ctx)
            if new is not _DROP:
                out[k] = new
        if "data" not in out and set(out) <= {"contentType", "language"}:
            return self._removed_attachment("a linked document")
        return out

    def _removed_attachment(self, kind: str) -> dict[str, Any]:
        self.counts["attachments removed"] += 1
        note = REMOVED_ATTACHMENT.format(kind=kind).encode("utf-8")
        return {"contentType": "text/plain; charset=utf-8",
                "data": base64.b64encode(note).decode("ascii"), "title": "[removed]"}

    # --- references and URLs ------------------------------------------------------

    def _reference(self, ref: str) -> Any:
        if ref.startswith("#"):
            return ref
        new = self._rewrite_ref(ref)
        if new is None:
            self.counts["references removed (not resolvable safely)"] += 1
            return _DROP
        self.counts["references rewritten"] += 1
        return new

    def _rewrite_ref(self, ref: str) -> str | None:
        if ref.startswith("urn:uuid:"):
            return "urn:uuid:" + self.pseudonyms.resource_id(ref[len("urn:uuid:"):])
        if ref.startswith("urn:oid:"):
            return self.pseudonyms.uid(ref)
        if "?" in ref:
            return self._conditional(ref)
        parts = ref.rstrip("/").split("/")
        history = ""
        if len(parts) >= 4 and parts[-2] == "_history":
            history = f"/_history/{parts[-1]}"
            parts = parts[:-2]
        if len(parts) >= 2 and parts[-2] in R4_RESOURCE_TYPES and parts[-1]:
            return f"{parts[-2]}/{self.pseudonyms.resource_id(parts[-1])}{history}"
        return None

    def _conditional(self, ref: str) -> str | None:
        rtype, _, query = ref.partition("?")
        rtype = rtype.rstrip("/").split("/")[-1]
        params = parse_qsl(query, keep_blank_values=True)
        if rtype not in R4_RESOURCE_TYPES or not params or any(
                k != "identifier" for k, _ in params):
            return None
        rewritten = []
        for _, value in params:
            system, bar, ident = unquote(value).rpartition("|")
            new = self.pseudonyms.identifier(ident)
            rewritten.append(f"identifier={system}{bar}{new}")
        return f"{rtype}?{'&'.join(rewritten)}"

    def _full_url(self, url: str) -> str | None:
        if url.startswith(("urn:uuid:", "urn:oid:")):
            return self._rewrite_ref(url)
        parts = url.rstrip("/").split("/")
        if len(parts) >= 2 and parts[-2] in R4_RESOURCE_TYPES:
            return f"{NEUTRAL_BASE}/{parts[-2]}/{self.pseudonyms.resource_id(parts[-1])}"
        self.counts["entry fullUrls removed"] += 1
        return None

    def _request_url(self, url: str) -> str:
        if url in R4_RESOURCE_TYPES:
            return url
        new = self._rewrite_ref(url)
        if new is None:
            return url.split("?", 1)[0].split("/", 1)[0]
        return new


def _age_shift(ctx: _Ctx) -> int:
    return ctx.patient.age_excess if ctx.patient is not None else 0


def _terminology_texts(node: dict[str, Any]) -> set[tuple[str, str]]:
    """(key, text) pairs that are code-system wording: a Coding's display, and a
    CodeableConcept's text when it only repeats one of its codings' displays."""
    found: set[tuple[str, str]] = set()
    if isinstance(node.get("display"), str) and ("code" in node or "system" in node):
        found.add(("display", node["display"]))
    codings = node.get("coding")
    if isinstance(node.get("text"), str) and isinstance(codings, list):
        displays = {c.get("display") for c in codings
                    if isinstance(c, dict) and isinstance(c.get("display"), str)}
        if node["text"] in displays:
            found.add(("text", node["text"]))
    return found


def _charset(content_type: str) -> str:
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"')
    return "utf-8"




