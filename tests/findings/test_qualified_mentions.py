"""Negation written as a prefix or an adjective, examination adjectives, normal statements,
word senses, antonym modifiers and aggravating factors: each a class of misreads, each with
several phrasings (lexicon only; the shipped KB pack is part of the repository)."""

from __future__ import annotations

import pytest

from osler.findings.extract import FindingExtractor
from osler.knowledge import default_kb


@pytest.fixture(scope="module")
def ex():
    return FindingExtractor(default_kb(), semantic=False)


def states(ex, text, **kw):
    """{finding id: '+', '-', '?' or '-?'} (present wins), spans checked on the way."""
    out: dict[str, str] = {}
    for f in ex.from_text(text, **kw):
        s, e = f.source.span
        assert text[s:e] == f.source.snippet and s < e
        mark = ("+" if f.present else "-") + ("" if f.certain else "?")
        if f.id not in out or mark == "+":
            out[f.id] = mark
    return out


@pytest.mark.parametrize(("text", "expected"), [
    ("Abdomen soft, non-tender.", {"peritonism": "-"}),
    ("The abdomen is not tender.", {"peritonism": "-"}),
    ("Abdomen nontender, nondistended.", {"peritonism": "-", "abdominal-distention": "-"}),
    ("Abdomen is soft, non-tender and non-distended.",
     {"peritonism": "-", "abdominal-distention": "-"}),
    ("The abdomen is not distended or tender.",
     {"peritonism": "-", "abdominal-distention": "-"}),
    ("Abdomen soft but tender.", {"peritonism": "+"}),
    ("Abdomen distended and tender.", {"peritonism": "+", "abdominal-distention": "+"}),
    ("Tender in the right lower quadrant.", {"right-lower-quadrant-pain": "+"}),
    ("Calves soft and non-tender.", {"leg-pain": "-"}),
    ("She is afebrile.", {"fever": "-"}),
    ("Denies any chest pain.", {"chest-pain": "-"}),
    ("Negative for fever, chills and cough.", {"fever": "-", "chills": "-", "cough": "-"}),
    ("Lungs free of wheezes.", {"wheezing": "-"}),
    ("No evidence of jaundice.", {"jaundice": "-"}),
    ("Pneumonia ruled out; cough ruled out.", {"cough": "-"}),
    ("Abdominal tenderness: none.", {"peritonism": "-"}),
])
def test_negation_as_prefix_adjective_or_phrase(ex, text, expected):
    assert states(ex, text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("non-bloody diarrhoea", {"diarrhea": "+", "blood-in-stool": "-"}),
    ("non-productive cough", {"cough": "+"}),
    ("non-pitting oedema", {"peripheral-edema": "+"}),
    ("nonpitting edema of both ankles", {"peripheral-edema": "+"}),
    ("non-radiating chest pain", {"chest-pain": "+"}),
])
def test_non_negates_the_modifier_not_the_symptom(ex, text, expected):
    assert states(ex, text) == expected


@pytest.mark.parametrize(("text", "absent"), [
    ("Chest: unremarkable.", {"wheezing", "crackles"}),
    ("Abdominal examination within normal limits.", {"peritonism", "abdominal-distention"}),
    ("Normal abdominal exam.", {"peritonism", "abdominal-distention"}),
    ("Neuro: grossly intact.", {"focal-weakness", "loss-of-sensation"}),
    ("Heart sounds normal", {"heart-murmur"}),
    ("CBC within normal limits.", {"anaemia", "leukocytosis", "leukopenia",
                                   "thrombocytopenia"}),
    ("Electrolytes: WNL", {"hyponatraemia", "hypernatraemia", "hypokalaemia",
                           "hyperkalaemia"}),
    ("Vital signs within normal limits.", {"fever", "tachycardia", "bradycardia", "tachypnoea",
                                           "hypotension", "hypoxaemia"}),
    ("Troponin: negative.", {"raised-troponin"}),
])
def test_normal_statement_about_a_system_makes_its_signs_absent(ex, text, absent):
    got = states(ex, text)
    assert got == dict.fromkeys(absent, "-")


@pytest.mark.parametrize("text", [
    "Abdomen: normal bowel sounds, tender in the right lower quadrant.",
    "Abdomen otherwise unremarkable.",
    "Chest X-ray unremarkable.",
    "Urinalysis: WBC within normal limits, glucose negative.",
    "Abdomen unremarkable except for mild tenderness.",
])
def test_normal_statements_that_do_not_clear_a_system(ex, text):
    got = states(ex, text)
    assert "-" not in got.values(), got


def test_a_present_sign_beats_the_normal_statement_of_its_sentence(ex):
    got = states(ex, "Abdomen: tender, otherwise normal.")
    assert got == {"peritonism": "+"}
    got = states(ex, "Abdomen: guarding, soft, normal")
    assert got["peritonism"] == "+"


@pytest.mark.parametrize(("text", "expected"), [
    ("ECG shows reciprocal ST depression in the inferior leads.", {}),
    ("ST-segment depression in V4-V6; she denies low mood.", {"depression": "-"}),
    # Not low mood: the sign of its own (pack 1.2), with the opioid exposure it names.
    ("Respiratory depression after opioids.", {"respiratory-depression": "+",
                                               "opioid-use": "+"}),
    ("Depression screening (procedure)", {}),
    ("Assessment of anxiety (procedure)", {}),
    ("He feels depressed.", {"depression": "+"}),
    ("Fit for discharge.", {}),
    ("Had a fit this morning.", {"seizures": "+"}),
    ("No pulmonary congestion on the film.", {}),
    ("Flu vaccine given.", {}),
    ("Multiple lytic lesions in the femur.", {"lytic-bone-lesions": "+"}),
    ("Diabetes runs in the family.", {}),
    ("Standard pregnancy test performed.", {}),
    ("Positive pregnancy test.", {"pregnant": "+"}),
])
def test_other_senses_of_finding_words(ex, text, expected):
    assert states(ex, text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("She reports lighter periods.", {}),
    ("Her periods have become much lighter.", {}),
    ("Heavy periods.", {"heavy-menstrual-flow": "+"}),
    ("Less frequent urination than before.", {}),
    ("Decreased urinary frequency.", {}),
    ("Increased urinary frequency.", {"frequent-urination": "+"}),
    ("Her appetite has increased.", {}),
    ("Reduced appetite.", {"decreased-appetite": "+"}),
    ("less shortness of breath than yesterday", {"shortness-of-breath": "+"}),  # graded only
])
def test_modifiers_the_other_way(ex, text, expected):
    assert states(ex, text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Pain is worse on walking and coughing.", {}),
    ("The pain is aggravated by deep breathing and coughing.", {}),
    ("Headache triggered by vomiting, relieved by sleep.", {"headache": "+"}),
    ("Pain relieved by vomiting.", {}),
    ("Chest pain worse on exertion.", {"chest-pain": "+", "exertional-symptoms": "+"}),
    ("Pain worse with coughing, associated with fever.", {"fever": "+"}),
    ("Knee pain relieved with ibuprofen.", {"knee-pain": "+", "nsaid-use": "+"}),
    ("Cough worse at night.", {"cough": "+"}),
])
def test_aggravating_and_relieving_factors_are_not_symptoms(ex, text, expected):
    assert states(ex, text) == expected


def test_stopped_treatment_is_not_current():
    from osler.findings.extract import FindingExtractor
    from osler.knowledge.pack import default_kb

    found = FindingExtractor(default_kb(), semantic=False).from_text(
        "Prophylactic anticoagulation stopped at discharge.")
    anticoag = [f for f in found if "anticoag" in f.id]
    assert anticoag and not any(f.present for f in anticoag)


@pytest.mark.parametrize(("text", "expected"), [
    ("Weight loss, underweight, periods stopped.", {"weight-loss": "+", "underweight": "+"}),
    ("Cough and fever, vomiting stopped.", {"cough": "+", "fever": "+", "vomiting": "-"}),
    ("The chest pain has stopped.", {"chest-pain": "-"}),
    ("Metformin stopped.", {"history-diabetes": "+"}),  # the diabetes goes on
    ("Fever and cough absent.", {"fever": "-", "cough": "-"}),  # ordinary post-negation
])
def test_stopped_ends_only_the_finding_right_before_it(ex, text, expected):
    assert states(ex, text) == expected
