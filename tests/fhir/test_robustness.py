"""Hostile input the importer must survive: numbers no float holds, invalid Unicode, control
characters, files too big for memory; and the two-pass NDJSON stream."""

from __future__ import annotations

import base64
import json
import subprocess
import sys

import pytest

import osler.fhir.reader as reader
from osler.fhir import FhirError, import_path
from osler.fhir.importer import event_json
from osler.fhir.reader import FhirInput, read_path
from tests.conftest import small_bundle

PATIENT = '{"resourceType":"Patient","id":"p","name":[{"family":"Okafor"}]}'


def obs(value: str, oid: str = "o") -> str:
    return ('{"resourceType":"Observation","id":"' + oid + '","status":"final",'
            '"code":{"text":"HR"},"subject":{"reference":"Patient/p"},'
            '"effectiveDateTime":"2024-01-01","valueQuantity":{"value":' + value
            + ',"unit":"/min"}}')


def write(tmp_path, name: str, data: str | bytes):
    p = tmp_path / name
    p.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return p


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "osler", *args], capture_output=True,
                          text=True, timeout=120)


def printable(result) -> bytes:
    """What `osler timeline --json` would print, as bytes (fails on what cannot be)."""
    t = result.timeline()
    doc = {"patient": t.patient.summary(), "events": [event_json(e) for e in t],
           "warnings": [str(i) for i in result.issues]}
    return json.dumps(doc, ensure_ascii=False, allow_nan=False, default=str).encode("utf-8")


# --- numbers -----------------------------------------------------------------------

HUGE = "1" + "0" * 5000


def test_huge_integer_in_ndjson_skips_that_line_only(tmp_path):
    p = write(tmp_path, "n.ndjson", "\n".join([PATIENT, obs(HUGE, "bad"), obs("72")]) + "\n")
    result = import_path(p)
    warnings = [str(i) for i in result.issues]
    assert any("line 2" in w and "5001 digits" in w and "line skipped" in w for w in warnings)
    assert [e.value for e in result.timeline()] == [72.0]


def test_huge_integer_in_a_document_is_a_located_error(tmp_path):
    doc = small_bundle()
    text = json.dumps(doc).replace('"value": 118', f'"value": {HUGE}')
    p = write(tmp_path, "big.json", text)
    with pytest.raises(FhirError) as err:
        import_path(p)
    msg = str(err.value)
    assert "big.json" in msg and "5001 digits" in msg and "line 1 column" in msg


def test_issue_reproduction_exits_2_with_one_line(tmp_path):
    p = write(tmp_path, "n.ndjson", '{"resourceType":"Patient","id":"p","x":' + HUGE + "}\n")
    proc = cli("import", str(p), "--json")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "n.ndjson" in lines[0] and "digits" in lines[0]


@pytest.mark.parametrize("literal", ["1e400", "-1e400", "9" * 400 + ".5", "NaN", "Infinity",
                                     "-Infinity"])
def test_non_finite_numbers_are_refused_like_invalid_json(tmp_path, literal):
    p = write(tmp_path, "x.ndjson", "\n".join([PATIENT, obs(literal), obs("72", "ok")]))
    result = import_path(p)
    assert any("line 2" in str(i) and "line skipped" in str(i) for i in result.issues)
    assert [e.value for e in result.timeline()] == [72.0]
    with pytest.raises(FhirError, match=r"x\.json: .*(out of range|NaN and Infinity)"):
        import_path(write(tmp_path, "x.json", obs(literal)))


@pytest.mark.parametrize("literal", ["1e-400", "9" * 300, "-" + "9" * 300, "1e308"])
def test_big_but_finite_numbers_are_read(tmp_path, literal):
    p = write(tmp_path, "x.ndjson", "\n".join([PATIENT, obs(literal)]))
    result = import_path(p)
    (event,) = result.timeline()
    assert isinstance(event.value, float)
    printable(result)


# --- Unicode -----------------------------------------------------------------------

def test_lone_surrogate_is_replaced_with_a_warning_naming_the_field(tmp_path):
    p = write(tmp_path, "s.json",
              '{"resourceType":"Patient","id":"p","name":[{"text":"\\ud800"}]}\n')
    result = import_path(p)
    assert result.timeline().patient.name == "\ufffd"
    assert [str(i) for i in result.issues] == [
        f"{p}: name[0].text: invalid Unicode (lone surrogate) replaced by U+FFFD"]
    printable(result)
    proc = cli("timeline", str(p), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["patient"]["name"] == "\ufffd"


def test_surrogates_in_keys_and_ndjson_lines_and_bundles(tmp_path):
    lines = [PATIENT,
             obs("72").replace('"code":{"text":"HR"}', '"code":{"text":"H\\uDC00R"}'),
             obs("73", "o2").replace('"unit"', '"un\\udbffit"')]
    result = import_path(write(tmp_path, "k.ndjson", "\n".join(lines)))
    warnings = [str(i) for i in result.issues]
    assert any("line 2: code.text: invalid Unicode" in w for w in warnings)
    assert any("line 3: valueQuantity.un\ufffdit: invalid Unicode" in w for w in warnings)
    assert sorted(e.display for e in result.timeline()) == ["HR", "H\ufffdR"]
    printable(result)
    doc = json.dumps(small_bundle()).replace("Testperson", "Test\\udfffperson")
    result = import_path(write(tmp_path, "b.json", doc))
    assert any("entry[0].resource.name[0].family" in str(i) for i in result.issues)
    assert result.timeline().patient.family == "Test\ufffdperson"


def test_valid_surrogate_pairs_are_kept_without_warning(tmp_path):
    p = write(tmp_path, "e.json", '{"resourceType":"Patient","id":"p","name":[{"text":'
                                  '"\\ud83d\\ude00 \\uD83C\\uDF89"}]}')
    result = import_path(p)
    assert result.timeline().patient.name == "\U0001f600 \U0001f389"
    assert result.issues == []


def test_many_repairs_are_counted_not_listed(tmp_path):
    names = ",".join('{"text":"\\ud800"}' for _ in range(50))
    p = write(tmp_path, "m.json", '{"resourceType":"Patient","id":"p","name":[' + names + "]}")
    issues = [str(i) for i in import_path(p).issues]
    assert len(issues) == reader.MAX_LISTED_REPAIRS + 1
    assert "in 30 more fields" in issues[-1]


def test_surrogate_bytes_are_not_utf8(tmp_path):
    raw = PATIENT.encode().replace(b"Okafor", b"Oka\xed\xa0\x80for")
    with pytest.raises(FhirError, match="not UTF-8"):
        import_path(write(tmp_path, "r.json", raw))
    result = import_path(write(tmp_path, "r.ndjson", raw + b"\n" + obs("1").encode()))
    assert any("line 1" in str(i) and "not UTF-8" in str(i) for i in result.issues)


def test_attachment_decoding_to_surrogates_is_repaired(tmp_path):
    doc = small_bundle()
    note = next(e["resource"] for e in doc["entry"]
                if e["resource"]["resourceType"] == "DocumentReference")
    note["content"] = [{"attachment": {"contentType": "text/plain; charset=utf-7",
                                       "data": base64.b64encode(b"+2AA- note").decode()}},
                       {"attachment": {"contentType": "text/plain; charset=idna",
                                       "data": base64.b64encode(b"a" * 80).decode()}}]
    result = import_path(write(tmp_path, "a.json", json.dumps(doc)))
    assert any("attachment.data: invalid Unicode" in str(i) for i in result.issues)
    printable(result)


def test_control_characters_pass_through_and_print(tmp_path):
    text = "A\\u0000B\\u0001\\u001b[31m\\u2028\\ufeff\\uffff"
    p = write(tmp_path, "c.json",
              '{"resourceType":"Patient","id":"p","name":[{"text":"' + text + '"}]}')
    result = import_path(p)
    assert result.timeline().patient.name == json.loads(f'"{text}"')
    out = json.loads(printable(result))
    assert out["patient"]["name"] == json.loads(f'"{text}"')


def test_deidentify_sees_repaired_text(tmp_path):
    from osler.teaching.deidentify import deidentify_path

    lines = [PATIENT, obs("72").replace('"HR"', '"H\\udc00R"')]
    out = tmp_path / "out.ndjson"
    deidentify_path(write(tmp_path, "d.ndjson", "\n".join(lines)), out)
    assert "H\ufffdR" in out.read_text(encoding="utf-8")


# --- memory and size ----------------------------------------------------------------

def test_document_over_the_limit_names_limit_ratio_and_knob(tmp_path, monkeypatch):
    monkeypatch.setenv("OSLER_MAX_IMPORT_MB", "1")
    p = write(tmp_path, "big.json", '{"resourceType":"Patient","x":"' + "x" * 2**20 + '"}')
    with pytest.raises(FhirError) as err:
        import_path(p)
    msg = str(err.value)
    assert "over the 1 MB limit" in msg and "OSLER_MAX_IMPORT_MB" in msg
    assert f"{reader.JSON_MEMORY_RATIO}x its size" in msg


def test_document_too_big_for_available_memory_is_refused_first(tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "available_memory", lambda: 3 * 2**20)
    p = write(tmp_path, "b.json", json.dumps(small_bundle()) + " " * 2**20)
    with pytest.raises(FhirError) as err:
        import_path(p)
    msg = str(err.value)
    assert "b.json" in msg and "needs about" in msg and "only 3 MB is available" in msg


def test_available_memory_is_known_here():
    assert reader.available_memory() is None or reader.available_memory() > 0


def test_ndjson_line_over_the_limit_is_skipped_not_held(tmp_path, monkeypatch):
    monkeypatch.setenv("OSLER_MAX_IMPORT_MB", "1")
    long_line = '{"resourceType":"Patient","id":"q","x":"' + "y" * (2**20 + 10) + '"}'
    p = write(tmp_path, "l.ndjson", "\n".join([PATIENT, long_line, obs("72")]) + "\n")
    result = import_path(p)
    assert any("line 2: line longer than 1 MB" in str(i) for i in result.issues)
    assert [e.value for e in result.timeline()] == [72.0]


def test_ndjson_is_read_twice_from_disk_with_issues_reported_once(tmp_path, monkeypatch):
    lines = [PATIENT, "{broken", obs("72"), obs('"\\ud800"', "s")]
    folder = tmp_path / "export"
    folder.mkdir()
    write(folder, "Observation.ndjson", "\n".join(lines[1:]))
    write(folder, "Patient.ndjson", lines[0])
    opened: list[str] = []
    real_open = reader.Path.open

    def counting_open(self, *args, **kwargs):
        opened.append(self.name)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(reader.Path, "open", counting_open)
    result = import_path(folder)
    assert sorted(opened) == ["Observation.ndjson"] * 2 + ["Patient.ndjson"] * 2
    warnings = [str(i) for i in result.issues]
    assert sum("invalid JSON" in w for w in warnings) == 1
    assert sum("invalid Unicode" in w for w in warnings) == 1
    assert result.resources == 3


def test_a_bundle_is_parsed_once_and_freed_as_it_is_mapped(tmp_path, monkeypatch):
    p = write(tmp_path, "b.json", json.dumps(small_bundle()))
    parses: list[str] = []
    real = reader._parse_document
    monkeypatch.setattr(reader, "_parse_document",
                        lambda text, path, issues: parses.append(path.name) or real(text, path,
                                                                                     issues))
    source = FhirInput(p)
    first = [r.source.resource_id for r in source.resources([], last=False)]
    doc = source._docs[p]
    second = [r.source.resource_id for r in source.resources([], last=True)]
    assert first == second and parses == ["b.json"]
    assert all(e is None for e in doc["entry"]) and p not in source._docs


def test_read_path_is_still_one_pass(tmp_path):
    p = write(tmp_path, "b.json", json.dumps(small_bundle()))
    assert len(list(read_path(p, []))) == len(small_bundle()["entry"])


def test_patient_with_no_events_is_summarised(tmp_path):
    result = import_path(write(tmp_path, "p.json", PATIENT))
    assert result.summary()["patient"]["id"] == "p"


def test_repair_paths_stay_short_for_deep_documents_and_long_keys(tmp_path):
    deep = '{"a":' * 100 + '"\\ud800"' + "}" * 100
    key = "k" * 1000 + "\\udfff"
    p = write(tmp_path, "d.json", '{"resourceType":"Patient","id":"p","extension":'
              + deep + ',"' + key + '":1}')
    fields = sorted(i.field for i in import_path(p).issues)
    assert fields[0].startswith("extension.a.a") and ".…" in fields[0] and len(fields[0]) < 80
    assert fields[1] == "k" * 30 + "…"


def test_file_names_that_are_not_utf8_still_print(tmp_path):
    if sys.platform == "win32":
        pytest.skip("POSIX file names are bytes")
    folder = tmp_path
    name = folder.joinpath(bytes.decode(b"bad\xffname.json", "utf-8", "surrogateescape"))
    name.write_text('{"resourceType":"Patient","id":"p","name":[{"text":"\\ud800"}]}')
    result = import_path(name)
    assert "bad\ufffdname.json" in str(result.issues[0])
    printable(result)


def test_a_folder_parses_each_json_file_per_pass_not_all_at_once(tmp_path, monkeypatch):
    for i in range(3):
        write(tmp_path, f"b{i}.json", json.dumps(small_bundle()).replace("MRN-0001", f"M{i}"))
    parses: list[str] = []
    real = reader._parse_document
    monkeypatch.setattr(reader, "_parse_document",
                        lambda text, path, issues: parses.append(path.name) or real(text, path,
                                                                                     issues))
    result = import_path(tmp_path)
    assert sorted(parses) == ["b0.json", "b0.json", "b1.json", "b1.json", "b2.json", "b2.json"]
    assert len(result.timelines) == 1 and result.resources == 3 * len(small_bundle()["entry"])


def test_a_folder_file_that_fails_only_on_the_second_pass_is_reported(tmp_path, monkeypatch):
    write(tmp_path, "a.json", json.dumps(small_bundle()))
    calls: list[str] = []
    real = reader._read_text

    def flaky(path):
        calls.append(path.name)
        if len(calls) == 2:
            raise FhirError("memory ran short", reader.Source(str(path)))
        return real(path)

    monkeypatch.setattr(reader, "_read_text", flaky)
    result = import_path(tmp_path)
    assert any("skipped: memory ran short" in str(i) for i in result.issues)
