"""Past and family mentions: a past symptom, a past pregnancy and a relative's illness are not
the patient's present findings; a bare "history of" still introduces present complaints."""

from __future__ import annotations

import pytest

from osler.findings.extract import FindingExtractor
from osler.knowledge import default_kb
from tests.findings.test_qualified_mentions import states


@pytest.fixture(scope="module")
def ex():
    return FindingExtractor(default_kb(), semantic=False)


@pytest.mark.parametrize(("text", "expected"), [
    ("She took antenatal vitamins during pregnancy.", {}),
    ("She did not tolerate iron during her pregnancy, because of nausea.", {"nausea": "+"}),
    ("Nausea during this pregnancy.", {"nausea": "+", "pregnant": "+"}),
    ("She had a DVT after her last pregnancy.", {"history-vte": "+"}),
    ("Patient has a history of acute sinusitis (disorder), normal pregnancy, stress (finding).",
     {}),
    ("History of pregnancy loss.", {}),
    ("She is 12 weeks pregnant.", {"pregnant": "+"}),
    ("History: she is 32 weeks pregnant with vaginal bleeding.",
     {"pregnant": "+", "vaginal-bleeding": "+"}),
    ("Obstetric history - G2P1, currently 20 weeks pregnant.", {"pregnant": "+"}),
    ("Previously pregnant three times.", {}),
    ("The boy was born at 39 weeks gestation.", {}),
])
def test_past_pregnancy_is_not_a_current_one(ex, text, expected):
    got = states(ex, text, sex="female", age=30)
    assert got == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Two years ago she had an episode of chest pain.", {}),
    ("She had fever last year, now well.", {}),
    ("Prior episodes of syncope.", {}),
    ("Past medical history: asthma, migraine (2010), depression.", {"history-asthma": "+"}),
    ("PMH: DVT, hypertension.", {"history-vte": "+", "history-hypertension": "+"}),
    ("Previous history of seizures.", {}),
    ("He had pneumonia as a child and now has a cough.", {"cough": "+"}),
    ("Cough started 2 years ago.", {"cough": "+"}),
    ("A 3-month history of cough.", {"cough": "+"}),
    ("He presents with a history of severe daytime sleepiness.", {"sleepiness": "+"}),
    ("She has a history of low back pain of 6 months duration.", {"low-back-pain": "+"}),
    ("He reports morning cough daily for the last 2 years.", {"cough": "+"}),
    ("Previously well until 3 days ago when she developed fever.", {"fever": "+"}),
    ("One week prior, the patient had bloody diarrhoea.",
     {"diarrhea": "+", "blood-in-stool": "+"}),
    ("No previous history of seizures.", {"seizures": "-"}),
])
def test_past_symptoms_are_not_present_ones(ex, text, expected):
    assert states(ex, text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("The patient has a 35-pack-year smoking history but stopped smoking 10 years ago.",
     {"history-former-smoker": "+"}),
    ("He previously smoked.", {"history-former-smoker": "+"}),
    ("Smoker for 20 years.", {"history-smoking": "+"}),
    ("Quit smoking last year but still smokes the odd cigarette.",
     {"history-former-smoker": "+", "history-smoking": "+"}),
    ("Had surgery 10 years ago.", {}),
    ("Returned from a trip to Kenya two weeks ago.", {"recent-travel": "+"}),
    ("Returned from a deployment to Afghanistan 2 years ago.", {}),
    ("Dyspnoea a month after returning from a vacation in Texas.",
     {"shortness-of-breath": "+", "recent-travel": "+"}),
])
def test_past_forms_of_states_and_recent_events(ex, text, expected):
    assert states(ex, text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Mother had breast cancer.", {}),
    ("Breast cancer in her mother.", {}),
    ("Her mother has a history of breast cancer.", {}),
    ("Family history: mother - diabetes, father - MI, brother - asthma.", {}),
    ("Family history of diabetes (father), hypertension (mother) and asthma.", {}),
    ("His father has diabetes and his mother has hypertension. He has chest pain.",
     {"chest-pain": "+"}),
    ("Sister diagnosed with lupus; brother died of a heart attack.", {}),
    ("Diabetes and hypertension in both parents.", {}),
    ("FH: father died of MI aged 52; mother with breast cancer.", {}),
    ("Brought in by his mother with fever and cough.", {"fever": "+", "cough": "+"}),
    ("His wife has witnessed episodic apnoea.", {"apnea": "+"}),
    ("Her daughter has noticed that she is confused.", {"confusion": "+"}),
    ("Several family members have similar symptoms.", {"sick-contact": "+"}),
])
def test_relatives_findings_are_not_the_patients(ex, text, expected):
    assert states(ex, text) == expected
