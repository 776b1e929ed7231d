"""A synthetic, very long patient record (FHIR R4 Bundle) for benchmarks and stress tests.

Deterministic for a given size and seed: ~40 years of a chronically ill, fictional
patient seen every few days, with vitals, labs (some abnormal), notes, medications
as spans, procedures, immunizations and conditions. Run as a script to write one:
`python -m bench.synthetic_record OUT.json --events 50000`.
"""

from __future__ import annotations

import argparse
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from osler.fhir.builder import BundleBuilder

START = datetime(1985, 1, 7, 8, 0, tzinfo=UTC)
YEARS = 40

# (loinc, display, unit, low, high, typical, spread)
LABS = [
    ("6690-2", "Leukocytes [#/volume] in Blood", "10*3/uL", 4.0, 10.5, 7.0, 2.5),
    ("718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", 12.0, 16.0, 13.5, 1.4),
    ("777-3", "Platelets [#/volume] in Blood", "10*3/uL", 150, 400, 260, 60),
    ("2951-2", "Sodium [Moles/volume] in Serum or Plasma", "mmol/L", 135, 145, 139, 3),
    ("2823-3", "Potassium [Moles/volume] in Serum or Plasma", "mmol/L", 3.5, 5.1, 4.2, 0.45),
    ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", 0.6, 1.3, 1.1, 0.3),
    ("2345-7", "Glucose [Mass/volume] in Serum or Plasma", "mg/dL", 70, 99, 110, 30),
    ("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", 4.0, 5.6, 6.8, 0.9),
    ("1988-5", "C reactive protein [Mass/volume] in Serum or Plasma", "mg/L", 0, 10, 6, 8),
]
# (loinc, display, unit, typical, spread)
VITALS = [
    ("8867-4", "Heart rate", "/min", 78, 12),
    ("9279-1", "Respiratory rate", "/min", 16, 3),
    ("8310-5", "Body temperature", "Cel", 36.9, 0.5),
    ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%", 96, 2),
    ("29463-7", "Body weight", "kg", 88, 6),
]
CHRONIC = [
    ("38341003", "Essential hypertension", "314076", "lisinopril 10 MG Oral Tablet"),
    ("44054006", "Diabetes mellitus type 2", "860975", "metformin 500 MG Oral Tablet"),
    ("55822004", "Hyperlipidemia", "617312", "atorvastatin 20 MG Oral Tablet"),
    ("195967001", "Asthma", "745679", "albuterol 0.09 MG/ACTUAT Inhaler"),
    ("69896004", "Rheumatoid arthritis", "105585", "methotrexate 2.5 MG Oral Tablet"),
]
ACUTE = [
    ("444814009", "Viral sinusitis", None, None),
    ("10509002", "Acute bronchitis", "308182", "amoxicillin 500 MG Oral Capsule"),
    ("68566005", "Urinary tract infection", "311989", "nitrofurantoin 100 MG Oral Capsule"),
    ("43878008", "Streptococcal sore throat", "834061", "penicillin V potassium 500 MG"),
    ("233604007", "Pneumonia", "1665060", "levofloxacin 750 MG Oral Tablet"),
    ("36971009", "Sinusitis", "308192", "amoxicillin 875 MG Oral Tablet"),
    ("283371005", "Laceration of forearm", None, None),
]
PROCEDURES = [
    ("73761001", "Colonoscopy"), ("430193006", "Medication reconciliation"),
    ("710824005", "Assessment of health and social care needs"),
    ("171207006", "Depression screening"), ("268556000", "Diabetic foot examination"),
]
VACCINES = [("140", "Influenza, seasonal, injectable"), ("113", "Td (adult) preservative free"),
            ("33", "Pneumococcal polysaccharide PPV23")]
NOTE_LINES = [
    "Feels generally well.", "Reports mild fatigue.", "Denies chest pain.",
    "No shortness of breath at rest.", "Occasional headache, relieved by paracetamol.",
    "Cough for 3 days, productive of clear sputum.", "Denies fever or chills.",
    "Ankles slightly swollen in the evenings.", "Sleeping poorly.", "Appetite normal.",
    "Blood sugars at home mostly under 180.", "Adherent to medication.",
]


def synthetic_bundle(events: int = 50_000, seed: int = 6) -> dict[str, Any]:
    """A Bundle whose import yields `events` timeline events (a few more, at most ~25)."""
    rng = random.Random(seed)
    b = BundleBuilder(f"synthetic-{events}-{seed}")
    b.patient("Synthia", "Longrecord", "female", "1950-03-14",
              identifier=[{"system": "urn:osler:synthetic", "value": "SYN-0001"}])
    made = 0
    b.allergy("1985-02-01", "91936005", "Allergy to penicillin", reaction="Hives")
    made += 1
    span = timedelta(days=365.25 * YEARS)
    # About 15.4 events per visit: draw a few more visits than needed and stop on target.
    visits = max(1, int(events / 15.0) + 1)
    stamps = sorted(
        (START + span * rng.random()).replace(microsecond=0) for _ in range(visits)
    )
    chronic_started = 0
    for i, when in enumerate(stamps):
        if made >= events:
            break
        admitted = rng.random() < 0.03
        end = when + (timedelta(days=rng.randint(1, 9)) if admitted else timedelta(minutes=40))
        cls, disp = ("IMP", "Hospital admission") if admitted else ("AMB", "General examination")
        enc = b.encounter(when, end, disp, cls=cls)
        made += 1
        t = when + timedelta(minutes=5)
        for loinc, name, unit, mid, spread in VITALS:
            b.vital(t, loinc, name, round(rng.gauss(mid, spread), 1), unit, encounter=enc)
        b.blood_pressure(t, round(rng.gauss(132, 14)), round(rng.gauss(82, 9)), encounter=enc)
        made += len(VITALS) + 2
        lab_t = when + timedelta(minutes=30)
        for loinc, name, unit, low, high, mid, spread in rng.sample(LABS, rng.randint(4, 8)):
            value = round(max(0.0, rng.gauss(mid, spread)), 2)
            b.observation(lab_t, loinc, name, value, unit, low=low, high=high, encounter=enc)
            made += 1
        text = " ".join(rng.sample(NOTE_LINES, 4))
        b.note(when + timedelta(minutes=20), f"Visit {i + 1}. {text}", encounter=enc)
        made += 1
        # About one visit in eight brings an acute problem, sometimes a short course of drugs.
        if rng.random() < 0.12:
            code, name, rx, drug = rng.choice(ACUTE)
            b.condition(when, code, name, active=False, encounter=enc)
            b.entries[-1]["resource"]["abatementDateTime"] = (
                when + timedelta(days=rng.randint(5, 30))).isoformat()
            made += 1
            if rx:
                b.medication(when, rx, drug, status="completed", dosage="as directed")
                b.entries[-1]["resource"]["dispenseRequest"] = {"validityPeriod": {
                    "start": when.isoformat(),
                    "end": (when + timedelta(days=rng.randint(5, 14))).isoformat()}}
                made += 1
        if chronic_started < len(CHRONIC) and i >= visits * chronic_started // len(CHRONIC):
            code, name, rx, drug = CHRONIC[chronic_started]
            b.condition(when, code, name, encounter=enc)
            b.medication(when, rx, drug, dosage="once daily")
            chronic_started += 1
            made += 2
        if rng.random() < 0.08:
            code, name = rng.choice(PROCEDURES)
            b.procedure(when + timedelta(minutes=15), code, name)
            made += 1
        if rng.random() < 0.05:
            cvx, name = rng.choice(VACCINES)
            b.immunization(when + timedelta(minutes=25), cvx, name)
            made += 1
    return b.bundle()


def write_synthetic_bundle(path: str | Path, events: int = 50_000, seed: int = 6) -> Path:
    """Write the synthetic Bundle to `path` (compact JSON) and return the path."""
    out = Path(path)
    out.write_text(json.dumps(synthetic_bundle(events, seed), separators=(",", ":")),
                   encoding="utf-8")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args()
    write_synthetic_bundle(args.out, args.events, args.seed)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
