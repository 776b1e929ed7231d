"""Where FHIR R4 carries HIPAA Safe Harbor identifiers: keys, datatype shapes and resource types.

Shared by the census of the input (what identifies whom) and the resource rewriter, so the
two always agree on what a date, a name, an address or a reference is.
"""

from __future__ import annotations

import re
from typing import Any

# Resource types that are about a person or a place: their names become labels.
PERSON_TYPES = {
    "Patient": "Patient",
    "Practitioner": "Practitioner",
    "PractitionerRole": "Practitioner role",
    "RelatedPerson": "Related person",
    "Person": "Person",
}
PLACE_TYPES = {
    "Organization": "Organization",
    "Location": "Location",
    "HealthcareService": "Healthcare service",
    "InsurancePlan": "Insurance plan",
    "Endpoint": "Endpoint",
}
LABELLED_TYPES = {**PERSON_TYPES, **PLACE_TYPES}

# Resources that cannot be checked automatically (photos, video, audio): dropped whole.
DROPPED_TYPES = frozenset({"Media"})

# Fields that name the patient a resource belongs to, in the order they are tried.
SUBJECT_FIELDS = ("subject", "patient", "beneficiary", "individual", "for")

# Reference fields whose target is (almost always) a person, for displays that cannot be
# resolved to a resource in the input.
PERSON_REF_KEYS = frozenset(
    (
        "patient", "subject", "beneficiary", "subscriber", "policyHolder", "individual",
        "practitioner", "author", "requester", "performer", "recorder", "asserter",
        "generalPractitioner", "attester", "party", "enterer", "informant", "sender", "recipient",
        "prescriber", "orderer", "who", "agent", "authenticator", "legalAuthenticator",
        "careManager", "verifier", "collector", "interpreter", "resultsInterpreter", "actor",
        "owner", "requestor", "submitter", "operator", "witness",
    )
)

# Keys dropped wherever they appear: contact details, photos, device serials, signatures,
# map positions, network addresses, raw genome sequences and links to sequence data
# (Safe Harbor B, D-F, K-M, O-Q; see docs/deidentification.md).
DROP_KEYS = frozenset(
    (
        "telecom", "photo", "udiCarrier", "distinctIdentifier", "serialNumber", "lotNumber",
        "position", "signature", "network", "alias", "valueContactPoint", "observedSeq",
        "referenceSeqString", "repository",
    )
)

# Extensions that carry identifiers: dropped (birthPlace is kept, reduced to state/country).
DROPPED_EXTENSIONS = (
    "patient-mothersMaidenName",
    "geolocation",
    "patient-birthTime",
    "humanname-",
    "iso21090-ADXP-",
    "iso21090-EN-",
)

# Keys whose string values are codes, not text: never scrubbed, never shifted.
CODE_KEYS = frozenset(
    (
        "resourceType", "system", "code", "unit", "contentType", "language", "status", "use",
        "profile", "versionId", "valueCode", "intent", "priority", "gender", "mode", "type",
        "comparator", "fullUrl", "method", "kind", "questionnaire", "instantiatesCanonical",
        "valueCanonical", "linkId", "version", "id", "valueSet", "definition", "currency",
        "ifNoneExist", "severity", "criticality", "category", "outcome",
    )
)

# Keys known to hold a date/dateTime/instant (besides any key ending Date/DateTime/Instant).
DATE_KEYS = frozenset(
    (
        "date", "issued", "recorded", "authoredOn", "created", "lastUpdated", "timestamp", "start",
        "end", "started", "sent", "received", "time", "event", "whenHandedOver", "whenPrepared",
        "dateWritten", "lastOccurrence", "dateAsserted", "assertedDate", "recordedDate",
        "birthDate", "expirationDate", "manufactureDate", "dateTime", "instant", "datePerformed",
        "paymentDate", "servicedDate", "accidentDate",
    )
)
_DATE_SUFFIXES = ("Date", "DateTime", "Instant")

# Dates that are not events in the patient's life (not used to date a resource).
NON_EVENT_DATE_KEYS = frozenset(
    ("expirationDate", "manufactureDate", "birthDate", "lastUpdated", "dueDate")
)

DATE_SHAPE = re.compile(
    r"^\d{4}-\d{2}(?:-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?)?$"
)

HUMAN_NAME_KEYS = frozenset(("family", "given", "text", "prefix", "suffix"))
ADDRESS_KEYS = frozenset(("line", "city", "district", "state", "postalCode", "country"))
AGE_UNITS = frozenset(("a", "yr", "yrs", "year", "years", "y"))


def is_date_key(key: str) -> bool:
    """True for keys that hold dates by FHIR's naming (birthDate, effectiveDateTime, issued…)."""
    return key in DATE_KEYS or key.endswith(_DATE_SUFFIXES)


def is_human_name(node: Any) -> bool:
    """A FHIR HumanName object."""
    return (
        isinstance(node, dict)
        and any(k in node for k in HUMAN_NAME_KEYS)
        and "resourceType" not in node
    )


def is_address(node: Any) -> bool:
    """A FHIR Address object."""
    return (
        isinstance(node, dict)
        and any(k in node for k in ADDRESS_KEYS | {"text"})
        and "resourceType" not in node
    )


def is_attachment(node: dict[str, Any]) -> bool:
    """A FHIR Attachment (inline data or a URL to it)."""
    if "resourceType" in node:
        return False
    if "data" in node and isinstance(node.get("data"), str):
        return True
    return "contentType" in node and any(
        k in node for k in ("url", "size", "hash", "title", "creation")
    )


def is_reference(node: dict[str, Any]) -> bool:
    """A FHIR Reference (literal, logical or display-only)."""
    if "resourceType" in node:
        return False
    if isinstance(node.get("reference"), str):
        return True
    return "display" in node and set(node) <= {"display", "identifier", "type", "id", "extension"}


def is_age(key: str, node: dict[str, Any]) -> bool:
    """A FHIR Age in years (onsetAge, ageAge, deceasedAge…)."""
    unit = node.get("code") or node.get("unit")
    return (
        (key.endswith("Age") or key == "age")
        and isinstance(node.get("value"), int | float)
        and isinstance(unit, str)
        and unit.lower() in AGE_UNITS
    )


def reference_type(ref: str) -> str | None:
    """The resource type a reference string names, when it says ("Practitioner/1",
    "Organization?identifier=…", "http://x/fhir/Patient/2/_history/1")."""
    head = ref.split("?", 1)[0] if "?" in ref else ref
    if "?" in ref and "/" not in head:
        return head or None
    parts = head.rstrip("/").split("/")
    if len(parts) >= 4 and parts[-2] == "_history":
        parts = parts[:-2]
    if len(parts) >= 2 and parts[-2][:1].isupper():
        return parts[-2]
    return None
