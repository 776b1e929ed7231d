"""osler deidentify on project-made records: nothing identifying survives, the case still works.

Also holds the leak and date-pairing checks that the Synthea tests reuse.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from osler.fhir import FhirError, import_path
from osler.fhir.builder import BundleBuilder
from osler.teaching.deidentify import deidentify_path
from osler.teaching.errors import DeidentifyError
from osler.teaching.pseudonyms import Pseudonyms
from osler.teaching.rewrite import AGE_GROUPED_EXTENSION
from osler.teaching.scrub import COMMON_WORDS
from tests.conftest import REPO, small_bundle

SEED = "teaching-seed-for-tests"
TODAY = date(2025, 6, 1)
DATE_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:T[\d:.]+(?:Z|[+-]\d{2}:\d{2})?)?$")
ISO_IN_TEXT = re.compile(r"(?<![\w-])\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
                         r"(?:Z|[+-]\d{2}:\d{2})?)?(?![\w-])")
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]


# --- helpers shared with the Synthea tests ------------------------------------------------

def read_resources(path: Path) -> list[dict[str, Any]]:
    """Every resource of a Bundle/resource file, an NDJSON file or a folder (Bundles flattened)."""
    files = sorted(p for p in path.iterdir() if p.suffix in (".json", ".ndjson")) \
        if path.is_dir() else [path]
    out: list[dict[str, Any]] = []
    for f in files:
        text = f.read_text(encoding="utf-8")
        docs = [json.loads(line) for line in text.splitlines() if line.strip()] \
            if f.suffix == ".ndjson" else [json.loads(text)]
        for doc in docs:
            if "resourceType" not in doc:
                continue  # bulk-export log lines
            if doc["resourceType"] == "Bundle":
                out.extend(e["resource"] for e in doc.get("entry", []) if "resource" in e)
            else:
                out.append(doc)
    return out


def walk(node: Any, key: str = ""):
    """(key, value) for every scalar in a JSON tree."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from walk(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from walk(v, key)
    else:
        yield key, node


def attachment_texts(resources: list[dict[str, Any]]) -> list[str]:
    """Decoded text of every inline attachment (notes)."""
    return [base64.b64decode(v).decode("utf-8", "replace")
            for r in resources for k, v in walk(r) if k == "data" and isinstance(v, str)]


def originals(resources: list[dict[str, Any]]) -> dict[str, set[str]]:
    """The identifying strings of the input, by kind, as the tests look for them."""
    found: dict[str, set[str]] = {k: set() for k in ("names", "identifiers", "addresses",
                                                     "telecom", "dates", "places")}

    def visit(node: Any, key: str) -> None:
        if isinstance(node, list):
            for item in node:
                visit(item, key)
            return
        if not isinstance(node, dict):
            if isinstance(node, str) and DATE_SHAPE.match(node):
                found["dates"].add(node)
            return
        if key in ("name", "valueHumanName") and ("family" in node or "given" in node):
            for part in [*node.get("given", []), node.get("family")]:
                if isinstance(part, str):
                    found["names"].add(part)
        if key == "identifier" and isinstance(node.get("value"), str):
            found["identifiers"].add(node["value"])
        if key in ("address", "valueAddress"):
            for line in node.get("line", []):
                found["addresses"].add(line)
            for part in ("city", "postalCode", "district"):
                if isinstance(node.get(part), str):
                    found["addresses"].add(node[part])
        if key == "telecom" and isinstance(node.get("value"), str):
            found["telecom"].add(node["value"])
        if str(node.get("url", "")).endswith("mothersMaidenName"):
            found["names"].update(node["valueString"].split())
        if isinstance(node.get("display"), str) and isinstance(node.get("reference"), str):
            # Synthea writes people as "Dr. Liane379 Kunze215": digit-suffixed words are names
            found["names"].update(re.findall(r"\b[^\W\d_]+\d+\b", node["display"]))
        if node.get("resourceType") in ("Organization", "Location") and isinstance(
                node.get("name"), str):
            found["places"].add(node["name"])
        for k, v in node.items():
            visit(v, k)

    for r in resources:
        visit(r, "")
    for text in attachment_texts(resources):
        found["dates"].update(ISO_IN_TEXT.findall(text))
    return found


def output_corpus(path: Path) -> str:
    """Every byte written (as text) plus the decoded attachments inside it."""
    files = sorted(path.iterdir()) if path.is_dir() else [path]
    texts = [f.read_text(encoding="utf-8") for f in files]
    return "\n".join([*texts, *attachment_texts(read_resources(path))])


def find_leaks(orig: dict[str, set[str]], corpus: str,
               allowed_dates: set[str] = frozenset()) -> list[tuple[str, str]]:
    """Original identifying strings present in the output (names also without digits)."""
    low = corpus.lower()
    words = set(re.findall(r"\w+", corpus))
    low_words = {w.lower() for w in words}
    tokens = set(re.findall(r"[\w-]+", low)) | {
        t.rstrip(".,;:") for t in re.findall(r"[\w.@+:/-]+", low)}
    leaks = []
    for name in orig["names"]:
        if name.lower() in low_words:
            leaks.append(("name", name))
        stem = name.rstrip("0123456789")
        # a common word ("white") may stay in lowercase; capitalised it is the name
        if len(stem) >= 3 and stem.lower() in low_words and (
                stem.lower() not in COMMON_WORDS
                or {stem, stem.capitalize(), stem.upper()} & words):
            leaks.append(("name without digits", stem))
    for ident in orig["identifiers"]:
        if len(ident) >= 5 and ident.lower() in tokens:
            leaks.append(("identifier", ident))
    for part in orig["addresses"] | orig["telecom"] | orig["places"]:
        hit = re.search(rf"(?<![\w-]){re.escape(part.lower())}(?![\w-])", low) \
            if part.lower() in low else None
        if hit:
            leaks.append(("address/telecom/place", part))
    # Dates: the exact strings, and each original day anywhere (also inside a dateTime and
    # written US-style), unless it is also the shifted image of some other date.
    allowed_days = {d[:10] for d in allowed_dates}
    for value in orig["dates"] - allowed_dates:
        if value.lower() in tokens:
            leaks.append(("date", value))
    days_out = set(re.findall(r"\d{4}-\d{2}-\d{2}", corpus))
    us_out = set(re.findall(r"\d{2}/\d{2}/\d{4}", corpus))
    for day in {d[:10] for d in orig["dates"]} - allowed_days:
        y, m, d = day.split("-")
        if day in days_out or f"{m}/{d}/{y}" in us_out:
            leaks.append(("day", day))
    return leaks


def date_pairs(a: Any, b: Any, key: str = "") -> list[tuple[str, str]]:
    """(original, output) for every date at the same place in two versions of a resource."""
    pairs: list[tuple[str, str]] = []
    if isinstance(a, dict) and isinstance(b, dict):
        for k, v in a.items():
            if k in b:
                pairs += date_pairs(v, b[k], k)
    elif isinstance(a, list) and isinstance(b, list):
        if key in ("extension", "modifierExtension"):
            by_url = {x.get("url"): x for x in b if isinstance(x, dict)}
            for x in a:
                if isinstance(x, dict) and x.get("url") in by_url:
                    pairs += date_pairs(x, by_url[x["url"]], key)
        elif len(a) == len(b):
            for x, y in zip(a, b):
                pairs += date_pairs(x, y, key)
    elif isinstance(a, str) and isinstance(b, str) and DATE_SHAPE.match(a):
        pairs.append((a, b))
    return pairs


def day_offset(original: str, new: str) -> int:
    """Whole days between an original date and its shifted version; time part must match."""
    assert original[10:] == new[10:], (original, new)
    return (date.fromisoformat(new[:10]) - date.fromisoformat(original[:10])).days


def subject_key(res: dict[str, Any]) -> str | None:
    """The original patient id a resource belongs to."""
    if res["resourceType"] == "Patient":
        return res["id"]
    for field in ("subject", "patient"):
        ref = res.get(field, {}).get("reference") if isinstance(res.get(field), dict) else None
        if ref:
            return ref.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return None


def offsets_by_patient(src: list[dict[str, Any]], out: list[dict[str, Any]], seed: str,
                       grouped_births: dict[str, str] | None = None) -> dict[str, set[int]]:
    """Pair resources by their pseudonymised id; collect each patient's day offsets."""
    pseudonyms = Pseudonyms(seed.encode())
    by_id = {(r["resourceType"], r["id"]): r for r in out}
    offsets: dict[str, set[int]] = {}
    for res in src:
        new = by_id.get((res["resourceType"], pseudonyms.resource_id(res["id"])))
        pid = subject_key(res)
        if new is None or pid is None:
            continue
        births = grouped_births or {}
        for original, shifted in date_pairs(res, new):
            if res["resourceType"] == "Patient" and original == res.get("birthDate"):
                continue
            if pid in births and shifted.startswith(births[pid]):
                continue  # moved up to a grouped birth date
            offsets.setdefault(pid, set()).add(day_offset(original, shifted))
        if res["resourceType"] == "DocumentReference":
            a, b = attachment_texts([res]), attachment_texts([new])
            for x, y in zip(a, b):
                for original, shifted in zip(ISO_IN_TEXT.findall(x), ISO_IN_TEXT.findall(y),
                                             strict=True):
                    offsets.setdefault(pid, set()).add(day_offset(original, shifted))
    return offsets


def shifted_images(src: list[dict[str, Any]], offsets: dict[str, set[int]]) -> set[str]:
    """What each original date legitimately becomes (an image may equal another original)."""
    images = set()
    for res in src:
        pid = subject_key(res)
        values = [v for _, v in walk(res) if isinstance(v, str) and DATE_SHAPE.match(v)]
        for text in attachment_texts([res]):
            values += ISO_IN_TEXT.findall(text)
        for days in offsets.get(pid or "", ()):
            for v in values:
                moved = date.fromisoformat(v[:10]).toordinal() + days
                images.add(date.fromordinal(moved).isoformat() + v[10:])
    return images


# --- a project-made record with every kind of identifier --------------------------------

NOTE = """Progress note 2024-03-01
Ada Testperson (MRN: MRN-0001) is a 92-year-old woman seen with her daughter Beatrix
Testperson. Lives at 1 Test Street, Testville 02139. Phone 617-555-0182, e-mail
ada.testperson@example.net. Seen previously on 02/14/2024 and on March 3, 2023 by
Dr. Quill at Greyfield Clinic. Portal https://portal.example-hospital.org/p/4411.
Cough and fever for 3 days. Denies chest pain. SpO2 91%. Heart rate 118/min.
"""


def rich_bundle() -> dict[str, Any]:
    """A record holding each of the 18 Safe Harbor identifiers somewhere, in FHIR and text."""
    b = BundleBuilder("test-rich")
    pid = b.patient(
        "Ada", "Testperson", "female", "1931-11-20",
        identifier=[
            {"system": "urn:mrn", "value": "MRN-0001",
             "type": {"coding": [{"code": "MR"}]}},
            {"system": "http://hl7.org/fhir/sid/us-ssn", "value": "123-45-6789"},
            {"system": "urn:health-plan", "value": "HP998877"},
        ],
        address=[{"line": ["1 Test Street", "Flat 2"], "city": "Testville",
                  "district": "Middlesex", "state": "MA", "postalCode": "02139",
                  "country": "US", "period": {"start": "1990-05-01"}}],
        telecom=[{"system": "phone", "value": "617-555-0182"},
                 {"system": "email", "value": "ada.testperson@example.net"}],
        photo=[{"contentType": "image/jpeg", "data": "/9j/4AAQSkZJRgABAQ=="}],
        contact=[{"relationship": [{"text": "daughter"}],
                  "name": {"given": ["Beatrix"], "family": "Testperson"},
                  "telecom": [{"system": "phone", "value": "617-555-0199"}]}],
        extension=[
            {"url": "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName",
             "valueString": "Cordelia Oldname"},
            {"url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace",
             "valueAddress": {"city": "Boston", "state": "MA", "country": "US"}},
        ],
        text={"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">'
              "Ada Testperson, born 1931-11-20</div>"},
    )
    b.entries[0]["fullUrl"] = f"http://ehr.example-hospital.org/fhir/Patient/{pid}"
    prac = b.raw({"resourceType": "Practitioner",
                  "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi",
                                  "value": "1234567893"}],
                  "name": [{"family": "Quill", "given": ["Horatio"], "prefix": ["Dr."]}],
                  "telecom": [{"system": "email", "value": "h.quill@example-hospital.org"}]})
    b.raw({"resourceType": "Organization", "name": "Greyfield Clinic",
           "identifier": [{"system": "urn:org", "value": "ORG-77"}],
           "address": [{"line": ["9 Harbour Road"], "city": "Testville", "state": "MA"}]})
    enc = b.encounter("2024-03-01T09:00:00+00:00", "2024-03-01T10:00:00+00:00",
                      "Emergency department visit", cls="EMER")
    b.entries[-1]["resource"]["participant"] = [
        {"individual": {"reference": f"urn:uuid:{prac}", "display": "Dr. Horatio Quill"}}]
    b.entries[-1]["resource"]["serviceProvider"] = {
        "reference": "Organization?identifier=urn:org|ORG-77", "display": "Greyfield Clinic"}
    b.entries[-1]["resource"]["subject"]["display"] = "Ada Testperson"
    b.condition("1932-01-10", "195967001", "Asthma")  # before the grouped birth date
    b.condition("2015-06-01", "44054006", "Diabetes mellitus type 2", encounter=None)
    b.vital("2024-03-01T09:10:00+00:00", "8867-4", "Heart rate", 118, "/min", encounter=enc)
    b.observation("2024-03-01T09:30:00.123-05:00", "6690-2", "Leukocytes [#/volume] in Blood",
                  16.2, "10*3/uL", low=4.0, high=10.5, encounter=enc)
    b.entries[-1]["resource"]["note"] = [{"text": "Drawn by Ada's daughter Beatrix on "
                                                  "2024-03-01, call 617-555-0199"}]
    b.entries[-1]["resource"]["issued"] = "2024-03-01T09:45:12.000-05:00"
    b.observation("2024-02-14", "29463-7", "Body weight", 61.5, "kg")
    b.medication("2015-06-02", "860975", "metformin 500 MG Oral Tablet",
                 dosage="500 mg twice daily")
    b.immunization("2023-10-01", "140", "Influenza, seasonal, injectable")
    b.entries[-1]["resource"]["lotNumber"] = "LOT-4455-XZ"
    b.note("2024-03-01T09:20:00+00:00", NOTE, title="ED note", encounter=enc)
    b.entries[-1]["resource"]["author"] = [{"reference": f"Practitioner/{prac}",
                                            "display": "Horatio Quill"}]
    media = b.raw({"resourceType": "Media", "status": "completed",
                   "subject": {"reference": f"urn:uuid:{pid}"},
                   "content": {"contentType": "image/jpeg", "data": "/9j/4AAQ"}})
    b.raw({"resourceType": "DiagnosticReport", "status": "final",
           "code": {"text": "Chest X-ray"}, "subject": {"reference": f"urn:uuid:{pid}"},
           "effectiveDateTime": "2024-03-01T11:00:00+00:00",
           "media": [{"link": {"reference": f"urn:uuid:{media}"}}],
           "presentedForm": [{"contentType": "application/pdf", "data": "JVBERi0xLjQK",
                              "url": "https://ehr.example-hospital.org/docs/88"},
                             {"contentType": "text/plain",
                              "data": base64.b64encode(
                                  b"Report for Ada Testperson: no consolidation.").decode()}]})
    b.raw({"resourceType": "Device", "patient": {"reference": f"urn:uuid:{pid}"},
           "serialNumber": "SN-99812", "udiCarrier": [{"deviceIdentifier": "0884521"}],
           "type": {"text": "Pacemaker"}, "manufactureDate": "2019-01-01"})
    b.raw({"resourceType": "ImagingStudy", "status": "available",
           "subject": {"reference": f"urn:uuid:{pid}"}, "started": "2024-03-01T11:00:00Z",
           "identifier": [{"system": "urn:dicom:uid", "value": "urn:oid:1.2.840.99.1.2.3"}],
           "series": [{"uid": "1.2.840.99.1.2.3.4",
                       "modality": {"system": "http://dicom.nema.org/resources/ontology/DCM",
                                    "code": "CR"},
                       "instance": [{"uid": "1.2.840.99.1.2.3.4.5",
                                     "sopClass": {"code": "1.2.840.10008.5.1.4.1.1.1"}}]}]})
    b.raw({"resourceType": "FamilyMemberHistory", "status": "completed",
           "patient": {"reference": f"urn:uuid:{pid}"},
           "relationship": {"text": "mother"}, "name": "Cordelia Oldname",
           "deceasedAge": {"value": 97, "unit": "a", "system": "http://unitsofmeasure.org",
                           "code": "a"}})
    b.raw({"resourceType": "Claim", "status": "active", "created": "2024-03-02",
           "patient": {"reference": f"urn:uuid:{pid}"},
           "insurance": [{"sequence": 1, "focal": True,
                          "coverage": {"display": "Plan HP998877"}}],
           "contained": [{"resourceType": "Practitioner", "id": "p1",
                          "name": [{"family": "Quill"}]}],
           "provider": {"reference": "#p1"}})
    return b.bundle(id="source-bundle-1", timestamp="2024-03-05T10:00:00Z")


RICH_IDENTIFYING = ["Ada", "Testperson", "Beatrix", "Cordelia", "Oldname", "Quill", "Horatio",
                    "MRN-0001", "123-45-6789", "HP998877", "1 Test Street", "Flat 2",
                    "Testville", "Middlesex", "02139", "617-555-0182", "617-555-0199",
                    "ada.testperson@example.net", "h.quill@example-hospital.org",
                    "Greyfield", "9 Harbour Road", "1234567893", "ORG-77", "LOT-4455-XZ",
                    "SN-99812", "0884521", "1.2.840.99", "example-hospital.org", "Boston",
                    "1931-11-20", "source-bundle-1", "/9j/4AAQ", "JVBERi0xLjQK"]


@pytest.fixture
def rich(tmp_path: Path) -> tuple[Path, Path, dict[str, Any]]:
    src = tmp_path / "in" / "rich.json"
    src.parent.mkdir()
    doc = rich_bundle()
    src.write_text(json.dumps(doc), encoding="utf-8")
    out = tmp_path / "out" / "case.json"
    out.parent.mkdir()
    report = deidentify_path(src, out, seed=SEED, today=TODAY)
    return src, out, report


def _entries(path: Path) -> list[dict[str, Any]]:
    return [e["resource"] for e in json.loads(path.read_text(encoding="utf-8"))["entry"]]


def _by_type(resources: list[dict[str, Any]], rtype: str) -> list[dict[str, Any]]:
    return [r for r in resources if r["resourceType"] == rtype]


# --- tests ---------------------------------------------------------------------------

def test_no_identifier_of_the_rich_record_survives_anywhere(rich):
    src, out, _ = rich
    corpus = output_corpus(out)
    for value in RICH_IDENTIFYING:
        assert value.lower() not in corpus.lower(), value
    src_res, out_res = read_resources(src), read_resources(out)
    allowed = shifted_images(src_res, offsets_by_patient(src_res, out_res, SEED))
    assert not find_leaks(originals(src_res), corpus, allowed)


def test_rich_record_structure_keeps_the_case_and_drops_identifiers(rich):
    _, out, report = rich
    res = _entries(out)
    patient = _by_type(res, "Patient")[0]
    assert patient["name"] == [{"use": "anonymous", "text": "Patient 1"}]
    assert patient["address"] == [{"state": "MA", "country": "US"}]
    assert "telecom" not in patient and "photo" not in patient and "text" not in patient
    assert patient["contact"][0]["name"] == {"text": "[NAME]"}
    assert "telecom" not in patient["contact"][0]
    urls = [e["url"] for e in patient["extension"]]
    assert not any("mothersMaidenName" in u for u in urls)
    birthplace = next(e for e in patient["extension"] if e["url"].endswith("birthPlace"))
    assert birthplace["valueAddress"] == {"state": "MA", "country": "US"}
    assert {i["system"] for i in patient["identifier"]} == {
        "urn:mrn", "http://hl7.org/fhir/sid/us-ssn", "urn:health-plan"}
    assert all(i["value"] not in ("MRN-0001", "123-45-6789") for i in patient["identifier"])
    assert patient["meta"]["security"][0]["code"] == "PSEUDED"
    assert _by_type(res, "Media") == []  # photos and media cannot be checked: left out
    report_doc = _by_type(res, "DiagnosticReport")[0]
    assert report_doc["media"] == [{"link": {"display": "[removed]"}}]
    forms = report_doc["presentedForm"]
    assert "removed" in base64.b64decode(forms[0]["data"]).decode()  # the PDF
    assert "url" not in forms[0]
    assert base64.b64decode(forms[1]["data"]).decode() == "Report for [NAME]: no consolidation."
    device = _by_type(res, "Device")[0]
    assert "serialNumber" not in device and "udiCarrier" not in device
    study = _by_type(res, "ImagingStudy")[0]
    assert study["series"][0]["uid"].startswith("2.25.")
    assert study["series"][0]["instance"][0]["sopClass"]["code"] == "1.2.840.10008.5.1.4.1.1.1"
    fmh = _by_type(res, "FamilyMemberHistory")[0]
    assert fmh["deceasedAge"]["value"] == 90 and fmh["deceasedAge"]["comparator"] == ">="
    assert fmh["name"] == "[NAME]"
    enc = _by_type(res, "Encounter")[0]
    assert enc["participant"][0]["individual"]["display"] == "Practitioner 1"
    assert enc["serviceProvider"]["display"] == "Organization 1"
    assert enc["serviceProvider"]["reference"].startswith("Organization?identifier=urn:org|")
    assert enc["subject"]["display"] == "Patient 1"
    assert _by_type(res, "Organization")[0]["name"] == "Organization 1"
    claim = _by_type(res, "Claim")[0]
    assert claim["provider"] == {"reference": "#p1"}
    assert claim["contained"][0]["name"] == [{"text": "Practitioner 2"}]
    assert _by_type(res, "Immunization")[0].get("lotNumber") is None
    assert report["changes"]["identifiers replaced"] >= 5
    assert report["resources"]["read"] == len(rich_bundle()["entry"])


def test_rich_note_is_scrubbed_and_its_dates_shift_with_the_record(rich):
    src, out, _ = rich
    note = next(r for r in _entries(out) if r["resourceType"] == "DocumentReference")
    text = base64.b64decode(note["content"][0]["attachment"]["data"]).decode()
    original_doc = next(r for r in _entries(src) if r["resourceType"] == "DocumentReference")
    days = day_offset(original_doc["date"], note["date"])
    assert days != 0 and abs(days) <= 365
    moved = date.fromordinal(date(2024, 3, 1).toordinal() + days)
    assert f"Progress note {moved.isoformat()}" in text
    us = date.fromordinal(date(2024, 2, 14).toordinal() + days)
    assert f"{us.month:02d}/{us.day:02d}/{us.year}" in text
    named = date.fromordinal(date(2023, 3, 3).toordinal() + days)
    assert f"{MONTHS[named.month - 1]} {named.day}, {named.year}" in text
    assert "[NAME] (MRN: [ID]) is a" in text
    age = re.search(r"is a (\d+|90\+)[- ]year-old woman", text)
    assert age and (age.group(1) == "90+" or int(age.group(1)) <= 90), text
    assert "[ADDRESS]" in text and "[PHONE]" in text and "[EMAIL]" in text
    assert "[URL]" in text and "Dr. [NAME]" in text and "[ORGANIZATION]" in text
    assert "Cough and fever for 3 days. Denies chest pain. SpO2 91%. Heart rate 118/min." \
        in " ".join(text.split()).replace("\n", " ")


def test_rich_record_reimports_with_same_clinical_content_and_intervals(rich):
    src, out, _ = rich
    before = import_path(src)
    after = import_path(out)
    assert not after.issues, [str(i) for i in after.issues]
    assert len(after.timelines) == 1 and not after.timeline().patient.placeholder
    t0, t1 = before.timeline(), after.timeline()
    # the 1932 asthma diagnosis precedes the grouped birth date: left out (age over 89)
    assert len(t1) == len(t0) - 1

    def clinical(e):
        return (e.kind.value, e.code.code if e.code else None, e.value, e.unit)

    assert Counter(clinical(e) for e in t1) == Counter(
        clinical(e) for e in t0 if e.time is None or e.time.year > 1932)
    pseudonyms = Pseudonyms(SEED.encode())
    new_events = {e.id: e for e in t1}
    deltas = set()
    for e in t0:
        rtype, _, rest = e.id.partition("/")
        rid, _, frag = rest.partition("#")
        twin = new_events.get(f"{rtype}/{pseudonyms.resource_id(rid)}" + (f"#{frag}" if frag
                                                                          else ""))
        if twin is None:
            continue
        assert twin.display == e.display or e.kind.value == "note"
        if e.time and twin.time:
            deltas.add((twin.time - e.time).total_seconds())
    assert len(deltas) == 1  # every interval between events is unchanged
    days = deltas.pop() / 86400
    assert days == int(days) and days != 0 and abs(days) <= 365


def test_age_over_89_is_grouped_with_a_marker_and_notes_agree(rich):
    _, out, report = rich
    patient = _by_type(_entries(out), "Patient")[0]
    assert patient["_birthDate"]["extension"][0]["url"] == AGE_GROUPED_EXTENSION
    t = import_path(out).timeline()
    assert t.patient.age_at(TODAY) == 90  # living: 90 as of today (the age the app shows)
    assert all(e.time is None or e.time.date() >= t.patient.birth_date for e in t)
    assert report["changes"]["birth dates moved (age over 89 shown as 90)"] == 1
    assert report["changes"]["ages over 89 grouped (Age values)"] == 1  # the mother's
    assert report["changes"]["resources before a grouped birth date left out (age over 89)"] \
        == 1


def test_a_young_patient_keeps_a_shifted_birth_date(tmp_path, small_bundle_path):
    out = tmp_path / "young.json"
    deidentify_path(small_bundle_path, out, seed=SEED)
    src_p = _by_type(_entries(small_bundle_path), "Patient")[0]
    new_p = _by_type(_entries(out), "Patient")[0]
    assert "_birthDate" not in new_p
    enc0 = _by_type(_entries(small_bundle_path), "Encounter")[0]
    enc1 = _by_type(_entries(out), "Encounter")[0]
    assert day_offset(src_p["birthDate"], new_p["birthDate"]) == day_offset(
        enc0["period"]["start"], enc1["period"]["start"])


def test_offsets_are_random_without_a_seed_and_reproducible_with_one(tmp_path,
                                                                    small_bundle_path):
    starts = set()
    for i in range(6):
        out = tmp_path / f"r{i}.json"
        deidentify_path(small_bundle_path, out)
        starts.add(_by_type(_entries(out), "Encounter")[0]["period"]["start"])
    assert len(starts) > 1  # six equal draws out of 730 would be a broken random source
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    deidentify_path(small_bundle_path, a, seed=SEED)
    deidentify_path(small_bundle_path, b, seed=SEED)
    assert a.read_bytes() == b.read_bytes()
    c = tmp_path / "c.json"
    deidentify_path(small_bundle_path, c, seed=SEED + "-other")
    assert c.read_bytes() != a.read_bytes()


def test_offset_is_per_patient_in_a_multi_patient_bundle(tmp_path):
    entries = []
    for i in range(8):
        b = BundleBuilder(f"multi-{i}")
        b.patient(f"Given{i}", f"Family{i}", "male", "1970-01-01")
        b.encounter("2020-05-05T10:00:00+00:00", None, "Visit")
        b.vital("2020-05-05T10:05:00+00:00", "8867-4", "Heart rate", 70 + i, "/min")
        entries += b.entries
    src = tmp_path / "multi.json"
    src.write_text(json.dumps({"resourceType": "Bundle", "type": "collection",
                               "entry": entries}))
    out = tmp_path / "multi-out.json"
    deidentify_path(src, out, seed=SEED)
    offsets = offsets_by_patient(_entries(src), _entries(out), SEED)
    assert len(offsets) == 8 and all(len(v) == 1 for v in offsets.values())
    assert len({next(iter(v)) for v in offsets.values()}) > 1
    assert {t.patient.name for t in import_path(out).timelines} == {
        f"Patient {n}" for n in range(1, 9)}


def test_ndjson_file_and_folder_keep_their_shape(tmp_path):
    doc = small_bundle()
    folder = tmp_path / "Jane_Doe_export"
    folder.mkdir()
    lines = [json.dumps(e["resource"]) for e in doc["entry"]]
    (folder / "Jane_Doe.ndjson").write_text("\n".join(lines) + "\n")
    (folder / "notes.txt").write_text("not FHIR")
    out_file = tmp_path / "out.ndjson"
    deidentify_path(folder / "Jane_Doe.ndjson", out_file, seed=SEED)
    out_lines = out_file.read_text().splitlines()
    assert len(out_lines) == len(lines) and all(json.loads(x)["resourceType"] for x in out_lines)
    out_dir = tmp_path / "out_dir"
    report = deidentify_path(folder, out_dir, seed=SEED)
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == ["resources.000.ndjson"]  # no input file name (it may hold a name)
    assert report["shape"] == "folder" and report["files"]["written"] == 1
    for path in (out_file, out_dir):
        result = import_path(path)
        assert len(result.timeline()) == len(import_path(folder).timeline())
    # one resource in, one resource out
    single = tmp_path / "patient.json"
    single.write_text(json.dumps(doc["entry"][0]["resource"]))
    single_out = tmp_path / "patient-out.json"
    deidentify_path(single, single_out)
    data = json.loads(single_out.read_text())
    assert data["resourceType"] == "Patient" and data["name"][0]["text"] == "Patient 1"


def test_existing_output_is_refused_unless_forced_and_nothing_else_is_written(
        tmp_path, small_bundle_path):
    out = tmp_path / "case.json"
    out.write_text("keep me")
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(DeidentifyError, match="already exists"):
        deidentify_path(small_bundle_path, out)
    assert out.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    deidentify_path(small_bundle_path, out, force=True)
    assert json.loads(out.read_text())["resourceType"] == "Bundle"
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no temporary file left


def test_output_into_or_over_the_input_is_refused(tmp_path, small_bundle_path):
    with pytest.raises(DeidentifyError, match="input"):
        deidentify_path(small_bundle_path, small_bundle_path, force=True)
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "a.ndjson").write_text(json.dumps(small_bundle()["entry"][0]["resource"]) + "\n")
    with pytest.raises(DeidentifyError, match="inside"):
        deidentify_path(folder, folder / "out", force=True)
    with pytest.raises(DeidentifyError, match="holds the input"):
        deidentify_path(folder / "a.ndjson", tmp_path, force=True)
    with pytest.raises(DeidentifyError, match="does not exist"):
        deidentify_path(small_bundle_path, tmp_path / "missing" / "x.json")
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("not ours")
    with pytest.raises(DeidentifyError, match="other things"):
        deidentify_path(folder, other, force=True)
    assert (other / "keep.txt").read_text() == "not ours"
    with pytest.raises(DeidentifyError, match="report"):
        deidentify_path(small_bundle_path, tmp_path / "o.json", report_path=small_bundle_path)


def test_forced_folder_output_replaces_a_previous_output(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "a.ndjson").write_text(
        "\n".join(json.dumps(e["resource"]) for e in small_bundle()["entry"]) + "\n")
    out = tmp_path / "teaching"
    deidentify_path(folder, out)
    first = sorted(p.read_text() for p in out.iterdir())
    deidentify_path(folder, out, force=True)
    assert sorted(p.read_text() for p in out.iterdir()) != first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export", "teaching"]


def test_bad_input_is_a_clear_error_and_writes_nothing(tmp_path):
    cut = tmp_path / "cut.json"
    cut.write_text(json.dumps(small_bundle())[:500])
    with pytest.raises(FhirError, match="invalid JSON"):
        deidentify_path(cut, tmp_path / "o.json")
    media = tmp_path / "media.json"
    media.write_text(json.dumps({"resourceType": "Media", "status": "completed",
                                 "content": {"contentType": "image/png"}}))
    with pytest.raises(DeidentifyError, match="nothing left to write"):
        deidentify_path(media, tmp_path / "o.json")
    with pytest.raises(DeidentifyError, match="--seed"):
        deidentify_path(cut, tmp_path / "o.json", seed="short")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.json", "media.json"]


def test_bad_ndjson_lines_are_reported_by_position_and_never_copied(tmp_path):
    doc = small_bundle()
    lines = [json.dumps(e["resource"]) for e in doc["entry"]]
    lines.insert(2, '{"resourceType": "Patient", "name": [{"family": "Leaky"')  # truncated
    src = tmp_path / "x.ndjson"
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "y.ndjson"
    report = deidentify_path(src, out)
    assert "Leaky" not in out.read_text()
    assert report["warnings"] == ["input file 1: line 3: invalid JSON (Expecting ',' delimiter);"
                                  " line skipped"]
    assert "x.ndjson" not in json.dumps(report)


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "osler", *args], capture_output=True,
                          text=True, cwd=REPO, timeout=120)


def test_cli_json_report_and_exit_codes(tmp_path, small_bundle_path):
    out, report = tmp_path / "case.json", tmp_path / "report.json"
    done = _run_cli("deidentify", str(small_bundle_path), "-o", str(out), "--report",
                    str(report), "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc == json.loads(report.read_text())
    assert doc["resources"]["read"] == doc["resources"]["written"] == 14
    assert doc["changes"]["dates shifted"] >= 10 and doc["reproducible"] is False
    for secret in ("Ada", "Testperson", "MRN-0001", "1961-04-02", "Testville"):
        assert secret not in done.stdout
    again = _run_cli("deidentify", str(small_bundle_path), "-o", str(out))
    assert again.returncode == 2 and again.stdout == ""
    assert again.stderr.count("\n") == 1 and "already exists" in again.stderr
    missing = _run_cli("deidentify", str(tmp_path / "nope.json"), "-o", str(tmp_path / "z"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    seed_file = tmp_path / "seed.txt"
    seed_file.write_text("a long enough secret\n")
    seeded = _run_cli("deidentify", str(small_bundle_path), "-o", str(tmp_path / "s.json"),
                      "--seed-file", str(seed_file), "--json")
    assert seeded.returncode == 0 and json.loads(seeded.stdout)["reproducible"] is True


def test_codes_and_versions_are_kept_unless_they_hold_an_identifier(tmp_path):
    b = BundleBuilder("codes")
    pid = b.patient("Zebedee", "Quorum", "male", "1980-01-01")
    b.raw({"resourceType": "Observation", "status": "final",
           "subject": {"reference": f"urn:uuid:{pid}"}, "effectiveDateTime": "2020-01-01",
           "code": {"coding": [{"system": "http://loinc.org", "version": "2019-09",
                                "code": "8867-4", "display": "Heart rate"}]},
           "category": [{"coding": [{"system": "urn:local", "code": "Quorum-clinic"}]}]})
    src, out = tmp_path / "in.json", tmp_path / "out.json"
    src.write_text(json.dumps(b.bundle()))
    deidentify_path(src, out)
    obs = _by_type(_entries(out), "Observation")[0]
    assert obs["code"]["coding"][0] == {"system": "http://loinc.org", "version": "2019-09",
                                        "code": "8867-4", "display": "Heart rate"}
    assert obs["category"][0]["coding"][0]["code"] == "[NAME]-clinic"


def test_deidentify_runs_with_the_network_blocked(tmp_path, small_bundle_path):
    from tests.test_offline import run_offline

    proc = run_offline("deidentify", str(small_bundle_path), "-o", str(tmp_path / "o.json"),
                       "--json")
    assert proc.returncode == 0, proc.stderr
    assert "network access attempted" not in proc.stderr
    assert json.loads(proc.stdout)["resources"]["written"] == 14
