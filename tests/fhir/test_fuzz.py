"""Fuzzing: whatever the bytes or the JSON shape, import either works or raises FhirError,
and what it imports can always be printed (`osler timeline --json`).

Two parts: Hypothesis properties (mutated Bundles, random bytes, truncation) and a
deterministic corpus of malformed inputs by class (tests/fhir/malformed.py: huge integers
and exponents, NaN/Infinity, lone surrogates escaped and as raw bytes, invalid UTF-8,
control characters, deep nesting, wrong types, nasty FHIR field values, missing keys,
truncation, byte flips, encodings, NDJSON line damage, tiny documents), N_PER_CLASS each
over Bundle, NDJSON and single-resource files, every seventh case inside a folder. About
10,700 inputs per run; OSLER_FUZZ_SEED picks another corpus.
"""

import contextlib
import copy
import json
import math
import os
import random
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from osler.fhir import FhirError, import_path
from osler.fhir.importer import event_json
from osler.fhir.reader import read_path
from tests.conftest import small_bundle
from tests.fhir.malformed import ALL_CLASSES, cases

BASE = small_bundle()
HC = [HealthCheck.function_scoped_fixture]
N_PER_CLASS = 560
SEED = int(os.environ.get("OSLER_FUZZ_SEED", "0"))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=4),
    max_leaves=12,
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


ALL_PATHS = [p for p in _paths(BASE) if p]


def _set(doc, path, value):
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


def check_output(path: Path) -> str:
    """Import `path` as the CLI does and print every patient's summary and timeline into
    bytes; returns 'refused', 'warnings' or 'clean'. Any other exception fails the test."""
    try:
        result = import_path(path)
    except FhirError as exc:
        message = str(exc)
        assert message and "\n" not in message
        message.encode("utf-8")
        return "refused"
    for issue in result.issues:
        assert str(issue)
        str(issue).encode("utf-8")
    for t in result.timelines or [None]:
        summary = result.summary(t.patient.id if t is not None else None)
        # allow_nan=False: no NaN or infinity may reach the output.
        json.dumps(summary, ensure_ascii=False, allow_nan=False, default=str).encode("utf-8")
        if t is not None:
            doc = {"patient": t.patient.summary(), "events": [event_json(e) for e in t],
                   "warnings": [str(i) for i in result.issues[:200]]}
            json.dumps(doc, ensure_ascii=False, allow_nan=False, default=str).encode("utf-8")
            assert all(e.id for e in t)
    return "warnings" if result.issues else "clean"


def check_raw(path: Path) -> None:
    """What the reader hands on (to the importer and to de-identification) holds only
    finite numbers and strings and keys that encode as UTF-8."""
    with contextlib.suppress(FhirError):
        for raw in read_path(path, []):
            stack = [raw.resource]
            while stack:
                node = stack.pop()
                items = node.items() if isinstance(node, dict) else enumerate(node)
                for k, v in items:
                    if isinstance(k, str):
                        k.encode("utf-8")
                    if isinstance(v, str):
                        v.encode("utf-8")
                    elif isinstance(v, float):
                        assert math.isfinite(v), f"{k}: {v}"
                    elif isinstance(v, int) and not isinstance(v, bool):
                        assert math.isfinite(float(v)), f"{k}: {v}"
                    elif isinstance(v, dict | list):
                        stack.append(v)


# The classes whose damage is in numbers or strings the importer may pass on unread.
RAW_CHECKED = {"huge_int", "big_int_accepted", "huge_exponent", "nan_infinity",
               "surrogate_escape_value", "surrogate_escape_key", "surrogate_raw_bytes",
               "control_chars"}


def _check(tmp_path, data: bytes, name="f.json"):
    p = tmp_path / name
    p.write_bytes(data)
    check_output(p)


@settings(max_examples=300, deadline=None, suppress_health_check=HC, database=None)
@given(st.data())
def test_mutated_bundle_never_crashes(tmp_path, data):
    doc = copy.deepcopy(BASE)
    for _ in range(data.draw(st.integers(1, 4))):
        path = data.draw(st.sampled_from(ALL_PATHS))
        with contextlib.suppress(KeyError, IndexError, TypeError):
            _set(doc, path, data.draw(json_values))
    _check(tmp_path, json.dumps(doc).encode())


@settings(max_examples=200, deadline=None, suppress_health_check=HC, database=None)
@given(st.binary(max_size=400))
def test_random_bytes_never_crash(tmp_path, blob):
    _check(tmp_path, blob)
    _check(tmp_path, blob, "f.ndjson")


@settings(max_examples=100, deadline=None, suppress_health_check=HC, database=None)
@given(st.integers(0, 10_000), st.integers(0, 2**32 - 1))
def test_truncated_and_corrupted_text(tmp_path, cut, seed):
    raw = bytearray(json.dumps(BASE).encode())
    rng = random.Random(seed)
    for _ in range(rng.randint(0, 3)):
        raw[rng.randrange(len(raw))] = rng.randrange(256)
    _check(tmp_path, bytes(raw[: max(1, len(raw) - cut)]))


@pytest.fixture(scope="module")
def good_ndjson() -> bytes:
    return "".join(json.dumps(e["resource"]) + "\n" for e in BASE["entry"]).encode()


@pytest.mark.parametrize("cls", ALL_CLASSES)
def test_malformed_corpus_never_crashes(cls, tmp_path_factory, good_ndjson):
    folder = tmp_path_factory.mktemp(f"fuzz-{cls}")
    beside = folder / "in-folder"
    beside.mkdir()
    (beside / "Good.ndjson").write_bytes(good_ndjson)
    outcomes: Counter[str] = Counter()
    for i, case in enumerate(cases(cls, N_PER_CLASS, SEED)):
        in_folder = i % 7 == 0
        path = (beside / f"case{case.suffix}") if in_folder else (folder / f"case{case.suffix}")
        path.write_bytes(case.data)
        try:
            outcomes[check_output(beside if in_folder else path)] += 1
            if cls in RAW_CHECKED:
                check_raw(beside if in_folder else path)
        except Exception as exc:
            kept = folder / f"failing-{i}{case.suffix}"
            kept.write_bytes(case.data)
            raise AssertionError(f"{cls} case {i} ({case.container}"
                                 f"{', in a folder' if in_folder else ''}): {exc!r}; "
                                 f"input kept at {kept}") from exc
        finally:
            path.unlink()
    assert sum(outcomes.values()) == N_PER_CLASS
    print(f"{cls}: {dict(outcomes)}")


def test_corpus_is_at_least_ten_thousand_inputs():
    hypothesis_examples = 300 + 200 * 2 + 100
    assert len(ALL_CLASSES) * N_PER_CLASS + hypothesis_examples >= 10_000
