"""Extraction accuracy on the development vignettes, with floors just under the measurement.

Measured (see docs/findings.md): lexicon only, present P 0.975 R 0.867, absent P 0.984
R 0.993; with the semantic fallback, present P 0.971 R 0.874. The vocabulary was written
with these vignettes in view, so held-out figures will be lower.
"""

from __future__ import annotations

import pytest

from osler.findings.extract import FindingExtractor
from osler.knowledge import default_kb
from tests.conftest import shared
from tests.findings.agentclinic_check import check
from tests.findings.extraction_eval import evaluate


@pytest.fixture(scope="module")
def kb():
    return default_kb()


def test_avey_lexicon_floor(kb):
    r = evaluate(kb, FindingExtractor(kb, semantic=False),
                 shared("vignettes", "avey_dev100.jsonl"))
    assert r["vignettes"] == 100
    assert r["present"]["precision"] >= 0.96 and r["present"]["recall"] >= 0.85
    assert r["absent"]["precision"] >= 0.97 and r["absent"]["recall"] >= 0.98


def test_avey_semantic_floor(kb):
    r = evaluate(kb, FindingExtractor(kb), shared("vignettes", "avey_dev100.jsonl"))
    assert r["present"]["precision"] >= 0.95 and r["present"]["recall"] >= 0.86
    assert r["absent"]["precision"] >= 0.97 and r["absent"]["recall"] >= 0.98
    assert r["semantic_findings"] >= 1


def test_agentclinic_sanity(kb):
    r = check(FindingExtractor(kb, semantic=False), shared("vignettes",
                                                          "agentclinic_dev54.jsonl"))
    assert r["cases"] == 54
    assert r["mapped_fraction"] >= 0.65
    assert r["history_agreement"] >= 0.6
    assert r["findings_from_vitals"] >= 300 and r["absent_findings_from_review_of_systems"] >= 100
