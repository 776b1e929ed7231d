"""The semantic fallback judged like the lexicon: a negation inside the clause, a modifier
the other way, an aggravating factor or someone else's illness is not a present finding."""

from __future__ import annotations

import pytest

from osler.findings import semantic
from osler.findings.extract import FindingExtractor
from osler.knowledge import default_kb

pytestmark = pytest.mark.skipif(not semantic.available(), reason="MiniLM files not installed")


@pytest.fixture(scope="module")
def ex():
    return FindingExtractor(default_kb())


def present(ex, text, **kw):
    return {f.id for f in ex.from_text(text, **kw) if f.present}


@pytest.mark.parametrize(("text", "wrong"), [
    ("my chest doesn't feel tight", "chest-tightness"),  # negation inside the clause
    ("urinating less frequently", "frequent-urination"),  # the other direction
    ("She reports lighter periods.", "heavy-menstrual-flow"),
])
def test_clause_qualifiers_are_applied_to_semantic_matches(ex, text, wrong):
    assert wrong not in present(ex, text)


def test_plain_paraphrases_still_match(ex):
    assert "abdominal-pain" in present(ex, "my tummy really hurts")
    assert "weight-loss" in present(ex, "weight has decreased")
    assert "chest-tightness" in present(ex, "my chest feels tight")


def test_semantic_findings_of_the_other_sex_are_set_aside():
    ex = FindingExtractor(default_kb())
    text = "periods are really heavy with clots"
    assert "blood-clots-during-menstrual-periods" in present(ex, text)
    assert ex.from_text(text, sex="male") == []
    assert any("Blood clots during menstrual periods not used" in w for w in ex.warnings)
