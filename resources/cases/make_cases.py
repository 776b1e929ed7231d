"""Write the demo and teaching cases in resources/cases/ (python make_cases.py).

Every case is fictional and written by the project: a FHIR Bundle `<name>.json` (the main
window's File ▸ Open demo case lists them) and a sidecar `teaching/<id>.case.json` with the
gold diagnosis, teaching notes, learning objectives and the stage of every event (see
docs/teaching.md). Ids are deterministic so that rebuilding keeps event ids (and audit
entries and sidecars that cite them) valid. File names describe the presentation, never the
diagnosis, because trainees can see them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from osler.fhir.builder import LOINC, BundleBuilder

HERE = Path(__file__).resolve().parent
SIDECARS = HERE / "teaching"
STAGES = ("presentation", "history", "exam", "labs", "imaging")
RADIOLOGY = "http://loinc.org"


@dataclass
class StagedBuilder(BundleBuilder):
    """A BundleBuilder that files every resource it adds under the current stage."""

    stage: str = "history"
    staged: dict[str, list[str]] = field(default_factory=lambda: {s: [] for s in STAGES})

    def _add(self, resource: dict[str, Any]) -> str:
        rid = super()._add(resource)
        if resource["resourceType"] != "Patient":
            self.staged[self.stage].append(f"{resource['resourceType']}/{rid}")
        return rid

    def report(self, when: str, loinc: str, title: str, text: str,
               encounter: str | None = None, category: str = "RAD") -> str:
        """A DiagnosticReport (imaging, ECG) with its conclusion as text."""
        res: dict[str, Any] = {
            "resourceType": "DiagnosticReport",
            "status": "final",
            "category": [{"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": category}]}],
            "code": {"coding": [{"system": LOINC, "code": loinc, "display": title}],
                     "text": title},
            "subject": {"reference": f"urn:uuid:{self.patient_id}"},
            "effectiveDateTime": when,
            "conclusion": text,
        }
        if encounter:
            res["encounter"] = {"reference": f"urn:uuid:{encounter}"}
        return self._add(res)


@dataclass(frozen=True)
class Case:
    """One teaching case: how to build its bundle and what its sidecar says."""

    file: str
    build: Callable[[], StagedBuilder]
    meta: dict[str, Any]


def demo_identifier(n: int) -> list[dict[str, str]]:
    return [{"system": "urn:osler:demo", "value": f"DEMO-{n:04d}"}]


def fictional_address(line: str, city: str) -> list[dict[str, Any]]:
    return [{"line": [line], "city": city, "country": "Fictionland"}]


# --- the cases ------------------------------------------------------------------------


def pulmonary_embolism() -> StagedBuilder:
    """Demo patient: post-operative pleuritic chest pain, tachycardia and hypoxaemia."""
    b = StagedBuilder("demo-chest-pain")
    b.patient("Walter", "Demo", "male", "1967-09-12",
              identifier=[{"system": "urn:osler:demo", "value": "DEMO-0001"}])
    b.stage = "history"
    b.condition("2012-05-03", "38341003", "Essential hypertension")
    b.medication("2012-05-03", "314076", "lisinopril 10 MG Oral Tablet", dosage="10 mg daily")
    b.vital("2023-11-02T10:00:00+00:00", "8867-4", "Heart rate", 72, "/min")
    b.blood_pressure("2023-11-02T10:00:00+00:00", 134, 84)
    surgery = b.encounter("2024-02-20T07:00:00+00:00", "2024-02-23T12:00:00+00:00",
                          "Admission for knee replacement", cls="IMP", snomed="32485007")
    b.procedure("2024-02-20T09:00:00+00:00", "609588000", "Total knee replacement")
    b.note("2024-02-23T11:00:00+00:00",
           "Discharge summary. Uncomplicated right total knee replacement. Mobilising with a "
           "frame. Prophylactic anticoagulation stopped at discharge.",
           title="Discharge summary", loinc="18842-5", encounter=surgery)
    b.stage = "presentation"
    ed = b.encounter("2024-03-04T14:00:00+00:00", None, "Emergency department visit",
                     cls="EMER", snomed="50849002")
    t = "2024-03-04T14:10:00+00:00"
    b.note("2024-03-04T14:05:00+00:00",
           "Chief complaint: sudden shortness of breath since this morning. Sharp chest pain on "
           "the right, worse on deep breathing. Coughed up a little blood once. Right calf "
           "swollen and painful since yesterday. Denies fever. No orthopnoea. Not wheezing.",
           title="Triage note", loinc="34111-5", encounter=ed)
    b.stage = "exam"
    b.vital(t, "8867-4", "Heart rate", 118, "/min", encounter=ed)
    b.vital(t, "9279-1", "Respiratory rate", 26, "/min", encounter=ed)
    b.vital(t, "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", 89, "%",
            encounter=ed)
    b.vital(t, "8310-5", "Body temperature", 37.4, "Cel", encounter=ed)
    b.blood_pressure(t, 108, 70, encounter=ed)
    b.stage = "labs"
    lab = "2024-03-04T15:00:00+00:00"
    b.observation(lab, "48065-7", "Fibrin D-dimer FEU [Mass/volume] in Platelet poor plasma",
                  2.9, "mg/L", low=0, high=0.5, encounter=ed)
    b.observation(lab, "6690-2", "Leukocytes [#/volume] in Blood", 9.8, "10*3/uL", low=4.0,
                  high=10.5, encounter=ed)
    b.observation(lab, "718-7", "Hemoglobin [Mass/volume] in Blood", 13.9, "g/dL", low=13.5,
                  high=17.5, encounter=ed)
    b.observation(lab, "89579-7", "Troponin I.cardiac [Mass/volume] in Serum or Plasma by "
                  "High sensitivity method", 22, "ng/L", low=0, high=20, encounter=ed)
    return b


def inferior_stemi() -> StagedBuilder:
    """Crushing central chest pain at rest in a smoker with diabetes."""
    b = StagedBuilder("teach-chest-pain-smoker")
    b.patient("Harold", "Example", "male", "1966-05-19", identifier=demo_identifier(2),
              address=fictional_address("12 Sample Road", "Testbury"))
    b.stage = "history"
    b.condition("2015-03-10", "44054006", "Diabetes mellitus type 2")
    b.condition("2018-07-22", "55822004", "Hyperlipidemia")
    b.medication("2015-03-10", "860975", "metformin 500 MG Oral Tablet",
                 dosage="1000 mg twice daily")
    b.medication("2018-07-22", "617312", "atorvastatin 20 MG Oral Tablet", dosage="20 mg nightly")
    b.observation("2024-01-15T09:00:00+00:00", "72166-2", "Tobacco smoking status",
                  "Current every day smoker", category="social-history")
    b.observation("2024-01-15T09:00:00+00:00", "4548-4", "Hemoglobin A1c/Hemoglobin.total in "
                  "Blood", 8.1, "%", low=4.0, high=5.6)
    b.stage = "presentation"
    ed = b.encounter("2024-06-11T07:40:00+00:00", None, "Emergency department visit",
                     cls="EMER", snomed="50849002")
    b.note("2024-06-11T07:45:00+00:00",
           "Chief complaint: central chest pain for 50 minutes, crushing, radiating to the left "
           "arm and jaw, started at rest while reading. Sweating and nauseated. Denies fever. "
           "No cough.", title="Triage note", loinc="34111-5", encounter=ed)
    b.stage = "history"
    b.note("2024-06-11T07:55:00+00:00",
           "History of presenting complaint: constant pressure-like pain, 8 out of 10, not "
           "pleuritic and not positional. Short of breath with the pain. No recent surgery or "
           "long journey. No leg swelling. No tearing pain through to the back. Smokes 20 "
           "cigarettes a day for 35 years. Father had a heart attack at 52. Type 2 diabetes "
           "and high cholesterol on metformin and atorvastatin.",
           title="History note", loinc="10164-2", encounter=ed)
    b.stage = "exam"
    t = "2024-06-11T07:50:00+00:00"
    b.vital(t, "8867-4", "Heart rate", 102, "/min", encounter=ed)
    b.blood_pressure(t, 148, 92, encounter=ed)
    b.vital(t, "9279-1", "Respiratory rate", 20, "/min", encounter=ed)
    b.vital(t, "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", 96, "%",
            encounter=ed)
    b.vital(t, "8310-5", "Body temperature", 36.8, "Cel", encounter=ed)
    b.note("2024-06-11T08:00:00+00:00",
           "Examination: pale, clammy and anxious. Heart sounds normal, no murmur. Chest clear. "
           "Blood pressure equal in both arms. No calf tenderness. No abdominal tenderness.",
           title="Physical examination note", loinc="29545-1", encounter=ed)
    b.stage = "labs"
    lab = "2024-06-11T08:30:00+00:00"
    b.observation(lab, "89579-7", "Troponin I.cardiac [Mass/volume] in Serum or Plasma by "
                  "High sensitivity method", 1450, "ng/L", low=0, high=20, encounter=ed)
    b.observation(lab, "2345-7", "Glucose [Mass/volume] in Serum or Plasma", 212, "mg/dL",
                  low=70, high=99, encounter=ed)
    b.observation(lab, "2823-3", "Potassium [Moles/volume] in Serum or Plasma", 4.1, "mmol/L",
                  low=3.5, high=5.1, encounter=ed)
    b.observation(lab, "2160-0", "Creatinine [Mass/volume] in Serum or Plasma", 1.0, "mg/dL",
                  low=0.7, high=1.3, encounter=ed)
    b.observation(lab, "6690-2", "Leukocytes [#/volume] in Blood", 11.2, "10*3/uL", low=4.0,
                  high=10.5, encounter=ed)
    b.observation(lab, "718-7", "Hemoglobin [Mass/volume] in Blood", 14.8, "g/dL", low=13.5,
                  high=17.5, encounter=ed)
    b.stage = "imaging"
    b.report("2024-06-11T07:52:00+00:00", "11524-6", "ECG report",
             "Sinus tachycardia 102/min. ST elevation of 3 mm in leads II, III and aVF with "
             "reciprocal changes in I and aVL.", encounter=ed, category="EC")
    b.report("2024-06-11T08:20:00+00:00", "36643-5", "Chest X-ray report",
             "Lungs clear. Normal heart size. Mediastinum not widened. No pneumothorax.",
             encounter=ed)
    return b


def subarachnoid() -> StagedBuilder:
    """Sudden occipital headache on exertion."""
    b = StagedBuilder("teach-sudden-headache")
    b.patient("Maria", "Sample", "female", "1980-02-03", identifier=demo_identifier(3),
              address=fictional_address("4 Placeholder Lane", "Mocktown"))
    b.stage = "history"
    b.condition("2019-04-02", "38341003", "Essential hypertension")
    b.medication("2019-04-02", "197361", "amlodipine 5 MG Oral Tablet", dosage="5 mg daily")
    b.observation("2024-02-01T09:00:00+00:00", "72166-2", "Tobacco smoking status",
                  "Current some day smoker", category="social-history")
    b.stage = "presentation"
    ed = b.encounter("2024-09-14T16:20:00+00:00", None, "Emergency department visit",
                     cls="EMER", snomed="50849002")
    b.note("2024-09-14T16:25:00+00:00",
           "Chief complaint: sudden severe headache at the back of the head that began while "
           "lifting boxes an hour ago, the worst headache of her life, at its worst within a "
           "minute. Vomited twice.", title="Triage note", loinc="34111-5", encounter=ed)
    b.stage = "history"
    b.note("2024-09-14T16:40:00+00:00",
           "History: no previous headaches like this; occasional mild tension headaches. Felt "
           "faint at onset but did not lose consciousness. No head injury. No fever. No recent "
           "infection. Neck feels stiff. Light hurts her eyes. Takes amlodipine for high blood "
           "pressure; smokes a few cigarettes a day. Her mother died of a brain bleed at 50.",
           title="History note", loinc="10164-2", encounter=ed)
    b.stage = "exam"
    t = "2024-09-14T16:30:00+00:00"
    b.vital(t, "8867-4", "Heart rate", 88, "/min", encounter=ed)
    b.blood_pressure(t, 178, 98, encounter=ed)
    b.vital(t, "8310-5", "Body temperature", 37.2, "Cel", encounter=ed)
    b.vital(t, "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", 98, "%",
            encounter=ed)
    b.vital(t, "9269-2", "Glasgow coma score total", 14, "{score}", encounter=ed)
    b.note("2024-09-14T16:50:00+00:00",
           "Examination: GCS 14 (E4 V4 M6), photophobic, neck stiffness on flexion. Pupils "
           "equal and reactive. No focal weakness, no facial droop, speech normal. No rash. "
           "No papilloedema.", title="Physical examination note", loinc="29545-1",
           encounter=ed)
    b.stage = "labs"
    lab = "2024-09-14T17:00:00+00:00"
    b.observation(lab, "6690-2", "Leukocytes [#/volume] in Blood", 9.1, "10*3/uL", low=4.0,
                  high=10.5, encounter=ed)
    b.observation(lab, "718-7", "Hemoglobin [Mass/volume] in Blood", 13.2, "g/dL", low=12.0,
                  high=15.5, encounter=ed)
    b.observation(lab, "777-3", "Platelets [#/volume] in Blood", 256, "10*3/uL", low=150,
                  high=400, encounter=ed)
    b.observation(lab, "6301-6", "INR in Platelet poor plasma by Coagulation assay", 1.0,
                  "{INR}", low=0.8, high=1.2, encounter=ed)
    b.observation(lab, "2951-2", "Sodium [Moles/volume] in Serum or Plasma", 138, "mmol/L",
                  low=135, high=145, encounter=ed)
    b.stage = "imaging"
    b.report("2024-09-14T17:20:00+00:00", "24725-4", "CT head report",
             "Non-contrast CT head: hyperdense blood in the basal cisterns and both Sylvian "
             "fissures, consistent with acute subarachnoid haemorrhage. No hydrocephalus. No "
             "mass lesion.", encounter=ed)
    return b


def meningitis() -> StagedBuilder:
    """Fever, headache and drowsiness in a student."""
    b = StagedBuilder("teach-fever-headache-student")
    b.patient("Sam", "Mockperson", "male", "2005-10-07", identifier=demo_identifier(4),
              address=fictional_address("Room 12, Example Halls", "Unitown"))
    b.stage = "presentation"
    ed = b.encounter("2025-01-21T03:10:00+00:00", None, "Emergency department visit",
                     cls="EMER", snomed="50849002")
    b.note("2025-01-21T03:15:00+00:00",
           "Chief complaint: headache and fever since yesterday evening, now vomiting, and the "
           "light hurts his eyes. His flatmate found him drowsy and confused.",
           title="Triage note", loinc="34111-5", encounter=ed)
    b.stage = "history"
    b.note("2025-01-21T03:30:00+00:00",
           "History from the flatmate: first-year student living in halls. Well until "
           "yesterday. Unsure of his vaccinations. No recent travel. No head injury. No cough, "
           "no sore throat, no urinary symptoms, no diarrhoea. No known sick contacts. No "
           "drugs or alcohol last night.", title="History note", loinc="10164-2",
           encounter=ed)
    b.stage = "exam"
    t = "2025-01-21T03:20:00+00:00"
    b.vital(t, "8310-5", "Body temperature", 39.4, "Cel", encounter=ed)
    b.vital(t, "8867-4", "Heart rate", 126, "/min", encounter=ed)
    b.blood_pressure(t, 96, 58, encounter=ed)
    b.vital(t, "9279-1", "Respiratory rate", 24, "/min", encounter=ed)
    b.vital(t, "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", 96, "%",
            encounter=ed)
    b.note("2025-01-21T03:35:00+00:00",
           "Examination: drowsy, GCS 13, neck stiffness with a positive Kernig sign. "
           "Non-blanching purpuric rash on both legs. Cold hands and feet, capillary refill 4 "
           "seconds. No focal neurological signs. Chest clear.",
           title="Physical examination note", loinc="29545-1", encounter=ed)
    b.stage = "labs"
    lab = "2025-01-21T04:00:00+00:00"
    b.observation(lab, "6690-2", "Leukocytes [#/volume] in Blood", 21.4, "10*3/uL", low=4.0,
                  high=10.5, encounter=ed)
    b.observation(lab, "777-3", "Platelets [#/volume] in Blood", 98, "10*3/uL", low=150,
                  high=400, encounter=ed)
    b.observation(lab, "1988-5", "C reactive protein [Mass/volume] in Serum or Plasma", 186,
                  "mg/L", low=0, high=5, encounter=ed)
    b.observation(lab, "2524-7", "Lactate [Moles/volume] in Serum or Plasma", 3.8, "mmol/L",
                  low=0.5, high=2.2, encounter=ed)
    b.observation(lab, "2160-0", "Creatinine [Mass/volume] in Serum or Plasma", 1.2, "mg/dL",
                  low=0.7, high=1.3, encounter=ed)
    csf = "2025-01-21T05:30:00+00:00"
    b.observation(csf, "806-0", "Leukocytes [#/volume] in Cerebral spinal fluid by Manual "
                  "count", 1850, "/uL", low=0, high=5, encounter=ed)
    b.observation(csf, "2342-4", "Glucose [Mass/volume] in Cerebral spinal fluid", 22, "mg/dL",
                  low=40, high=70, encounter=ed)
    b.observation(csf, "2880-3", "Protein [Mass/volume] in Cerebral spinal fluid", 240,
                  "mg/dL", low=15, high=45, encounter=ed)
    b.observation(csf, "664-3", "Microscopic observation [Identifier] in Cerebral spinal fluid "
                  "by Gram stain", "Gram-negative diplococci seen", encounter=ed)
    b.stage = "imaging"
    b.report("2025-01-21T05:00:00+00:00", "24725-4", "CT head report",
             "Non-contrast CT head before lumbar puncture: no mass, no haemorrhage, no "
             "hydrocephalus, no signs of raised intracranial pressure.", encounter=ed)
    return b


def appendicitis() -> StagedBuilder:
    """Abdominal pain moving to the right lower side in a young man."""
    b = StagedBuilder("teach-abdominal-pain-young-man")
    b.patient("Leo", "Fakename", "male", "2002-08-15", identifier=demo_identifier(5))
    b.stage = "presentation"
    ed = b.encounter("2024-10-05T22:15:00+00:00", None, "Emergency department visit",
                     cls="EMER", snomed="50849002")
    b.note("2024-10-05T22:20:00+00:00",
           "Chief complaint: abdominal pain since this morning that started around the belly "
           "button and has moved to the right lower abdomen. Off his food, nauseated, vomited "
           "once.", title="Triage note", loinc="34111-5", encounter=ed)
    b.stage = "history"
    b.note("2024-10-05T22:35:00+00:00",
           "History: pain worse with movement. No diarrhoea, no blood in the stool. "
           "No pain passing urine, no blood in the urine. No testicular pain. No previous "
           "abdominal surgery and no similar episodes. No regular medicines.",
           title="History note", loinc="10164-2", encounter=ed)
    b.stage = "exam"
    t = "2024-10-05T22:25:00+00:00"
    b.vital(t, "8310-5", "Body temperature", 38.0, "Cel", encounter=ed)
    b.vital(t, "8867-4", "Heart rate", 104, "/min", encounter=ed)
    b.blood_pressure(t, 124, 78, encounter=ed)
    b.vital(t, "9279-1", "Respiratory rate", 18, "/min", encounter=ed)
    b.note("2024-10-05T22:45:00+00:00",
           "Examination: tender in the right lower quadrant with guarding and rebound "
           "tenderness; pain in the right lower quadrant when the left side is pressed. Bowel "
           "sounds present. Testes normal.", title="Physical examination note",
           loinc="29545-1", encounter=ed)
    b.stage = "labs"
    lab = "2024-10-05T23:10:00+00:00"
    b.observation(lab, "6690-2", "Leukocytes [#/volume] in Blood", 15.1, "10*3/uL", low=4.0,
                  high=10.5, encounter=ed)
    b.observation(lab, "751-8", "Neutrophils [#/volume] in Blood by Automated count", 12.6,
                  "10*3/uL", low=1.8, high=7.7, encounter=ed)
    b.observation(lab, "1988-5", "C reactive protein [Mass/volume] in Serum or Plasma", 48,
                  "mg/L", low=0, high=5, encounter=ed)
    b.observation(lab, "3040-3", "Lipase [Enzymatic activity/volume] in Serum or Plasma", 32,
                  "U/L", low=10, high=60, encounter=ed)
    b.observation(lab, "5799-2", "Leukocyte esterase [Presence] in Urine by Test strip",
                  "Negative", encounter=ed)
    b.observation(lab, "5802-4", "Nitrite [Presence] in Urine by Test strip", "Negative",
                  encounter=ed)
    b.stage = "imaging"
    b.report("2024-10-06T00:10:00+00:00", "24558-9", "CT abdomen and pelvis report",
             "CT abdomen and pelvis with contrast: dilated appendix 11 mm with wall enhancement "
             "and periappendiceal fat stranding. No abscess, no free gas.", encounter=ed)
    return b


def ectopic() -> StagedBuilder:
    """Lower abdominal pain and spotting with a late period."""
    b = StagedBuilder("teach-pelvic-pain-spotting")
    b.patient("Anna", "Testwoman", "female", "1995-03-28", identifier=demo_identifier(6),
              address=fictional_address("9 Imaginary Street", "Nowhere"))
    b.stage = "history"
    b.condition("2019-05-14", "105629000", "Chlamydial infection", active=False)
    b.stage = "presentation"
    ed = b.encounter("2024-11-18T10:30:00+00:00", None, "Emergency department visit",
                     cls="EMER", snomed="50849002")
    b.note("2024-11-18T10:35:00+00:00",
           "Chief complaint: pain in the left lower abdomen for two days, worse today, with "
           "light vaginal bleeding. Felt dizzy when she stood up this morning.",
           title="Triage note", loinc="34111-5", encounter=ed)
    b.stage = "history"
    b.note("2024-11-18T10:50:00+00:00",
           "History: last menstrual period 7 weeks ago, cycles usually regular. Not using "
           "contraception. Treated for chlamydia in 2019. Pain in the tip of the left shoulder "
           "since this morning. No fever. No pain passing urine. No vomiting, no diarrhoea.",
           title="History note", loinc="10164-2", encounter=ed)
    b.stage = "exam"
    t = "2024-11-18T10:40:00+00:00"
    b.vital(t, "8867-4", "Heart rate", 112, "/min", encounter=ed)
    b.blood_pressure(t, 98, 60, encounter=ed)
    b.vital(t, "8310-5", "Body temperature", 36.9, "Cel", encounter=ed)
    b.vital(t, "9279-1", "Respiratory rate", 20, "/min", encounter=ed)
    b.note("2024-11-18T11:00:00+00:00",
           "Examination: pale. Tender in the left lower abdomen with guarding. Speculum: small "
           "amount of blood, cervical os closed. Cervical motion tenderness on the left.",
           title="Physical examination note", loinc="29545-1", encounter=ed)
    b.stage = "labs"
    lab = "2024-11-18T11:15:00+00:00"
    b.observation(lab, "2106-3", "Choriogonadotropin (pregnancy test) [Presence] in Urine",
                  "Positive", encounter=ed)
    b.observation(lab, "21198-7", "Choriogonadotropin.beta subunit [Units/volume] in Serum or "
                  "Plasma", 2100, "[IU]/L", low=0, high=5, encounter=ed)
    b.observation(lab, "718-7", "Hemoglobin [Mass/volume] in Blood", 10.4, "g/dL", low=12.0,
                  high=15.5, encounter=ed)
    b.observation(lab, "6690-2", "Leukocytes [#/volume] in Blood", 9.0, "10*3/uL", low=4.0,
                  high=10.5, encounter=ed)
    b.stage = "imaging"
    b.report("2024-11-18T12:00:00+00:00", "30707-4", "Transvaginal ultrasound report",
             "Transvaginal ultrasound: no intrauterine pregnancy. A 3 cm left adnexal mass "
             "separate from the ovary with a tubal ring. Moderate free fluid in the pouch of "
             "Douglas.", encounter=ed)
    return b


def dka() -> StagedBuilder:
    """Vomiting, thirst and fast breathing in a young woman with type 1 diabetes."""
    b = StagedBuilder("teach-vomiting-thirst")
    b.patient("Jo", "Exampleton", "female", "2006-06-02", identifier=demo_identifier(7))
    b.stage = "history"
    b.condition("2017-09-01", "46635009", "Diabetes mellitus type 1")
    b.medication("2017-09-01", "274783", "insulin glargine 100 UNT/ML Injectable Solution",
                 dosage="18 units at night")
    b.medication("2017-09-01", "311034", "insulin aspart 100 UNT/ML Injectable Solution",
                 dosage="with meals by carbohydrate count")
    b.stage = "presentation"
    ed = b.encounter("2025-02-08T09:00:00+00:00", None, "Emergency department visit",
                     cls="EMER", snomed="50849002")
    b.note("2025-02-08T09:05:00+00:00",
           "Chief complaint: vomiting since yesterday and tummy pain. Very thirsty and "
           "passing a lot of urine. Feels short of breath.",
           title="Triage note", loinc="34111-5", encounter=ed)
    b.stage = "history"
    b.note("2025-02-08T09:20:00+00:00",
           "History: type 1 diabetes since age 11. Has had a cold for three days and stopped "
           "her insulin because she was not eating. No diarrhoea. No pain passing urine. No "
           "chest pain. Has lost weight this week.",
           title="History note", loinc="10164-2", encounter=ed)
    b.stage = "exam"
    t = "2025-02-08T09:10:00+00:00"
    b.vital(t, "8867-4", "Heart rate", 122, "/min", encounter=ed)
    b.blood_pressure(t, 104, 62, encounter=ed)
    b.vital(t, "9279-1", "Respiratory rate", 30, "/min", encounter=ed)
    b.vital(t, "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", 99, "%",
            encounter=ed)
    b.vital(t, "8310-5", "Body temperature", 37.1, "Cel", encounter=ed)
    b.note("2025-02-08T09:30:00+00:00",
           "Examination: dry mouth and sunken eyes. Deep, sighing breathing; fruity smell on "
           "the breath. Mild tenderness all over the abdomen without guarding. Drowsy but "
           "oriented.", title="Physical examination note", loinc="29545-1", encounter=ed)
    b.stage = "labs"
    lab = "2025-02-08T09:25:00+00:00"
    b.observation(lab, "2345-7", "Glucose [Mass/volume] in Serum or Plasma", 486, "mg/dL",
                  low=70, high=99, encounter=ed)
    b.observation(lab, "2746-6", "pH of Venous blood", 7.08, "[pH]", low=7.32, high=7.42,
                  encounter=ed)
    b.observation(lab, "1963-8", "Bicarbonate [Moles/volume] in Serum or Plasma", 8, "mmol/L",
                  low=22, high=29, encounter=ed)
    b.observation(lab, "53060-9", "Beta hydroxybutyrate [Moles/volume] in Blood", 5.8,
                  "mmol/L", low=0, high=0.6, encounter=ed)
    b.observation(lab, "2823-3", "Potassium [Moles/volume] in Serum or Plasma", 5.6, "mmol/L",
                  low=3.5, high=5.1, encounter=ed)
    b.observation(lab, "2951-2", "Sodium [Moles/volume] in Serum or Plasma", 131, "mmol/L",
                  low=135, high=145, encounter=ed)
    b.observation(lab, "2160-0", "Creatinine [Mass/volume] in Serum or Plasma", 1.3, "mg/dL",
                  low=0.5, high=1.1, encounter=ed)
    b.observation(lab, "6690-2", "Leukocytes [#/volume] in Blood", 14.2, "10*3/uL", low=4.0,
                  high=10.5, encounter=ed)
    b.observation(lab, "2514-8", "Ketones [Presence] in Urine by Test strip", "3+",
                  encounter=ed)
    b.stage = "imaging"
    b.report("2025-02-08T10:00:00+00:00", "36643-5", "Chest X-ray report",
             "Chest X-ray: lungs clear, no consolidation, no pneumothorax.", encounter=ed)
    return b


def intussusception() -> StagedBuilder:
    """Episodes of inconsolable crying and vomiting in an infant."""
    b = StagedBuilder("teach-crying-infant")
    b.patient("Toby", "Specimen", "male", "2024-01-10", identifier=demo_identifier(8),
              address=fictional_address("3 Nursery Close", "Littleton"))
    b.stage = "history"
    b.immunization("2024-03-10", "20", "DTaP")
    b.immunization("2024-05-10", "20", "DTaP")
    b.immunization("2024-07-10", "20", "DTaP")
    b.stage = "presentation"
    ed = b.encounter("2024-10-15T19:00:00+00:00", None, "Emergency department visit",
                     cls="EMER", snomed="50849002")
    b.note("2024-10-15T19:05:00+00:00",
           "Chief complaint: since this afternoon, episodes of colicky abdominal pain every 15 "
           "to 20 minutes: inconsolable crying, drawing his legs up, pale and floppy in "
           "between. Vomited three times, the last one green.", title="Triage note",
           loinc="34111-5", encounter=ed)
    b.stage = "history"
    b.note("2024-10-15T19:20:00+00:00",
           "History from the parents: 9-month-old boy, previously well, immunisations up to "
           "date. Had a cold last week. This evening passed a redcurrant jelly stool: blood "
           "in the stool mixed with mucus. No fever. No rash. Feeding poorly today.",
           title="History note", loinc="10164-2", encounter=ed)
    b.stage = "exam"
    t = "2024-10-15T19:10:00+00:00"
    b.vital(t, "8867-4", "Heart rate", 168, "/min", encounter=ed)
    b.vital(t, "8310-5", "Body temperature", 37.4, "Cel", encounter=ed)
    b.vital(t, "9279-1", "Respiratory rate", 38, "/min", encounter=ed)
    b.vital(t, "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", 99, "%",
            encounter=ed)
    b.note("2024-10-15T19:30:00+00:00",
           "Examination: lethargic between episodes. Sausage-shaped mass in the right upper "
           "abdomen. Abdomen mildly distended. Nappy holds blood-stained mucus. No hernia, "
           "testes descended.", title="Physical examination note", loinc="29545-1",
           encounter=ed)
    b.stage = "labs"
    lab = "2024-10-15T19:45:00+00:00"
    b.observation(lab, "6690-2", "Leukocytes [#/volume] in Blood", 13.1, "10*3/uL", low=6.0,
                  high=17.5, encounter=ed)
    b.observation(lab, "2951-2", "Sodium [Moles/volume] in Serum or Plasma", 134, "mmol/L",
                  low=135, high=145, encounter=ed)
    b.observation(lab, "2345-7", "Glucose [Mass/volume] in Serum or Plasma", 88, "mg/dL",
                  low=70, high=110, encounter=ed)
    b.stage = "imaging"
    b.report("2024-10-15T20:15:00+00:00", "24531-6", "Abdominal ultrasound report",
             "Ultrasound abdomen: target sign in the right upper quadrant, an ileocolic "
             "intussusception 3.5 cm across. No free fluid.", encounter=ed)
    return b


def pneumonia() -> StagedBuilder:
    """Productive cough, fever and pleuritic pain in an older man."""
    b = StagedBuilder("teach-cough-fever-older-man")
    b.patient("Frank", "Notreal", "male", "1956-04-22", identifier=demo_identifier(9))
    b.stage = "history"
    b.condition("2010-01-12", "38341003", "Essential hypertension")
    b.medication("2010-01-12", "314076", "lisinopril 10 MG Oral Tablet", dosage="10 mg daily")
    b.observation("2024-05-01T09:00:00+00:00", "72166-2", "Tobacco smoking status",
                  "Former smoker", category="social-history")
    b.immunization("2023-10-05", "140", "Influenza, seasonal, injectable")
    b.stage = "presentation"
    ed = b.encounter("2024-12-03T11:00:00+00:00", None, "Emergency department visit",
                     cls="EMER", snomed="50849002")
    b.note("2024-12-03T11:05:00+00:00",
           "Chief complaint: cough with green sputum for four days, fever and shivers, and "
           "pain on the right side of the chest when breathing in.",
           title="Triage note", loinc="34111-5", encounter=ed)
    b.stage = "history"
    b.note("2024-12-03T11:20:00+00:00",
           "History: short of breath on the stairs since yesterday. No coughing up blood. No "
           "leg swelling. No recent travel, surgery or immobility. Stopped smoking ten years "
           "ago. Takes lisinopril for blood pressure.",
           title="History note", loinc="10164-2", encounter=ed)
    b.stage = "exam"
    t = "2024-12-03T11:10:00+00:00"
    b.vital(t, "8310-5", "Body temperature", 38.9, "Cel", encounter=ed)
    b.vital(t, "8867-4", "Heart rate", 104, "/min", encounter=ed)
    b.vital(t, "9279-1", "Respiratory rate", 24, "/min", encounter=ed)
    b.vital(t, "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", 92, "%",
            encounter=ed)
    b.blood_pressure(t, 132, 80, encounter=ed)
    b.note("2024-12-03T11:30:00+00:00",
           "Examination: crackles and bronchial breathing at the right base, dull to "
           "percussion. No wheeze. Calves soft and not tender. Alert and oriented.",
           title="Physical examination note", loinc="29545-1", encounter=ed)
    b.stage = "labs"
    lab = "2024-12-03T12:00:00+00:00"
    b.observation(lab, "6690-2", "Leukocytes [#/volume] in Blood", 16.8, "10*3/uL", low=4.0,
                  high=10.5, encounter=ed)
    b.observation(lab, "1988-5", "C reactive protein [Mass/volume] in Serum or Plasma", 165,
                  "mg/L", low=0, high=5, encounter=ed)
    b.observation(lab, "3094-0", "Urea nitrogen [Mass/volume] in Serum or Plasma", 25, "mg/dL",
                  low=7, high=20, encounter=ed)
    b.observation(lab, "2951-2", "Sodium [Moles/volume] in Serum or Plasma", 136, "mmol/L",
                  low=135, high=145, encounter=ed)
    b.stage = "imaging"
    b.report("2024-12-03T12:30:00+00:00", "36643-5", "Chest X-ray report",
             "Chest X-ray: right lower lobe consolidation with air bronchograms. No effusion. "
             "No pneumothorax.", encounter=ed)
    return b


def urosepsis() -> StagedBuilder:
    """New confusion and shivering in an older woman."""
    b = StagedBuilder("teach-confused-older-woman")
    b.patient("Edna", "Placeholder", "female", "1944-07-09", identifier=demo_identifier(10),
              address=fictional_address("27 Model Avenue", "Sampleford"))
    b.stage = "history"
    b.condition("2008-03-03", "44054006", "Diabetes mellitus type 2")
    b.condition("2006-06-06", "38341003", "Essential hypertension")
    b.condition("2021-11-20", "386805003", "Mild cognitive disorder")
    b.medication("2008-03-03", "860975", "metformin 500 MG Oral Tablet",
                 dosage="500 mg twice daily")
    b.medication("2006-06-06", "197361", "amlodipine 5 MG Oral Tablet", dosage="5 mg daily")
    b.stage = "presentation"
    ed = b.encounter("2025-03-02T08:30:00+00:00", None, "Emergency department visit",
                     cls="EMER", snomed="50849002")
    b.note("2025-03-02T08:35:00+00:00",
           "Chief complaint: brought in by her daughter; more confused than usual since "
           "yesterday, not eating, shivering during the night.",
           title="Triage note", loinc="34111-5", encounter=ed)
    b.stage = "history"
    b.note("2025-03-02T08:50:00+00:00",
           "History from the daughter: normally walks with a stick and chats. For three days "
           "passing urine often, strong-smelling, and complained of burning when passing "
           "urine. No cough. No chest pain. No diarrhoea. No headache. No falls.",
           title="History note", loinc="10164-2", encounter=ed)
    b.stage = "exam"
    t = "2025-03-02T08:40:00+00:00"
    b.vital(t, "8310-5", "Body temperature", 38.7, "Cel", encounter=ed)
    b.vital(t, "8867-4", "Heart rate", 118, "/min", encounter=ed)
    b.blood_pressure(t, 84, 50, encounter=ed)
    b.vital(t, "9279-1", "Respiratory rate", 26, "/min", encounter=ed)
    b.vital(t, "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", 94, "%",
            encounter=ed)
    b.note("2025-03-02T09:00:00+00:00",
           "Examination: drowsy and confused, abbreviated mental test 4 out of 10. Warm "
           "peripheries. Tender above the pubic bone. Chest clear. No rash. No neck "
           "stiffness.", title="Physical examination note", loinc="29545-1", encounter=ed)
    b.stage = "labs"
    lab = "2025-03-02T09:15:00+00:00"
    b.observation(lab, "6690-2", "Leukocytes [#/volume] in Blood", 19.6, "10*3/uL", low=4.0,
                  high=10.5, encounter=ed)
    b.observation(lab, "1988-5", "C reactive protein [Mass/volume] in Serum or Plasma", 212,
                  "mg/L", low=0, high=5, encounter=ed)
    b.observation(lab, "2524-7", "Lactate [Moles/volume] in Serum or Plasma", 4.2, "mmol/L",
                  low=0.5, high=2.2, encounter=ed)
    b.observation(lab, "2160-0", "Creatinine [Mass/volume] in Serum or Plasma", 2.1, "mg/dL",
                  low=0.5, high=1.1, encounter=ed)
    b.observation(lab, "777-3", "Platelets [#/volume] in Blood", 112, "10*3/uL", low=150,
                  high=400, encounter=ed)
    b.observation(lab, "5799-2", "Leukocyte esterase [Presence] in Urine by Test strip",
                  "Positive", encounter=ed)
    b.observation(lab, "5802-4", "Nitrite [Presence] in Urine by Test strip", "Positive",
                  encounter=ed)
    b.stage = "imaging"
    b.report("2025-03-02T09:45:00+00:00", "36643-5", "Chest X-ray report",
             "Chest X-ray: lungs clear. No consolidation, no effusion.", encounter=ed)
    return b


def graves() -> StagedBuilder:
    """Palpitations, weight loss and heat intolerance in a young woman."""
    b = StagedBuilder("teach-weight-loss-palpitations")
    b.patient("Rosa", "Invented", "female", "1991-12-12", identifier=demo_identifier(11))
    b.stage = "history"
    b.vital("2024-06-01T09:00:00+00:00", "29463-7", "Body weight", 60, "kg")
    b.stage = "presentation"
    gp = b.encounter("2025-04-10T14:00:00+00:00", "2025-04-10T14:30:00+00:00",
                     "General practice consultation", cls="AMB", snomed="185345009")
    b.note("2025-04-10T14:05:00+00:00",
           "Presenting complaint: palpitations, weight loss of 6 kg over three months despite a "
           "good appetite, and feeling hot and sweaty when others are cold.",
           title="Presenting complaint", loinc="10154-3", encounter=gp)
    b.stage = "history"
    b.note("2025-04-10T14:10:00+00:00",
           "History: feels anxious and on edge, sleeping poorly, loose stools more often, "
           "scanty periods. Eyes feel gritty. No neck pain. Not pregnant, not recently "
           "pregnant. No amiodarone, no iodine contrast. Her mother has an underactive "
           "thyroid.",
           title="History note", loinc="10164-2", encounter=gp)
    b.stage = "exam"
    t = "2025-04-10T14:15:00+00:00"
    b.vital(t, "8867-4", "Heart rate", 112, "/min", encounter=gp)
    b.blood_pressure(t, 138, 64, encounter=gp)
    b.vital(t, "8310-5", "Body temperature", 37.3, "Cel", encounter=gp)
    b.vital(t, "29463-7", "Body weight", 54, "kg", encounter=gp)
    b.note("2025-04-10T14:20:00+00:00",
           "Examination: fine tremor of the outstretched hands, warm moist skin. Smooth, "
           "diffusely enlarged, non-tender goitre with a bruit. Lid lag and mild proptosis. "
           "Heart sounds normal, regular rhythm.", title="Physical examination note",
           loinc="29545-1", encounter=gp)
    b.stage = "labs"
    lab = "2025-04-11T09:00:00+00:00"
    b.observation(lab, "3016-3", "Thyrotropin [Units/volume] in Serum or Plasma", 0.01,
                  "m[IU]/L", low=0.4, high=4.0)
    b.observation(lab, "3024-7", "Thyroxine (T4) free [Mass/volume] in Serum or Plasma", 4.2,
                  "ng/dL", low=0.8, high=1.8)
    b.observation(lab, "30166-3", "Thyrotropin receptor Ab [Units/volume] in Serum", 8.5,
                  "[IU]/L", low=0, high=1.75)
    b.observation(lab, "718-7", "Hemoglobin [Mass/volume] in Blood", 13.0, "g/dL", low=12.0,
                  high=15.5)
    b.stage = "imaging"
    b.report("2025-04-14T10:00:00+00:00", "24842-7", "Thyroid ultrasound report",
             "Ultrasound thyroid: diffusely enlarged, hypervascular gland. No nodules.")
    return b


# --- sidecars ------------------------------------------------------------------------------

CASES: list[Case] = [
    Case("demo-chest-pain.json", pulmonary_embolism, {
        "id": "breathless-after-knee-surgery",
        "title": "Breathless after knee surgery",
        "summary": "56-year-old man, sudden breathlessness and chest pain two weeks after a "
                   "knee replacement",
        "specialty": "respiratory", "difficulty": "beginner",
        "now": "2024-03-04T15:30:00+00:00",
        "gold": {"name": "Pulmonary embolism", "icd10": ["I26.99"]},
        "teaching_notes": (
            "Recent major orthopaedic surgery with anticoagulation stopped at discharge, a "
            "swollen painful calf, pleuritic pain, haemoptysis, tachycardia and hypoxaemia "
            "with a clear story and no fever make pulmonary embolism the leading diagnosis. "
            "A raised D-dimer supports it but is non-specific after surgery; the mildly "
            "raised troponin signals right-heart strain rather than a primary coronary event. "
            "Confirm with CT pulmonary angiography; pneumonia, pneumothorax and acute coronary "
            "syndrome are the alternatives to exclude."),
        "objectives": [
            "Recognise the risk factors and features that raise the pre-test probability of "
            "pulmonary embolism.",
            "Interpret D-dimer and troponin in the context of recent surgery.",
            "Name the can't-miss alternatives for pleuritic chest pain with hypoxaemia.",
        ],
        "tags": ["can't miss", "chest pain", "post-operative"],
    }),
    Case("chest-pain-smoker.json", inferior_stemi, {
        "id": "crushing-chest-pain-at-rest",
        "title": "Crushing chest pain at rest",
        "summary": "58-year-old man who smokes, central chest pain and sweating for an hour",
        "specialty": "cardiology", "difficulty": "beginner",
        "now": "2024-06-11T08:45:00+00:00",
        "gold": {"name": "Acute myocardial infarction", "icd10": ["I21.19"]},
        "teaching_notes": (
            "Central crushing pain at rest radiating to arm and jaw, with sweating and nausea, "
            "in a smoker with diabetes and a family history is an acute coronary syndrome until "
            "proven otherwise. The ECG is the decisive early test: ST elevation in II, III and "
            "aVF with reciprocal change means an inferior STEMI and immediate reperfusion, "
            "without waiting for the troponin. Equal arm pressures, a normal mediastinum and "
            "no tearing back pain make aortic dissection less likely; the clear chest and "
            "normal oxygen saturation argue against pulmonary embolism."),
        "objectives": [
            "Take a focused chest-pain history that separates ischaemic from pleuritic pain.",
            "Recognise inferior ST elevation and reciprocal change on the ECG report.",
            "List the can't-miss causes of acute chest pain and the findings against each.",
        ],
        "tags": ["can't miss", "chest pain", "ECG"],
    }),
    Case("sudden-headache.json", subarachnoid, {
        "id": "sudden-severe-headache",
        "title": "Sudden severe headache",
        "summary": "44-year-old woman, sudden occipital headache while lifting, vomiting",
        "specialty": "neurology", "difficulty": "intermediate",
        "now": "2024-09-14T17:30:00+00:00",
        "gold": {"name": "Subarachnoid haemorrhage", "icd10": ["I60.9"]},
        "teaching_notes": (
            "A thunderclap headache (maximal within a minute), the worst ever, starting on "
            "exertion, with vomiting, photophobia and neck stiffness but no fever, is "
            "subarachnoid haemorrhage until imaging says otherwise. Hypertension, smoking and a "
            "first-degree relative with a brain bleed add to the risk. Migraine and tension "
            "headache never justify skipping the work-up of a first thunderclap headache; "
            "meningitis is the main alternative when there is fever. Non-contrast CT within "
            "six hours of onset is highly sensitive; after that, lumbar puncture for "
            "xanthochromia is needed if the CT is normal."),
        "objectives": [
            "Recognise the red flags of a thunderclap headache.",
            "Explain the roles and timing of CT head and lumbar puncture.",
            "Distinguish subarachnoid haemorrhage from meningitis and migraine at the bedside.",
        ],
        "tags": ["can't miss", "headache"],
    }),
    Case("fever-and-headache-student.json", meningitis, {
        "id": "febrile-drowsy-student",
        "title": "Febrile, drowsy student",
        "summary": "19-year-old student with fever, headache, vomiting and drowsiness",
        "specialty": "infectious disease", "difficulty": "intermediate",
        "now": "2025-01-21T06:00:00+00:00",
        "gold": {"name": "Bacterial meningitis", "icd10": ["G00.9"]},
        "teaching_notes": (
            "Fever, headache, photophobia, vomiting, neck stiffness and a reduced conscious "
            "level in a young adult living in shared accommodation, with a non-blanching "
            "purpuric rash, point to meningococcal disease: meningitis with septicaemia "
            "(hypotension, cold peripheries, raised lactate, low platelets). Antibiotics must "
            "not wait for imaging or the lumbar puncture. The CSF shows the bacterial pattern: "
            "very high neutrophil count, low glucose and high protein, with Gram-negative "
            "diplococci. Subarachnoid haemorrhage and encephalitis are the alternatives."),
        "objectives": [
            "Recognise meningism and the significance of a non-blanching rash.",
            "Interpret CSF findings: bacterial, viral and normal patterns.",
            "Prioritise immediate antibiotics over investigations in suspected meningococcal "
            "disease.",
        ],
        "tags": ["can't miss", "fever", "rash"],
    }),
    Case("abdominal-pain-young-man.json", appendicitis, {
        "id": "migrating-abdominal-pain",
        "title": "Abdominal pain that moved",
        "summary": "22-year-old man, abdominal pain since the morning, nausea and vomiting",
        "specialty": "surgery", "difficulty": "beginner",
        "now": "2024-10-06T00:30:00+00:00",
        "gold": {"name": "Appendicitis", "icd10": ["K35.80"]},
        "teaching_notes": (
            "Periumbilical pain migrating to the right lower quadrant, anorexia, nausea, "
            "low-grade fever, localised guarding with rebound and Rovsing's sign, and a "
            "neutrophil leucocytosis make acute appendicitis likely (a high Alvarado score). "
            "A normal urine dipstick and lipase, no diarrhoea and normal testes make "
            "urinary tract infection, stone, pancreatitis, gastroenteritis and testicular "
            "torsion less likely. Imaging confirms it in adults when the diagnosis is in doubt."),
        "objectives": [
            "Describe the classic migration of appendicitis pain and its examination signs.",
            "Use a clinical score (Alvarado) to weigh the probability of appendicitis.",
            "Name the alternative diagnoses for right lower quadrant pain in a young man.",
        ],
        "tags": ["can't miss", "abdominal pain"],
    }),
    Case("pelvic-pain-and-spotting.json", ectopic, {
        "id": "pelvic-pain-and-spotting",
        "title": "Pelvic pain and spotting",
        "summary": "29-year-old woman, two days of lower abdominal pain, light vaginal "
                   "bleeding, dizziness",
        "specialty": "obstetrics & gynaecology", "difficulty": "intermediate",
        "now": "2024-11-18T12:30:00+00:00",
        "gold": {"name": "Ectopic pregnancy", "icd10": ["O00.102"]},
        "teaching_notes": (
            "Any woman of reproductive age with abdominal pain needs a pregnancy test. "
            "Amenorrhoea of seven weeks, unilateral pelvic pain, vaginal spotting, a previous "
            "chlamydial infection, shoulder-tip pain (blood irritating the diaphragm), "
            "postural dizziness, tachycardia and a low haemoglobin are a ruptured or leaking "
            "ectopic pregnancy until proven otherwise. An empty uterus with an adnexal mass and "
            "free fluid at this hCG level confirms it. Miscarriage, ovarian torsion, ruptured "
            "ovarian cyst, appendicitis and pelvic inflammatory disease are the alternatives."),
        "objectives": [
            "Test for pregnancy in every woman of reproductive age with abdominal pain.",
            "Recognise the signs of haemodynamic compromise from intra-abdominal bleeding.",
            "Interpret hCG together with transvaginal ultrasound.",
        ],
        "tags": ["can't miss", "abdominal pain", "pregnancy"],
    }),
    Case("vomiting-and-thirst.json", dka, {
        "id": "vomiting-thirst-fast-breathing",
        "title": "Vomiting, thirst and fast breathing",
        "summary": "18-year-old woman with type 1 diabetes, vomiting and abdominal pain",
        "specialty": "endocrinology", "difficulty": "beginner",
        "now": "2025-02-08T10:15:00+00:00",
        "gold": {"name": "Diabetic ketoacidosis", "icd10": ["E10.10"]},
        "teaching_notes": (
            "Polyuria, polydipsia, vomiting, abdominal pain and deep sighing (Kussmaul) "
            "breathing in a young person with type 1 diabetes who stopped insulin during an "
            "intercurrent illness is diabetic ketoacidosis. The diagnosis needs all three: "
            "hyperglycaemia, ketonaemia (beta-hydroxybutyrate above 3 mmol/L) and acidosis "
            "(venous pH below 7.3 or bicarbonate below 15 mmol/L). Potassium is often high at "
            "presentation despite total-body depletion and falls with insulin. Look for the "
            "precipitant; abdominal pain usually settles with treatment, and if it does not, "
            "look for a surgical cause."),
        "objectives": [
            "State the diagnostic criteria of diabetic ketoacidosis.",
            "Explain why serum potassium can be high while the body is depleted.",
            "Identify common precipitants of DKA.",
        ],
        "tags": ["can't miss", "diabetes"],
    }),
    Case("crying-infant.json", intussusception, {
        "id": "infant-with-crying-episodes",
        "title": "Infant with crying episodes",
        "summary": "9-month-old boy, episodes of inconsolable crying and vomiting since the "
                   "afternoon",
        "specialty": "paediatrics", "difficulty": "intermediate",
        "now": "2024-10-15T20:30:00+00:00",
        "gold": {"name": "Intussusception", "icd10": ["K56.1"]},
        "teaching_notes": (
            "Paroxysms of colicky pain with the legs drawn up and pallor or lethargy between "
            "them, bilious vomiting, a sausage-shaped mass and a 'redcurrant jelly' stool in an "
            "infant between 6 and 18 months are intussusception; a preceding viral illness is "
            "common (lymphoid hyperplasia as a lead point). Bilious vomiting in an infant is a "
            "surgical emergency. Ultrasound shows the target sign; air or contrast enema "
            "reduces most cases. Gastroenteritis, volvulus and incarcerated hernia are the "
            "alternatives."),
        "objectives": [
            "Recognise the triad of intussusception and why the full triad is often absent.",
            "Treat bilious vomiting in an infant as a surgical emergency.",
            "Describe the ultrasound sign and the first-line treatment.",
        ],
        "tags": ["can't miss", "paediatrics", "vomiting"],
    }),
    Case("cough-and-fever-older-man.json", pneumonia, {
        "id": "cough-fever-pleuritic-pain",
        "title": "Cough, fever and pleuritic pain",
        "summary": "68-year-old man, four days of productive cough, fever and pain on "
                   "breathing",
        "specialty": "respiratory", "difficulty": "beginner",
        "now": "2024-12-03T13:00:00+00:00",
        "gold": {"name": "Community-acquired pneumonia", "icd10": ["J18.9"]},
        "teaching_notes": (
            "A productive cough, fever with rigors, pleuritic pain, focal crackles with "
            "bronchial breathing and dullness, a raised white count and CRP, and consolidation "
            "on the chest X-ray make community-acquired pneumonia. Severity matters as much as "
            "the diagnosis: with raised urea, a respiratory rate of 24 and age over 65 his "
            "CURB-65 is 3 (high severity). Pulmonary embolism can also give pleuritic pain, "
            "fever and hypoxaemia, so note the findings against it."),
        "objectives": [
            "Combine history, examination and X-ray findings to diagnose pneumonia.",
            "Calculate CURB-65 and use it to choose the place of care.",
            "Name the findings that argue against pulmonary embolism in this case.",
        ],
        "tags": ["cough", "fever"],
    }),
    Case("confused-older-woman.json", urosepsis, {
        "id": "confused-and-shivering",
        "title": "Confused and shivering",
        "summary": "80-year-old woman, more confused than usual since yesterday, shivering",
        "specialty": "infectious disease", "difficulty": "advanced",
        "now": "2025-03-02T10:00:00+00:00",
        "gold": {"name": "Sepsis", "icd10": ["A41.51"]},
        "teaching_notes": (
            "Acute confusion in an older person is a medical emergency with a cause to find. "
            "Here fever, rigors, urinary frequency and dysuria, suprapubic tenderness and a "
            "positive dipstick give the source; hypotension, tachycardia, tachypnoea, a lactate "
            "above 4 mmol/L, acute kidney injury and low platelets show organ dysfunction: "
            "sepsis (septic shock if hypotension persists after fluids) from a urinary source. "
            "A positive dipstick alone is not enough in older people; look for other sources "
            "(chest, abdomen, skin, meninges) and start the sepsis bundle within the hour."),
        "objectives": [
            "Recognise sepsis by organ dysfunction, not by infection alone.",
            "Approach acute confusion in an older person systematically.",
            "Know the limits of the urine dipstick in older adults.",
        ],
        "tags": ["can't miss", "confusion", "fever"],
    }),
    Case("weight-loss-and-palpitations.json", graves, {
        "id": "palpitations-and-weight-loss",
        "title": "Palpitations and weight loss",
        "summary": "33-year-old woman, palpitations, weight loss and heat intolerance",
        "specialty": "endocrinology", "difficulty": "beginner",
        "now": "2025-04-14T11:00:00+00:00",
        "gold": {"name": "Graves disease", "icd10": ["E05.00"]},
        "teaching_notes": (
            "Weight loss with a good appetite, heat intolerance, palpitations, tremor, anxiety "
            "and frequent stools are thyrotoxicosis. A smooth diffuse goitre with a bruit, eye "
            "signs (gritty eyes, proptosis, lid lag) and TSH-receptor antibodies identify "
            "Graves disease as the cause, rather than toxic nodules or thyroiditis (which is "
            "painful or follows pregnancy, with a low-uptake gland). Suppressed TSH with a "
            "high free T4 confirms the thyrotoxicosis."),
        "objectives": [
            "Recognise the symptoms and signs of thyrotoxicosis.",
            "Distinguish the causes of thyrotoxicosis by examination and antibodies.",
            "Interpret TSH and free T4 together.",
        ],
        "tags": ["thyroid"],
    }),
]


def sidecar(case: Case, staged: dict[str, list[str]]) -> dict[str, Any]:
    """The sidecar document for a case, its stages listing every event by resource id."""
    doc = {"format": "osler-case/1", **case.meta, "bundle": f"../{case.file}",
           "author": "Osler project (fictional case)"}
    doc["stages"] = [{"stage": s, "events": ids} for s, ids in staged.items() if ids]
    return doc


def main() -> None:
    SIDECARS.mkdir(exist_ok=True)
    for case in CASES:
        b = case.build()
        (HERE / case.file).write_text(json.dumps(b.bundle(), indent=1, ensure_ascii=False)
                                      + "\n", encoding="utf-8")
        path = SIDECARS / f"{case.meta['id']}.case.json"
        path.write_text(json.dumps(sidecar(case, b.staged), indent=1, ensure_ascii=False)
                        + "\n", encoding="utf-8")
        print(f"wrote {case.file} and teaching/{path.name}")


if __name__ == "__main__":
    main()
