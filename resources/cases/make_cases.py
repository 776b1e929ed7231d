"""Write the demo and teaching case bundles in resources/cases/ (python make_cases.py).

Every case is fictional and made by the project; ids are deterministic so that
rebuilding keeps event ids (and audit entries that cite them) valid.
"""

from __future__ import annotations

import json
from pathlib import Path

from osler.fhir.builder import BundleBuilder

HERE = Path(__file__).resolve().parent


def pulmonary_embolism() -> dict:
    """Demo patient: post-operative pleuritic chest pain, tachycardia and hypoxaemia."""
    b = BundleBuilder("demo-chest-pain")
    b.patient("Walter", "Demo", "male", "1967-09-12",
              identifier=[{"system": "urn:osler:demo", "value": "DEMO-0001"}])
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
    ed = b.encounter("2024-03-04T14:00:00+00:00", None, "Emergency department visit",
                     cls="EMER", snomed="50849002")
    t = "2024-03-04T14:10:00+00:00"
    b.note("2024-03-04T14:05:00+00:00",
           "Chief complaint: sudden shortness of breath since this morning. Sharp chest pain on "
           "the right, worse on deep breathing. Coughed up a little blood once. Right calf "
           "swollen and painful since yesterday. Denies fever. No orthopnoea. Not wheezing.",
           title="Triage note", loinc="34111-5", encounter=ed)
    b.vital(t, "8867-4", "Heart rate", 118, "/min", encounter=ed)
    b.vital(t, "9279-1", "Respiratory rate", 26, "/min", encounter=ed)
    b.vital(t, "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", 89, "%",
            encounter=ed)
    b.vital(t, "8310-5", "Body temperature", 37.4, "Cel", encounter=ed)
    b.blood_pressure(t, 108, 70, encounter=ed)
    lab = "2024-03-04T15:00:00+00:00"
    b.observation(lab, "48065-7", "Fibrin D-dimer FEU [Mass/volume] in Platelet poor plasma",
                  2.9, "mg/L", low=0, high=0.5, encounter=ed)
    b.observation(lab, "6690-2", "Leukocytes [#/volume] in Blood", 9.8, "10*3/uL", low=4.0,
                  high=10.5, encounter=ed)
    b.observation(lab, "718-7", "Hemoglobin [Mass/volume] in Blood", 13.9, "g/dL", low=13.5,
                  high=17.5, encounter=ed)
    b.observation(lab, "89579-7", "Troponin I.cardiac [Mass/volume] in Serum or Plasma by "
                  "High sensitivity method", 22, "ng/L", low=0, high=20, encounter=ed)
    return b.bundle()


CASES = {"demo-chest-pain.json": pulmonary_embolism}


def main() -> None:
    for name, build in CASES.items():
        (HERE / name).write_text(json.dumps(build(), indent=1, ensure_ascii=False) + "\n",
                                 encoding="utf-8")
        print(f"wrote {name}")


if __name__ == "__main__":
    main()
