"""Scores on a hand-checked example, and what trainees' entries resolve to."""

from __future__ import annotations

import pytest

from osler.knowledge.pack import default_kb
from osler.reasoning.differential import Diagnosis
from osler.teaching.cases import Gold
from osler.teaching.scoring import ConditionSearch, gold_target, score
from tests.reasoning.conftest import tiny_kb


def dx(rank: int, cid: str, name: str, icd: str, p: float, cant_miss: bool) -> Diagnosis:
    return Diagnosis(rank, cid, name, (icd,), p, cant_miss)


MODEL = [
    dx(1, "pulmonary-embolism", "Pulmonary embolism", "I26.99", 0.55, True),
    dx(2, "pneumonia", "Pneumonia", "J18.9", 0.30, True),
    dx(3, "asthma", "Asthma", "J45.909", 0.08, False),
    dx(4, "common-cold", "Common cold", "J00", 0.05, False),
    dx(5, "migraine", "Migraine", "G43.909", 0.015, False),
    dx(6, "meningitis", "Meningitis", "G03.9", 0.005, True),  # can't miss, below 2 %
]


@pytest.fixture(scope="module")
def search():
    return ConditionSearch(tiny_kb())


def test_hand_checked_scores(search):
    target = gold_target(tiny_kb(), Gold("Pulmonary embolism", ("I26.99",)))
    picks = [search.resolve(t) for t in ("Pneumonia", "pulmonary embolism", "Asthma")]
    s = score("Ana", picks, MODEL, target)
    assert s.gold_rank == 2 and (s.top(1), s.top(3), s.top(5)) == (False, True, True)
    assert s.model_gold_rank == 1
    # Can't-miss at >= 2 %: PE and pneumonia (meningitis at 0.5 % is not expected).
    assert s.cant_miss_expected == ("Pulmonary embolism", "Pneumonia")
    assert s.cant_miss_included == ("Pulmonary embolism", "Pneumonia")
    assert s.cant_miss_coverage == 1.0 and s.cant_miss_missed == ()
    assert s.overlap_k == 5 and s.overlap == ("Pulmonary embolism", "Pneumonia", "Asthma")
    assert s.overlap_fraction == pytest.approx(0.6)

    other = score("Ben", [search.resolve("Meningitis"), search.resolve("Frobnitz fever")],
                  MODEL, target)
    assert other.gold_rank is None and not other.top(5)
    assert other.cant_miss_included == () and other.cant_miss_coverage == 0.0
    assert other.cant_miss_missed == ("Pulmonary embolism", "Pneumonia")
    assert other.overlap == () and other.overlap_fraction == 0.0
    doc = other.to_json()
    assert doc["gold_rank"] is None and doc["top3"] is False and doc["listed"] == 2


def test_no_cant_miss_in_the_model_list_means_no_coverage_score(search):
    target = gold_target(tiny_kb(), Gold("Asthma"))
    s = score("Cy", [search.resolve("asthma")], MODEL[2:5], target)
    assert s.cant_miss_expected == () and s.cant_miss_coverage is None
    assert s.gold_rank == 1 and s.model_gold_rank == 1 and s.overlap_k == 3


def test_entries_resolve_by_name_synonym_code_or_free_text():
    search = ConditionSearch(default_kb())
    assert search.resolve("heart attack").condition_ids == {"heart-attack"}
    assert search.resolve("  SAH ").condition_ids == {"subarachnoid-hemorrhage"}
    assert search.resolve("I26.99").condition_ids == {"pulmonary-embolism"}
    assert search.resolve("community acquired pneumonia").condition_ids == {"pneumonia"}
    unknown = search.resolve("vibes")
    assert not unknown.resolved and unknown.name == "vibes"
    hits = search.search("pulm")
    assert hits and hits[0].name.lower().startswith("pulm")
    assert "pulmonary-embolism" in {h.condition_id for h in hits}
    assert search.search("") == []


def test_a_gold_in_the_kb_matches_by_condition_not_by_icd10_category():
    kb = default_kb()
    search = ConditionSearch(kb)
    target = gold_target(kb, Gold("Diabetic ketoacidosis", ("E10.10",)))
    assert target.condition_ids == {"diabetic-ketoacidosis"}
    assert search.resolve("DKA").is_gold(target)
    # Type 2 diabetes shares the E11 category with the KB's DKA code, but is not the gold.
    diabetes = search.resolve("type 2 diabetes")
    assert diabetes.resolved and not diabetes.is_gold(target)


def test_a_gold_outside_the_kb_matches_by_icd10_category():
    kb = tiny_kb()
    target = gold_target(kb, Gold("Frobnitz lung", ("J18.1",)))
    assert target.condition_ids == frozenset() and target.icd10_categories == {"J18"}
    s = score("Di", [ConditionSearch(kb).resolve("pneumonia")], MODEL, target)
    assert s.gold_rank == 1 and s.model_gold_rank == 2
