"""Finding a diagnosis to add and a finding for a what-if (no window)."""

from __future__ import annotations

import pytest

from osler.ui.diagnosis_search import (
    Icd10Index,
    normalise_code,
    search_conditions,
    search_diagnoses,
    search_findings,
)
from tests.reasoning.conftest import tiny_kb

SMALL_INDEX = Icd10Index([
    ("I26", "Pulmonary embolism"),
    ("I26.9", "Pulmonary embolism without acute cor pulmonale"),
    ("I26.99", "Other pulmonary embolism without acute cor pulmonale"),
    ("M30.3", "Mucocutaneous lymph node syndrome [Kawasaki]"),
    ("J18.9", "Pneumonia, unspecified organism"),
])


def test_conditions_by_words_synonym_prefix_or_icd10_code():
    kb = tiny_kb()
    assert [d.name for d in search_conditions(kb, "pulm emb")] == ["Pulmonary embolism"]
    assert search_conditions(kb, "I26")[0].name == "Pulmonary embolism"
    assert search_conditions(kb, "i26.99")[0].icd10 == ("I26.99",)
    found = search_conditions(kb, "pneumonia")
    assert found[0].source == "kb" and found[0].condition_id == "pneumonia"
    assert search_conditions(kb, "   ") == []
    assert search_conditions(kb, "zebra fever") == []


def test_icd10_index_by_code_prefix_and_words_kb_first_without_duplicates():
    assert [d.icd10[0] for d in SMALL_INDEX.search("I26.9")] == ["I26.9", "I26.99"]
    assert SMALL_INDEX.search("kawasaki")[0].icd10 == ("M30.3",)
    assert normalise_code(" i26.99 ") == "I2699"
    merged = search_diagnoses(tiny_kb(), "pulmonary embolism", index=SMALL_INDEX)
    assert merged[0].source == "kb" and merged[0].icd10 == ("I26.99",)
    codes = [d.icd10[0] for d in merged]
    assert codes.count("I26.99") == 1, "an ICD-10-CM entry the KB result covers is repeated"
    assert {d.source for d in merged[1:]} == {"icd10cm"}


def test_findings_by_label_or_synonym():
    kb = tiny_kb()
    assert [f.id for f in search_findings(kb, "short breath")] == ["shortness-of-breath"]
    assert search_findings(kb, "coughing blood")[0].id == "hemoptysis"


@pytest.mark.slow
def test_the_real_icd10cm_index_holds_every_code():
    from osler.ui.diagnosis_search import icd10_index

    index = icd10_index()
    assert len(index) > 90_000
    assert index.search("I26.99")[0].name == "Other pulmonary embolism without acute cor " \
                                             "pulmonale"
