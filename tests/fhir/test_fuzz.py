"""Property tests: whatever the bytes or the JSON shape, import either works or raises FhirError."""

import contextlib
import copy
import json
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from osler.fhir import FhirError, import_path
from tests.conftest import small_bundle

BASE = small_bundle()
HC = [HealthCheck.function_scoped_fixture]

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


def _check(tmp_path, data: bytes, name="f.json"):
    p = tmp_path / name
    p.write_bytes(data)
    try:
        result = import_path(p)
    except FhirError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    for issue in result.issues:
        assert str(issue)
    for t in result.timelines:
        for e in t:
            assert e.id


@settings(max_examples=300, deadline=None, suppress_health_check=HC)
@given(st.data())
def test_mutated_bundle_never_crashes(tmp_path, data):
    doc = copy.deepcopy(BASE)
    for _ in range(data.draw(st.integers(1, 4))):
        path = data.draw(st.sampled_from(ALL_PATHS))
        with contextlib.suppress(KeyError, IndexError, TypeError):
            _set(doc, path, data.draw(json_values))
    _check(tmp_path, json.dumps(doc).encode())


@settings(max_examples=200, deadline=None, suppress_health_check=HC)
@given(st.binary(max_size=400))
def test_random_bytes_never_crash(tmp_path, blob):
    _check(tmp_path, blob)
    _check(tmp_path, blob, "f.ndjson")


@settings(max_examples=100, deadline=None, suppress_health_check=HC)
@given(st.integers(0, 10_000), st.integers(0, 2**32 - 1))
def test_truncated_and_corrupted_text(tmp_path, cut, seed):
    raw = bytearray(json.dumps(BASE).encode())
    rng = random.Random(seed)
    for _ in range(rng.randint(0, 3)):
        raw[rng.randrange(len(raw))] = rng.randrange(256)
    _check(tmp_path, bytes(raw[: max(1, len(raw) - cut)]))
