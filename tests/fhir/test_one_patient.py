"""Large inputs load only the chosen patient's events (issue 15, memory): the timeline is
the same as when every patient is loaded, the others are listed in the roster, and a
patient the input lacks is bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from bench.import_bench import _ndjson_resource
from bench.synthetic_record import synthetic_bundle

from osler.fhir import FhirError, import_path


def _ndjson(path: Path, patients: int = 3, events: int = 120) -> list[str]:
    """Bulk-Data style NDJSON of several synthetic patients; returns their ids in order."""
    ids = []
    with path.open("w", encoding="utf-8") as out:
        for seed in range(1, patients + 1):
            entries = synthetic_bundle(events + 10 * seed, seed=seed)["entry"]
            types = {e["resource"]["id"]: e["resource"]["resourceType"] for e in entries}
            for e in entries:
                res = _ndjson_resource(e["resource"], types)
                if res["resourceType"] == "Patient":
                    ids.append(res["id"])
                out.write(json.dumps(res) + "\n")
    return ids


@pytest.fixture(scope="module")
def three(tmp_path_factory) -> tuple[Path, list[str]]:
    path = tmp_path_factory.mktemp("one") / "three.ndjson"
    return path, _ndjson(path)


def test_each_patient_loaded_alone_equals_that_patient_loaded_with_all(three):
    path, ids = three
    everything = import_path(path, all_patients=True)
    assert [t.patient.id for t in everything.timelines] == ids
    for pid in ids:
        alone = import_path(path, patient=pid, all_patients=False)
        assert [t.patient.id for t in alone.timelines] == [pid]
        mine, theirs = alone.timeline(pid), everything.timeline(pid)
        assert list(mine) == list(theirs) and len(mine) > 100
        # Encounter links went through the compact (hashed) resolver and still resolve.
        assert sum(1 for e in mine if e.encounter) == sum(1 for e in theirs if e.encounter) > 0


def test_the_roster_lists_every_patient_and_only_the_chosen_one_has_events(three):
    path, ids = three
    result = import_path(path, all_patients=False)
    assert result.timeline().patient.id == ids[0]  # the first patient by default
    assert [e.patient.id for e in result.roster] == ids
    assert [e.events is not None for e in result.roster] == [True, False, False]
    everything = import_path(path, all_patients=True)
    assert [e.resources for e in result.roster] == [e.resources for e in everything.roster]
    assert sum(e.resources for e in result.roster) == result.resources - len(ids)
    summary = result.summary()
    assert [p["events"] for p in summary["patients"]][1:] == [None, None]
    assert summary["patients"][0]["events"] == summary["events"] == len(result.timeline())
    with pytest.raises(FhirError, match="not loaded"):
        result.timeline(ids[1])
    assert not result.all_loaded and everything.all_loaded


def test_a_patient_the_input_lacks_is_bad_input_naming_the_ids(three):
    path, ids = three
    with pytest.raises(FhirError, match=f"no patient with id 'nobody'.*{ids[0]}"):
        import_path(path, patient="nobody", all_patients=False)


def test_without_patient_resources_the_first_named_patient_is_loaded(tmp_path):
    lines = [
        {"resourceType": "Observation", "id": f"o{i}", "status": "final",
         "subject": {"reference": f"Patient/{pid}"},
         "code": {"text": "Heart rate"}, "effectiveDateTime": "2024-01-01",
         "valueQuantity": {"value": 70 + i, "unit": "/min"}}
        for i, pid in enumerate(["x", "y", "x", "y", "y"])
    ]
    path = tmp_path / "refs.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    result = import_path(path, all_patients=False)
    assert [(e.patient.id, e.resources, e.events) for e in result.roster] == [
        ("x", 2, 2), ("y", 3, None)]
    assert result.timeline().patient.placeholder
    assert len(import_path(path, patient="y", all_patients=False).timeline("y")) == 3


def test_the_size_rule_decides_by_default(three, monkeypatch):
    path, _ids = three
    monkeypatch.setenv("OSLER_ALL_PATIENTS_MB", "0")
    assert len(import_path(path).timelines) == 1
    monkeypatch.setenv("OSLER_ALL_PATIENTS_MB", "64")
    assert len(import_path(path).timelines) == 3
    monkeypatch.setenv("OSLER_ALL_PATIENTS_MB", "not a number")  # the default, 64 MB
    assert len(import_path(path).timelines) == 3


def test_cli_import_of_a_large_input_names_the_patient_loaded(three, tmp_path):
    path, ids = three
    env = {"OSLER_ALL_PATIENTS_MB": "0", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "osler", "import", str(path), "--patient",
                           ids[2], "--json"], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["patient"]["id"] == ids[2] and doc["events"] > 100
    assert [p["events"] is None for p in doc["patients"]] == [True, True, False]
    proc = subprocess.run([sys.executable, "-m", "osler", "timeline", str(path), "--patient",
                           "nobody", "--json"], capture_output=True, text=True, env=env)
    assert proc.returncode == 2 and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and "nobody" in proc.stderr
