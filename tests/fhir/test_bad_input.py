"""Bad input: a clear error with the location, or a located warning; never a crash."""

import json
import subprocess
import sys

import pytest

from osler.fhir import FhirError, import_path
from tests.conftest import small_bundle


def write(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data if isinstance(data, bytes) else data.encode())
    return p


def test_truncated_json_names_file_and_position(tmp_path):
    text = json.dumps(small_bundle())
    p = write(tmp_path, "cut.json", text[: len(text) // 2])
    with pytest.raises(FhirError) as err:
        import_path(p)
    msg = str(err.value)
    assert "cut.json" in msg and "invalid JSON at line" in msg and "truncated" in msg


def test_wrong_resource_type(tmp_path):
    p = write(tmp_path, "x.json", json.dumps({"resourceType": "Observaton", "id": "1"}))
    with pytest.raises(FhirError, match="unknown resourceType 'Observaton'"):
        import_path(p)
    p = write(tmp_path, "y.json", "[1, 2]")
    with pytest.raises(FhirError, match="not a FHIR resource"):
        import_path(p)


def test_wrong_encoding_is_refused_with_offset(tmp_path):
    doc = small_bundle()
    doc["entry"][0]["resource"]["name"][0]["family"] = "Müller"
    p = write(tmp_path, "latin1.json", json.dumps(doc, ensure_ascii=False).encode("latin-1"))
    with pytest.raises(FhirError, match=r"not UTF-8 .*offset \d+"):
        import_path(p)


def test_utf16_with_bom_is_read(tmp_path):
    p = write(tmp_path, "u16.json", json.dumps(small_bundle()).encode("utf-16"))
    assert len(import_path(p).timeline()) > 5


def test_bad_entries_become_located_warnings_and_rest_is_kept(tmp_path):
    doc = small_bundle()
    entries = doc["entry"]
    obs_index = next(i for i, e in enumerate(entries)
                     if e["resource"]["resourceType"] == "Observation")
    entries[obs_index]["resource"]["effectiveDateTime"] = "2024-02-31"
    cond = next(i for i, e in enumerate(entries) if e["resource"]["resourceType"] == "Condition")
    del entries[cond]["resource"]["subject"]
    entries.append({"resource": {"resourceType": "Banana"}})
    med = next(i for i, e in enumerate(entries)
               if e["resource"]["resourceType"] == "MedicationRequest")
    entries[med]["resource"]["status"] = "eaten"
    p = write(tmp_path, "bad.json", json.dumps(doc))
    result = import_path(p)
    text = [str(i) for i in result.issues]
    obs_id = entries[obs_index]["resource"]["id"]
    assert any(f"entry {obs_index}" in w and obs_id in w and "effectiveDateTime" in w
               for w in text)
    assert any(f"entry {cond}" in w and "subject" in w for w in text)
    assert any("Banana" in w for w in text)
    assert any("status" in w and "eaten" in w for w in text)
    t = result.timeline()
    bad_obs = t.get(f"Observation/{obs_id}")
    assert bad_obs is not None and bad_obs.time is None  # kept, undated, never a wrong date
    assert not any(e.kind.value == "condition" for e in t)


def test_huge_file_is_refused_cleanly(tmp_path, monkeypatch):
    monkeypatch.setenv("OSLER_MAX_IMPORT_MB", "1")
    doc = small_bundle()
    doc["padding"] = "x" * (1024 * 1024 + 10)
    p = write(tmp_path, "huge.json", json.dumps(doc))
    with pytest.raises(FhirError, match="over the 1 MB limit"):
        import_path(p)


def test_empty_and_missing(tmp_path):
    with pytest.raises(FhirError, match="empty"):
        import_path(write(tmp_path, "e.json", b""))
    with pytest.raises(FhirError, match="no such file"):
        import_path(tmp_path / "nothing.json")


def test_ndjson_bad_lines_are_skipped_with_line_numbers(tmp_path):
    lines = [json.dumps(e["resource"]) for e in small_bundle()["entry"]]
    lines.insert(3, '{"resourceType": "Observation", "id": "cut", "sta')
    p = write(tmp_path, "x.ndjson", "\n".join(lines))
    result = import_path(p)
    assert any("line 4" in str(i) and "invalid JSON" in str(i) for i in result.issues)
    assert len(result.timeline()) > 5
    with pytest.raises(FhirError, match="no readable FHIR resources"):
        import_path(write(tmp_path, "all_bad.ndjson", "{nope\n{worse\n"))


@pytest.mark.parametrize("content,code", [
    ("{\"resourceType\": \"Bundle\", \"entry\": [", 2),
    ("{\"resourceType\": 5}", 2),
])
def test_cli_exit_2_one_line(tmp_path, content, code):
    p = write(tmp_path, "bad.json", content)
    proc = subprocess.run([sys.executable, "-m", "osler", "import", str(p), "--json"],
                          capture_output=True, text=True)
    assert proc.returncode == code
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad.json" in lines[0]
