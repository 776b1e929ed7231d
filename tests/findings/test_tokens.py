"""Tokens keep exact offsets; normalisation makes spelling variants meet."""

from hypothesis import given
from hypothesis import strategies as st

from osler.findings.tokens import normalize, phrase_key, tokenize


@given(st.text(max_size=300))
def test_offsets_are_exact_for_any_text(text):
    for t in tokenize(text):
        assert text[t.start:t.end] == t.text


def test_numbers_with_decimals_are_one_token_and_dropped_for_matching():
    toks = tokenize("Temp 38.5, WBC 16,2; T2DM")
    assert [t.text for t in toks] == ["Temp", "38.5", ",", "WBC", "16,2", ";", "T2DM"]
    assert toks[1].norm == "" and toks[6].norm == "t2dm"


def test_variants_meet():
    same = [("haemoptysis", "hemoptysis"), ("Diarrhoea", "diarrhea"), ("coughing", "cough"),
            ("wheezes", "wheezing"), ("vomited", "vomiting"), ("headaches", "headache"),
            ("aching", "ache"), ("oedema", "edema"), ("anaemic", "anemic"),
            ("denies", "denied"), ("calves", "calf"), ("feet", "foot"),
            ("teeth", "tooth")]
    for a, b in same:
        assert normalize(a) == normalize(b), (a, b)
    # Short words are not stemmed into each other.
    assert normalize("notes") != normalize("not")
    assert normalize("noted") != normalize("not")
    assert normalize("toes") == "toe" and normalize("to") == "to"


def test_phrase_key_drops_articles_numbers_possessives():
    assert phrase_key("pain in the left knee") == ("pain", "in", "left", "knee")
    assert phrase_key("type 2 diabetes") == phrase_key("type diabetes")
    assert phrase_key("shortness of breath") == phrase_key("shortness breath")
