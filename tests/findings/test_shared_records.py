"""Findings from the shared Synthea records (skipped when ../shared/data is absent)."""

from __future__ import annotations

import pytest

from osler.fhir import import_path
from osler.findings.extract import FindingExtractor
from osler.findings.merge import merge_findings
from osler.findings.record import findings_from_record
from osler.knowledge import default_kb
from tests.conftest import shared


@pytest.fixture(scope="module")
def ex():
    return FindingExtractor(default_kb(), semantic=False)


def test_every_synthea_bundle(ex):
    kb = ex.kb
    total = 0
    for path in sorted(shared("synthea_r4").glob("*.json")):
        tl = import_path(path).timeline()
        found = merge_findings(findings_from_record(tl, kb, extractor=ex))
        total += len(found)
        for f in found:
            assert kb.has_finding(f.id)
            if f.source.event_id and f.source.span is None:
                assert f.source.event_id in tl
    assert total > 30


def test_bulk_ndjson_notes_are_read(ex):
    result = import_path(shared("synthea_bulk_ndjson"))
    with_notes = 0
    for tl in result.timelines[:5]:
        found = findings_from_record(tl, ex.kb, extractor=ex)
        notes = [f for f in found if f.source.span is not None]
        with_notes += bool(notes)
        for f in notes:
            ev = tl.get(f.source.event_id)
            s, e = f.source.span
            assert ev is not None and ev.text[s:e] == f.source.snippet
    assert with_notes >= 1
