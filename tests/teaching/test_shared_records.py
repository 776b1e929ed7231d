"""Real-shaped records from ../shared/data as teaching cases (skipped when absent)."""

from __future__ import annotations

import time

from osler.knowledge.pack import default_kb
from osler.teaching.library import CaseLibrary, NewCase, add_case, load_timeline, open_case
from tests.conftest import shared
from tests.teaching.case_fixtures import nb_service, private_case_folder  # noqa: F401


def test_a_synthea_record_becomes_a_deidentified_case(tmp_path, nb_service):  # noqa: F811
    src = shared("synthea_r4", "Agustín_Fonseca_cb5696d9-a0de-4f49-94f9-433f96a28eb0.json")
    original = load_timeline_of(src)
    user = tmp_path / "cases"
    lib = CaseLibrary.load(user=user)
    meta = add_case(src, NewCase(title="Synthea adult", gold="Hypertension",
                                 specialty="general"), default_kb(), deidentify=True,
                    library=lib)
    stored = meta.bundle.read_text(encoding="utf-8")
    assert original.patient.family not in stored and original.patient.given[0] not in stored
    reveal = open_case(meta, presentation=True)
    # Default stages (the record has no case file of its own): every event in one stage.
    planned = sum(len(s) for s in reveal.stages)
    assert planned == len(load_timeline(meta)) > 50
    assert {s.key for s in reveal.stages} >= {"history", "exam"}
    started = time.perf_counter()
    while reveal.next_stage() is not None:
        diff = reveal.differential(nb_service, top=10)
        cited = {f.source.event_id for f in diff.findings if f.source.event_id}
        assert cited <= reveal.revealed_ids
    assert reveal.complete and time.perf_counter() - started < 60


def load_timeline_of(path):
    from osler.fhir import load_timeline

    return load_timeline(path)
