"""Shared test fixtures: where ../shared/data is, a small project-made record, Qt offscreen."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("OSLER_SHARED_DATA", REPO.parent / "shared" / "data"))

# A real llama.cpp server (llama-cpp-python) on a loopback port, started once per session
# by the tests that ask for it (clinic-server engine, window, offline guarantee, self-check).
from tests.clinic_server import clinic_server, cpp_server, tiny_models  # noqa: E402,F401


def shared(*parts: str) -> Path:
    """Path under ../shared/data, skipping the test when that data is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared reference data not present: {path}")
    return path


def small_bundle() -> dict:
    """A short, complete record made by the project: every timeline kind appears once or more."""
    from osler.fhir.builder import BundleBuilder

    b = BundleBuilder("test-small")
    b.patient("Ada", "Testperson", "female", "1961-04-02",
              identifier=[{"system": "urn:mrn", "value": "MRN-0001"}],
              address=[{"line": ["1 Test Street"], "city": "Testville"}])
    enc = b.encounter("2024-03-01T09:00:00+00:00", "2024-03-01T10:00:00+00:00",
                      "Emergency department visit", cls="EMER")
    b.condition("2015-06-01", "44054006", "Diabetes mellitus type 2")
    b.vital("2024-03-01T09:10:00+00:00", "8867-4", "Heart rate", 118, "/min", encounter=enc)
    b.vital("2024-03-01T09:10:00+00:00", "8310-5", "Body temperature", 38.6, "Cel",
            encounter=enc)
    b.blood_pressure("2024-03-01T09:10:00+00:00", 92, 58, encounter=enc)
    b.observation("2024-03-01T09:30:00+00:00", "6690-2", "Leukocytes [#/volume] in Blood",
                  16.2, "10*3/uL", low=4.0, high=10.5, encounter=enc)
    b.observation("2023-01-10T09:30:00+00:00", "6690-2", "Leukocytes [#/volume] in Blood",
                  7.1, "10*3/uL", low=4.0, high=10.5)
    b.medication("2015-06-02", "860975", "metformin 500 MG Oral Tablet",
                 dosage="500 mg twice daily")
    b.procedure("2020-02-02", "73761001", "Colonoscopy")
    b.allergy("2010-01-01", "91936005", "Allergy to penicillin", reaction="Hives")
    b.immunization("2023-10-01", "140", "Influenza, seasonal, injectable")
    b.note("2024-03-01T09:20:00+00:00",
           "Cough and fever for 3 days. Denies chest pain. Possible pleuritic pain on the right.",
           title="ED note", encounter=enc)
    b.raw({"resourceType": "Claim", "status": "active", "patient":
           {"reference": f"urn:uuid:{b.patient_id}"}})
    return b.bundle()


@pytest.fixture
def small_bundle_path(tmp_path: Path) -> Path:
    path = tmp_path / "small_bundle.json"
    path.write_text(json.dumps(small_bundle()), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def private_model_pins(tmp_path_factory, monkeypatch) -> Path:
    """Model-folder pins (osler.reasoning.pins) go to a fresh file per test, never the user's."""
    path = tmp_path_factory.mktemp("pins") / "model-pins.json"
    monkeypatch.setenv("OSLER_MODEL_PINS", str(path))
    return path
