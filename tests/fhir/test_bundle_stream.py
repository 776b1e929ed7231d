"""A large Bundle is read an entry at a time (fhir/bundle_stream.py): it must give exactly
what the whole-document reader gives — the same resources, locations, errors and
warnings — for the fuzz corpus's Bundles of every class and for real files; and it must
stay within about 2.5x the file in memory."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from osler.fhir import FhirError, import_path
from osler.fhir.bundle_stream import stream, streamable
from osler.fhir.reader import FhirInput
from tests.fhir.malformed import ALL_CLASSES, cases

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
PER_CLASS = 120


def read(path: Path, streamed: bool):
    """Both passes as the importer makes them: (resources, issues) or the error."""
    source = FhirInput(path, streamer=stream if streamed else None)
    issues: list = []
    try:
        first = [(r.source, r.full_url, json.dumps(r.resource, sort_keys=True))
                 for r in source.resources(issues, last=False)]
        second = [(r.source, r.full_url, json.dumps(r.resource, sort_keys=True))
                  for r in source.resources([], last=True)]
    except FhirError as exc:
        return ("error", str(exc))
    assert first == second
    return first, Counter(str(i) for i in issues)


def same(path: Path) -> bool:
    whole, streamed = read(path, False), read(path, True)
    if whole[0] == "error" or streamed[0] == "error":
        assert whole == streamed, path.read_bytes()[:300]
        return False
    assert whole[0] == streamed[0]
    # The same warnings (repairs are listed in another order when there are more than 20)
    if sum(whole[1].values()) <= 20:
        assert whole[1] == streamed[1]
    else:
        assert sum(whole[1].values()) == sum(streamed[1].values())
    return True


@pytest.mark.parametrize("cls", ALL_CLASSES)
def test_streamed_bundles_read_exactly_as_whole_documents(cls, tmp_path):
    streamed = 0
    for n, case in enumerate(c for c in cases(cls, PER_CLASS * 3) if c.container == "bundle"):
        path = tmp_path / f"{n}.json"
        path.write_bytes(case.data)
        text = path.read_bytes().decode("utf-8", "replace")
        same(path)
        streamed += streamable(text)
    if cls not in ("encodings", "tiny_documents", "ndjson_lines"):  # no streamable Bundles
        assert streamed > 0, "the corpus never exercised the streaming reader"


def test_real_bundles_read_the_same(tmp_path):
    files = sorted((SHARED / "synthea_r4").glob("*.json"))[:3] if SHARED.exists() else []
    from bench.synthetic_record import write_synthetic_bundle

    files.append(write_synthetic_bundle(tmp_path / "synthetic.json", events=2000))
    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps(json.loads(files[-1].read_text()), indent=2))
    files.append(pretty)
    for f in files:
        assert streamable(f.read_text(encoding="utf-8")), f
        assert same(f), f


def test_what_is_not_streamed():
    ndjson_in_json = ('{"resourceType": "Bundle", "type": "collection"}\n'
                      '{"resourceType": "Patient"}\n')
    assert not streamable(ndjson_in_json)
    assert not streamable('{"type": "collection", "resourceType": "Bundle", "entry": []}')
    assert not streamable('{"resourceType": "Patient", "id": "p"}')
    assert streamable('{"resourceType": "Bundle", "entry": []}')
    assert streamable('{\n  "resourceType": "Bundle",\n  "entry": []\n}\n')


def test_a_large_bundle_imports_the_same_patient_streamed(tmp_path):
    from bench.import_bench import write_inputs

    bundle, _ndjson = write_inputs(tmp_path, 3)
    everyone = import_path(bundle, all_patients=True)
    for entry in everyone.roster:
        pid = entry.patient.id
        alone = import_path(bundle, patient=pid, all_patients=False)  # streamed
        assert list(alone.timeline(pid)) == list(everyone.timeline(pid))
        assert [e.resources for e in alone.roster] == [e.resources for e in everyone.roster]


def test_streamed_bundle_memory_stays_near_the_file():
    from bench.import_bench import memory_bench

    rows = memory_bench([24], kinds=("bundle",), all_patients=False)["rows"]
    (row,) = rows
    assert row["error"] is None and row["patients_loaded"] == 1
    assert row["above_baseline_over_file"] < 3.0, row  # whole-document reading: about 6x
