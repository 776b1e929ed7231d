"""A small project-made teaching case (bundle + sidecar) and shared services for the tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from osler.fhir.builder import BundleBuilder

# Identifiers planted in the mini case; none may reach a teaching screen or summary.
IDENTIFIERS = ("Zebedee", "Quartermain", "MRN-771234", "1958-02-17", "17/02/1958",
               "8 Hidden Way", "Secretville", "+1-555-0199")


def mini_bundle() -> tuple[dict, dict[str, list[str]]]:
    """A fictional chest-pain case whose notes name the patient; returns bundle and stages."""
    b = BundleBuilder("teaching-mini")
    b.patient("Zebedee", "Quartermain", "male", "1958-02-17",
              identifier=[{"system": "urn:mrn", "value": "MRN-771234"}],
              address=[{"line": ["8 Hidden Way"], "city": "Secretville"}],
              telecom=[{"system": "phone", "value": "+1-555-0199"}])
    stages: dict[str, list[str]] = {k: [] for k in ("presentation", "history", "exam", "labs")}

    def put(stage: str, rtype: str, rid: str) -> str:
        stages[stage].append(f"{rtype}/{rid}")
        return rid

    put("history", "Condition", b.condition("2016-01-05", "44054006",
                                            "Diabetes mellitus type 2"))
    put("history", "MedicationRequest", b.medication("2016-01-05", "860975",
                                                     "metformin 500 MG Oral Tablet"))
    ed = put("presentation", "Encounter", b.encounter(
        "2024-05-02T09:00:00+00:00", None, "Emergency department visit", cls="EMER"))
    put("presentation", "DocumentReference", b.note(
        "2024-05-02T09:05:00+00:00",
        "Zebedee Quartermain (MRN-771234, born 17/02/1958) reports sudden shortness of breath "
        "and sharp chest pain, worse on deep breathing. Denies fever.",
        title="Triage note", loinc="34111-5", encounter=ed))
    put("history", "DocumentReference", b.note(
        "2024-05-02T09:20:00+00:00",
        "History: right calf swollen for two days. Knee surgery three weeks ago. Lives at 8 "
        "Hidden Way, Secretville; phone +1-555-0199.",
        title="History note", loinc="10164-2", encounter=ed))
    t = "2024-05-02T09:10:00+00:00"
    put("exam", "Observation", b.vital(t, "8867-4", "Heart rate", 121, "/min", encounter=ed))
    put("exam", "Observation", b.vital(t, "59408-5", "Oxygen saturation in Arterial blood "
                                       "by Pulse oximetry", 88, "%", encounter=ed))
    put("exam", "Observation", b.blood_pressure(t, 104, 66, encounter=ed))
    put("labs", "Observation", b.observation(
        "2024-05-02T10:00:00+00:00", "48065-7", "Fibrin D-dimer FEU [Mass/volume] in Platelet "
        "poor plasma", 3.4, "mg/L", low=0, high=0.5, encounter=ed))
    return b.bundle(), stages


def write_mini_case(folder: Path, case_id: str = "mini-breathless", **overrides) -> Path:
    """Bundle `<case_id>.json` and sidecar `<case_id>.case.json` in folder; returns the sidecar."""
    bundle, stages = mini_bundle()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{case_id}.json").write_text(json.dumps(bundle), encoding="utf-8")
    doc = {
        "format": "osler-case/1", "id": case_id, "title": "Breathless after surgery (mini)",
        "summary": "66-year-old man, sudden breathlessness", "specialty": "respiratory",
        "difficulty": "intermediate", "now": "2024-05-02T10:30:00+00:00",
        "gold": {"name": "Pulmonary embolism", "icd10": ["I26.99"]},
        "teaching_notes": "Project-made test case.", "objectives": ["Spot the risk factors."],
        "stages": [{"stage": s, "events": ids} for s, ids in stages.items()],
    }
    doc.update(overrides)
    path = folder / f"{case_id}.case.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def nb_service():
    """The real pipeline on the shipped KB with the naive-Bayes engine (lexicon findings)."""
    from osler.reasoning.service import DdxService

    return DdxService.create(engine="naive-bayes", semantic=False)


@pytest.fixture
def mini_case(tmp_path):
    """The mini case's metadata, read from its sidecar in a temporary user folder."""
    from osler.teaching.cases import read_sidecar

    return read_sidecar(write_mini_case(tmp_path / "cases"))


@pytest.fixture(autouse=True)
def private_case_folder(monkeypatch, tmp_path):
    """Tests never read or write the trainer's real case folder."""
    folder = tmp_path / "osler-user-cases"
    monkeypatch.setenv("OSLER_CASES_DIR", str(folder))
    return folder
