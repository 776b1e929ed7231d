"""Every public example and Synthea record imports; NDJSON notes land on the timeline."""

import pytest

from osler.fhir import import_path
from osler.record import EventKind
from tests.conftest import SHARED, shared

EXAMPLES = sorted((SHARED / "fhir_r4_examples").glob("*.json")) if SHARED.exists() else []
SYNTHEA = sorted((SHARED / "synthea_r4").glob("*.json")) if SHARED.exists() else []


@pytest.mark.shared_data
def test_every_fhir_example_imports():
    folder = shared("fhir_r4_examples")
    files = sorted(folder.glob("*.json"))
    assert len(files) > 500
    with_events = 0
    for f in files:
        result = import_path(f)  # raises on failure
        with_events += any(len(t) for t in result.timelines)
    assert with_events > 200


@pytest.mark.shared_data
def test_every_synthea_record_imports_without_warnings():
    folder = shared("synthea_r4")
    for f in sorted(folder.glob("*.json")):
        result = import_path(f)
        t = result.timeline()
        assert not t.patient.placeholder and t.patient.birth_date is not None, f.name
        assert not result.issues, (f.name, [str(i) for i in result.issues[:3]])
        assert "Claim" in result.skipped and not any(
            e.id.startswith(("Claim/", "ExplanationOfBenefit/")) for e in t)
        assert t.by_kind(EventKind.ENCOUNTER) and (t.by_kind(EventKind.VITAL)
                                                   or t.by_kind(EventKind.LAB))


@pytest.mark.shared_data
def test_bulk_ndjson_notes_on_timeline():
    folder = shared("synthea_bulk_ndjson")
    result = import_path(folder)
    assert len(result.timelines) == 13
    notes = [e for t in result.timelines for e in t.by_kind(EventKind.NOTE)]
    assert len(notes) == 1215
    assert all(n.text and n.time for n in notes)
    assert any("Chief Complaint" in n.text for n in notes)
    # notes link to their encounter
    linked = sum(1 for n in notes if n.encounter)
    assert linked / len(notes) > 0.95
