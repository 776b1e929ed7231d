"""Extraction accuracy on the development vignettes, with floors just under the measurement.

Measured (see docs/findings.md), text only, KB pack 1.2.0: lexicon, present P 0.980 R 0.867,
absent P 0.995 R 0.989 (gold extended for the 1.2 vocabulary; 'no visual disturbance' now
reads its own finding, not diminished vision, which costs absent recall 0.004); with the
semantic fallback, present P 0.974 R 0.874. With each vignette's age and sex passed (as
`osler ddx --age --sex` does), the lexicon's present recall is 0.859: vignette 96
is a "10 year old" whose text calls him "this baby", so the gold "irritable infant" is set
aside. The vocabulary was written with these vignettes in view, so held-out figures will be
lower.
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
    assert r["present"]["precision"] >= 0.975 and r["present"]["recall"] >= 0.85
    assert r["absent"]["precision"] >= 0.99 and r["absent"]["recall"] >= 0.985


def test_avey_lexicon_with_age_and_sex(kb):
    r = evaluate(kb, FindingExtractor(kb, semantic=False),
                 shared("vignettes", "avey_dev100.jsonl"), with_demographics=True)
    assert r["present"]["precision"] >= 0.975 and r["present"]["recall"] >= 0.85
    assert r["absent"]["precision"] >= 0.99 and r["absent"]["recall"] >= 0.985
    assert 1 <= r["set_aside"] <= 5


def test_avey_semantic_floor(kb):
    r = evaluate(kb, FindingExtractor(kb), shared("vignettes", "avey_dev100.jsonl"))
    assert r["present"]["precision"] >= 0.97 and r["present"]["recall"] >= 0.86
    assert r["absent"]["precision"] >= 0.99 and r["absent"]["recall"] >= 0.985
    assert r["semantic_findings"] >= 1


def test_agentclinic_sanity(kb):
    path = shared("vignettes", "agentclinic_dev54.jsonl")
    r = check(FindingExtractor(kb, semantic=False), path)
    assert r["cases"] == 54
    assert r["mapped_fraction"] >= 0.67
    assert r["history_agreement"] >= 0.64
    assert r["findings_from_vitals"] >= 370 and r["absent_findings_from_review_of_systems"] >= 125
    kids = check(FindingExtractor(kb, semantic=False), path, with_demographics=True)
    # Children's normal heart and breathing rates are no longer tachycardia/tachypnoea.
    assert kids["present_findings_from_vitals"] <= r["present_findings_from_vitals"] - 15
    assert kids["findings_from_vitals"] >= 350
