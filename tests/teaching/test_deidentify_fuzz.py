"""Property tests: whatever the JSON shape, deidentify writes valid FHIR JSON or says why not."""

from __future__ import annotations

import contextlib
import copy
import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from osler.fhir import FhirError, import_path
from osler.teaching.deidentify import deidentify_path
from osler.teaching.errors import DeidentifyError
from tests.teaching.test_deidentify import rich_bundle

BASE = rich_bundle()
HC = [HealthCheck.function_scoped_fixture]
TRICKY = ["2014-03-05", "2014-03-05T10:00:00+02:00", "2014", "1700-01-01", "urn:uuid:x",
          "Patient/1", "Practitioner?identifier=a|b", "#p1", "Ada Testperson", "02139",
          "not a date", "", "http://x/fhir/Patient/2/_history/3", "text/plain"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=20) | st.sampled_from(TRICKY),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["reference", "display", "value", "name", "given", "data", "url",
                         "contentType", "start", "date", "extension", "identifier", "text"])
        | st.text(max_size=10), inner, max_size=4),
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


@settings(max_examples=150, deadline=None, suppress_health_check=HC)
@given(st.data())
def test_mutated_record_never_crashes_and_output_reimports(tmp_path, data):
    doc = copy.deepcopy(BASE)
    for _ in range(data.draw(st.integers(1, 4))):
        path = data.draw(st.sampled_from(ALL_PATHS))
        with contextlib.suppress(KeyError, IndexError, TypeError):
            node = doc
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = data.draw(json_values)
    src, out = tmp_path / "in.json", tmp_path / "out.json"
    src.write_text(json.dumps(doc))
    try:
        deidentify_path(src, out, force=True)
    except (FhirError, DeidentifyError) as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    json.loads(out.read_text(encoding="utf-8"))
    with contextlib.suppress(FhirError):
        import_path(out)
    assert not re.search(r"(?<!\w)Testperson(?!\w)", out.read_text(encoding="utf-8"))
