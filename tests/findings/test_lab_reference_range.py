"""A laboratory's own reference range beats the KB's generic threshold (assays differ)."""

import json

from osler.fhir import load_timeline
from osler.fhir.builder import BundleBuilder
from osler.findings.record import findings_from_record
from osler.knowledge.pack import default_kb


def _record(tmp_path, value, high, loinc="89579-7"):
    b = BundleBuilder(f"lab-range-{value}-{high}")
    b.patient("Lab", "Range", "male", "1960-01-01")
    b.observation("2024-01-01T10:00:00+00:00", loinc, "Troponin I (high sensitivity)", value,
                  "ng/L", low=0, high=high)
    p = tmp_path / f"r{value}-{high}.json"
    p.write_text(json.dumps(b.bundle()))
    return load_timeline(p)


def _troponin(tl):
    return next(f for f in findings_from_record(tl, default_kb()) if f.id == "raised-troponin")


def test_value_above_the_labs_range_is_present_even_below_the_kb_threshold(tmp_path):
    f = _troponin(_record(tmp_path, 22, 20))  # KB generic threshold for this assay is 26 ng/L
    assert f.present and f.source.event_id


def test_value_within_the_labs_range_is_absent_even_above_the_kb_threshold(tmp_path):
    assert not _troponin(_record(tmp_path, 30, 34)).present


def test_without_a_range_the_kb_threshold_decides(tmp_path):
    b = BundleBuilder("lab-range-none")
    b.patient("Lab", "Norange", "male", "1960-01-01")
    b.observation("2024-01-01T10:00:00+00:00", "89579-7", "Troponin I", 30, "ng/L")
    p = tmp_path / "none.json"
    p.write_text(json.dumps(b.bundle()))
    assert _troponin(load_timeline(p)).present
