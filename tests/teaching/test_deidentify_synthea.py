"""osler deidentify on records nobody on the team wrote: 12 Synthea bundles, the bulk NDJSON
export with 1,215 notes, and every HL7 example. Skipped when ../shared/data is absent."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from osler.fhir import import_path
from osler.record import EventKind
from osler.teaching.deidentify import deidentify_path
from osler.teaching.errors import DeidentifyError
from osler.teaching.pseudonyms import Pseudonyms
from osler.teaching.rewrite import AGE_GROUPED_EXTENSION
from tests.conftest import shared
from tests.teaching.test_deidentify import (
    SEED,
    find_leaks,
    offsets_by_patient,
    originals,
    output_corpus,
    read_resources,
    shifted_images,
)

TODAY = date(2025, 6, 1)
pytestmark = [pytest.mark.shared_data, pytest.mark.slow]


def _grouped_births(src: list[dict[str, Any]], out: list[dict[str, Any]]) -> dict[str, str]:
    """Original patient id -> new birth date, for patients grouped as 90 or older."""
    pseudonyms = Pseudonyms(SEED.encode())
    new = {r["id"]: r for r in out if r["resourceType"] == "Patient"}
    grouped = {}
    for r in src:
        if r["resourceType"] == "Patient":
            twin = new[pseudonyms.resource_id(r["id"])]
            if "_birthDate" in twin:
                grouped[r["id"]] = twin["birthDate"]
    return grouped


@pytest.fixture(scope="module")
def synthea(tmp_path_factory) -> list[tuple[Path, Path, dict[str, Any]]]:
    folder = shared("synthea_r4")
    out_dir = tmp_path_factory.mktemp("synthea_deid")
    done = []
    for i, src in enumerate(sorted(folder.glob("*.json"))):
        out = out_dir / f"case-{i}.json"
        done.append((src, out, deidentify_path(src, out, seed=SEED, today=TODAY)))
    assert len(done) == 12
    return done


@pytest.fixture(scope="module")
def bulk(tmp_path_factory) -> tuple[Path, Path, dict[str, Any]]:
    src = shared("synthea_bulk_ndjson")
    out = tmp_path_factory.mktemp("bulk_deid") / "teaching"
    return src, out, deidentify_path(src, out, seed=SEED, today=TODAY)


def _check_record(src: Path, out: Path) -> dict[str, set[int]]:
    """No leak anywhere; one non-zero offset per patient (within ±365); returns offsets."""
    src_res, out_res = read_resources(src), read_resources(out)
    offsets = offsets_by_patient(src_res, out_res, SEED, _grouped_births(src_res, out_res))
    patients = {r["id"] for r in src_res if r["resourceType"] == "Patient"}
    assert set(offsets) == patients
    for pid, days in offsets.items():
        assert len(days) == 1, (src.name, pid, days)  # the same offset for every date
        assert 0 < abs(next(iter(days))) <= 365
    leaks = find_leaks(originals(src_res), output_corpus(out), shifted_images(src_res, offsets))
    assert not leaks, (src.name, leaks[:10])
    return offsets


def test_synthea_bundles_keep_no_identifier_and_one_offset_per_patient(synthea):
    offsets = [next(iter(v)) for src, out, _ in synthea for v in _check_record(src, out).values()]
    assert len(offsets) == 12 and len(set(offsets)) >= 10  # independent draws per patient


def test_synthea_bundles_reimport_with_the_same_clinical_content(synthea):
    pseudonyms = Pseudonyms(SEED.encode())
    for src, out, report in synthea:
        before, after = import_path(src), import_path(out)
        assert not after.issues, (src.name, [str(i) for i in after.issues[:3]])
        t0, t1 = before.timeline(), after.timeline()
        assert len(t1) == len(t0) and t1.patient.name == "Patient 1"
        assert report["resources"]["read"] == report["resources"]["written"]

        def clinical(e):
            return (e.kind.value, e.code.code if e.code else None, e.value, e.unit, e.display)

        assert Counter(clinical(e) for e in t0) == Counter(clinical(e) for e in t1), src.name
        twins = {e.id: e for e in t1}
        deltas = set()
        for e in t0:
            rtype, _, rest = e.id.partition("/")
            rid, hash_, frag = rest.partition("#")
            twin = twins[f"{rtype}/{pseudonyms.resource_id(rid)}{hash_}{frag}"]
            if e.time is not None:
                deltas.add((twin.time - e.time).total_seconds())
            if e.end is not None:
                deltas.add((twin.end - e.end).total_seconds())
        assert len(deltas) == 1, src.name  # every interval between events is unchanged


def test_synthea_age_over_89_is_grouped(synthea):
    grouped = 0
    for src, out, _ in synthea:
        t0, t1 = import_path(src).timeline(), import_path(out).timeline()
        p0, p1 = t0.patient, t1.patient
        died = p0.deceased if isinstance(p0.deceased, date) else None
        real_age = p0.age_at(died or TODAY)
        patient = next(r for r in read_resources(out) if r["resourceType"] == "Patient")
        if real_age > 89:
            grouped += 1
            assert p1.age_at(p1.deceased if died else TODAY) == 90, src.name
            assert patient["_birthDate"]["extension"][0]["url"] == AGE_GROUPED_EXTENSION
            assert all(e.time is None or e.time.date() >= p1.birth_date for e in t1)
        else:
            assert "_birthDate" not in patient
            assert p1.age_at(p1.deceased if died else TODAY) in (real_age - 1, real_age,
                                                                real_age + 1)
    assert grouped == 1  # Christopher Abshire: 96 at death


def test_bulk_export_keeps_no_identifier_in_resources_or_notes(bulk):
    src, out, report = bulk
    offsets = _check_record(src, out)
    assert len(offsets) == 13
    assert len({next(iter(v)) for v in offsets.values()}) >= 11
    assert report["files"] == {"read": 13, "written": 13, "skipped": 1}  # log.ndjson
    assert report["changes"]["attachments scrubbed"] >= 1200
    names = sorted(p.name for p in out.iterdir())
    assert all(n.endswith(".000.ndjson") for n in names) and len(names) == 13


def test_bulk_export_reimports_with_its_notes_and_groups_the_oldest_patient(bulk):
    src, out, report = bulk
    before, after = import_path(src), import_path(out)
    assert len(after.timelines) == 13
    assert not any(t.patient.placeholder for t in after.timelines)
    dropped = report["changes"].get(
        "resources before a grouped birth date left out (age over 89)", 0)
    assert 0 < dropped < 50
    notes0 = [e for t in before.timelines for e in t.by_kind(EventKind.NOTE)]
    notes1 = [e for t in after.timelines for e in t.by_kind(EventKind.NOTE)]
    assert len(notes0) - dropped <= len(notes1) <= len(notes0)
    assert all(n.text and n.time for n in notes1)
    assert sum("Chief Complaint" in n.text for n in notes1) == len(notes1)
    old = [t for t in after.timelines if t.patient.birth_date
           and t.patient.age_at(TODAY) == 90]
    assert len(old) == 1  # born 1927, alive: shown as 90
    assert all(e.time is None or e.time.date() >= old[0].patient.birth_date for e in old[0])
    assert not any(str(src) in w for w in report["warnings"])


def test_every_hl7_example_deidentifies_and_reimports(tmp_path):
    folder = shared("fhir_r4_examples")
    done = refused = 0
    for f in sorted(folder.glob("*.json")):
        out = tmp_path / "out.json"
        try:
            deidentify_path(f, out, force=True)
        except DeidentifyError as exc:
            assert "nothing left to write" in str(exc), f.name  # a lone Media or Binary
            refused += 1
            continue
        a, b = import_path(f), import_path(out)
        assert len(a.timelines) == len(b.timelines), f.name
        assert sum(len(t) for t in a.timelines) == sum(len(t) for t in b.timelines), f.name
        done += 1
    assert done > 500 and refused <= 10
