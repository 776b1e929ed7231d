"""Malformed FHIR inputs by class, deterministic for a seed: the fuzz tests' corpus.

Each case is one file (Bundle .json, NDJSON .ndjson or one resource .json) made from the
project's small record with one class of damage. Literals that json.dumps cannot write
(huge integers, NaN, lone surrogate escapes, invalid UTF-8 bytes, deep nesting) are put in
as placeholders and swapped for raw bytes after serialising.
"""

from __future__ import annotations

import base64
import copy
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from tests.conftest import small_bundle

BASE = small_bundle()
CONTAINERS = ("bundle", "ndjson", "single")


@dataclass(frozen=True)
class Case:
    """One malformed input: its class, container kind, and bytes."""

    cls: str
    container: str
    data: bytes

    @property
    def suffix(self) -> str:
        return ".ndjson" if self.container == "ndjson" else ".json"


class _Doc:
    """A mutable input (Bundle, list of NDJSON resources, or one resource) plus the raw
    literals its placeholders stand for."""

    def __init__(self, container: str, rng: random.Random):
        self.container = container
        self.literals: list[bytes] = []
        self.newline = "\n"
        resources = [copy.deepcopy(e["resource"]) for e in BASE["entry"]]
        if container == "bundle":
            self.obj: Any = copy.deepcopy(BASE)
        elif container == "ndjson":
            self.obj = resources
        else:
            self.obj = rng.choice(resources)

    def placeholder(self, literal: bytes) -> str:
        self.literals.append(literal)
        return f"\x00LIT{len(self.literals) - 1}\x00"

    def paths(self) -> list[tuple[Any, ...]]:
        return [p for p in _paths(self.obj) if p]

    def serialise(self) -> bytes:
        if self.container == "ndjson":
            text = self.newline.join(json.dumps(r) for r in self.obj) + self.newline
        else:
            text = json.dumps(self.obj)
        data = text.encode("utf-8")
        for i, lit in enumerate(self.literals):
            data = data.replace(json.dumps(f"\x00LIT{i}\x00").encode(), lit)
        return data


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        node = node[key]
    return node


def _set_value(doc: _Doc, rng: random.Random, value: Any) -> None:
    """Put `value` at a random place: replacing a node, or as a new key of an object."""
    paths = doc.paths()
    if not paths:
        doc.obj = value
        return
    path = rng.choice(paths)
    parent = _get(doc.obj, path[:-1])
    if isinstance(parent, dict) and rng.random() < 0.25:
        parent[rng.choice(["extra", "value", "text", "id", "reference", "resourceType"])] = value
    else:
        parent[path[-1]] = value


def _set_key(doc: _Doc, rng: random.Random, key: str) -> None:
    """Rename a random key of a random object to `key`."""
    dicts = [p for p in [(), *doc.paths()] if isinstance(_get(doc.obj, p), dict)]
    node = _get(doc.obj, rng.choice(dicts))
    if node:
        old = rng.choice(list(node))
        node[key] = node.pop(old)
    else:
        node[key] = "x"


def _inject(doc: _Doc, rng: random.Random, literal: bytes, as_key: bool = False) -> None:
    ph = doc.placeholder(literal)
    if as_key:
        _set_key(doc, rng, ph)
    else:
        _set_value(doc, rng, ph)


# --- literal makers ----------------------------------------------------------------

def _huge_int(rng: random.Random) -> bytes:
    digits = rng.choice([301, 400, 4300, 4301, 5000, rng.randint(302, 20_000)])
    return (rng.choice(["", "-"]) + str(rng.randint(1, 9)) + "0" * (digits - 1)).encode()


def _big_int_ok(rng: random.Random) -> bytes:
    digits = rng.choice([16, 19, 20, 40, 100, 299, 300, rng.randint(1, 300)])
    return (rng.choice(["", "-"]) + str(rng.randint(1, 9))
            + "".join(str(rng.randint(0, 9)) for _ in range(digits - 1))).encode()


def _huge_exponent(rng: random.Random) -> bytes:
    return rng.choice([
        "1e400", "-1e400", "1E+309", "2.5e999999", "1e-400", "-0.0e-9999", "1.7976931348623159e308",
        "9" * 400 + ".5", "0." + "0" * 500 + "1", f"1e{rng.randint(309, 10**6)}",
        f"-{rng.randint(1, 9)}.{rng.randint(0, 999)}E{rng.randint(309, 5000)}",
    ]).encode()


def _nan_inf(rng: random.Random) -> bytes:
    return rng.choice([b"NaN", b"Infinity", b"-Infinity", b"[NaN]", b'{"value":Infinity}'])


def _surrogate_escape(rng: random.Random) -> bytes:
    hi = f"\\u{rng.choice('dD')}{rng.choice('89abAB')}{rng.randint(0, 255):02x}"
    lo = f"\\u{rng.choice('dD')}{rng.choice('cdefCDEF')}{rng.randint(0, 255):02X}"
    return ('"' + rng.choice([
        hi, lo, f"text {hi} more", lo + hi, hi + hi + lo, f"{hi}\\\\{lo}", f"\\\\{hi}{lo}",
        "\\ud83d\\ude00 fine pair", "pair then lone \\ud83d\\ude00" + hi,
    ]) + '"').encode()


def _surrogate_bytes(rng: random.Random) -> bytes:
    # UTF-8 encodings of surrogate code points: not valid UTF-8.
    return b'"' + rng.choice([b"\xed\xa0\x80", b"\xed\xbf\xbf", b"x\xed\xb0\x80y",
                              b"\xed\xa0\xbd\xed\xb8\x80"]) + b'"'


def _invalid_utf8(rng: random.Random) -> bytes:
    return b'"' + rng.choice([b"\xff", b"\xfe\xff", b"\xc3", b"\xc0\xaf", b"\xe2\x82",
                              b"\xf4\x90\x80\x80", b"\xf8\x88\x80\x80\x80", b"\x80",
                              bytes([rng.randint(128, 255)])]) + b'"'


def _control(rng: random.Random) -> bytes:
    return rng.choice([b'"\\u0000"', b'"a\\u0000b"', b'"\\u001b[31mred"', b'"\\u2028\\u2029"',
                       b'"\\ufeff\\uffff\\ufffe"', b'"\\u0085\\u007f"', b'"\x01raw"',
                       b'"tab\there"', b'"\\/\\b\\f\\n\\r\\t"', b'"\\uDBFF\\uDFFF"'])


def _deep(rng: random.Random) -> bytes:
    depth = rng.choice([50, 400, 900, 990, 1000, 3000, 100_000])
    if rng.random() < 0.5:
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


def _random_json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randint(0, 8 if depth < 3 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 2**31, 2**63, 10**18, rng.randint(-10**6, 10**6)])
    if kind == 3:
        return rng.choice([0.0, -0.0, 1e308, 5e-324, rng.uniform(-1e6, 1e6)])
    if kind in (4, 5):
        return rng.choice(["", " ", "x" * rng.randint(1, 300), "2024-02-30", "Patient/",
                           "#", "urn:uuid:", "ééé", "\u202e", "日本語", "null", "0",
                           "1961-04-02T25:61:61Z"])
    if kind in (6, 7):
        return [_random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(["a", "id", "value", "reference", "coding", "text", ""]):
            _random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))}


# --- classes -------------------------------------------------------------------------

def _literal_class(maker: Callable[[random.Random], bytes], as_key: bool = False):
    def make(rng: random.Random, doc: _Doc) -> None:
        for _ in range(rng.randint(1, 3)):
            _inject(doc, rng, maker(rng), as_key=as_key)
    return make


def _wrong_types(rng: random.Random, doc: _Doc) -> None:
    for _ in range(rng.randint(1, 5)):
        _set_value(doc, rng, _random_json(rng))


FHIR_FIELD_VALUES = {
    "subject": [{"reference": ""}, {"reference": "#"}, {"reference": "#nope"},
                {"reference": "Patient/"}, {"reference": "/"}, {"reference": 5},
                {"reference": "Patient/" + "9" * 5000}, "Patient/1", [], {"display": "x"}],
    "effectiveDateTime": ["2024-02-31", "0000-01-01", "99999-01-01", "2024-01-01T24:00:00Z",
                          "2024-01-01T10:00:00+99:99", "2024-01-01T10:00:00." + "9" * 500 + "Z",
                          "", 20240101, None, ["2024"], "-2024-01-01"],
    "valueQuantity": [{"value": "12"}, {"value": True}, {"value": None}, {"value": [1]},
                      {"value": 1e308, "unit": 5}, {"value": -1e308}, {"value": 5e-324}, [], 7],
    "code": [{"coding": {}}, {"coding": [None, 1, "x"]}, {"coding": [{"code": 7}]},
             {"coding": [{"code": 1e300}]}, {"coding": [{"code": 10**200}]}, {"text": 5}, "x"],
    "status": ["", "entered-in-error", 1, None, ["final"], "x" * 1000],
    "entry": [None, {}, "x", [None], [1, "x", []], [{"resource": None}], [{"resource": []}],
              [{"resource": {"resourceType": "Bundle", "entry": [{"resource": {}}]}}],
              [{"fullUrl": 5, "resource": {"resourceType": "Patient"}}],
              [{"request": {"method": "DELETE"}, "resource": {"resourceType": "Patient"}}]],
    "contained": [None, "x", [1], [{"resourceType": "Patient", "id": 5}],
                  [{"resourceType": "Patient", "id": "p", "name": "x"}]],
    "content": [[{"attachment": {"contentType": "text/plain; charset=utf-7", "data": "KzJBQS0="}}],
                [{"attachment": {"contentType": "text/plain; charset=unicode_escape",
                                 "data": "XHVkODAw"}}],
                [{"attachment": {"contentType": "text/plain; charset=idna",
                                 "data": base64.b64encode(b"a" * 80).decode()}}],
                [{"attachment": {"contentType": "text/plain; charset=rot13", "data": "eA=="}}],
                [{"attachment": {"contentType": "text/html", "data": "JiN4ZDgwMDsmIzA7"}}],
                [{"attachment": {"contentType": "text/plain", "data": "!!!notbase64"}}],
                [{"attachment": 5}], "x"],
    "birthDate": ["1961-02-29", "0001-01-01", "10000-01-01", "", 1961, "1961-13"],
}


def _fhir_fields(rng: random.Random, doc: _Doc) -> None:
    for _ in range(rng.randint(1, 4)):
        key = rng.choice(list(FHIR_FIELD_VALUES))
        targets = [p for p in [(), *doc.paths()] if isinstance(_get(doc.obj, p), dict)]
        node = _get(doc.obj, rng.choice(targets))
        node[key] = copy.deepcopy(rng.choice(FHIR_FIELD_VALUES[key]))


def _remove_keys(rng: random.Random, doc: _Doc) -> None:
    for _ in range(rng.randint(1, 6)):
        dicts = [p for p in [(), *doc.paths()] if isinstance(_get(doc.obj, p), dict)
                 and _get(doc.obj, p)]
        if not dicts:
            return
        node = _get(doc.obj, rng.choice(dicts))
        node.pop(rng.choice(list(node)))


CLASSES: dict[str, Callable[[random.Random, _Doc], None]] = {
    "huge_int": _literal_class(_huge_int),
    "big_int_accepted": _literal_class(_big_int_ok),
    "huge_exponent": _literal_class(_huge_exponent),
    "nan_infinity": _literal_class(_nan_inf),
    "surrogate_escape_value": _literal_class(_surrogate_escape),
    "surrogate_escape_key": _literal_class(_surrogate_escape, as_key=True),
    "surrogate_raw_bytes": _literal_class(_surrogate_bytes),
    "invalid_utf8": _literal_class(_invalid_utf8),
    "control_chars": _literal_class(_control),
    "deep_nesting": _literal_class(_deep),
    "wrong_types": _wrong_types,
    "fhir_field_values": _fhir_fields,
    "missing_keys": _remove_keys,
}

# Classes that damage the serialised bytes rather than the structure.
BYTE_CLASSES = ("truncated", "byte_flips", "encodings", "ndjson_lines", "tiny_documents")


def _byte_damage(cls: str, rng: random.Random, data: bytes, container: str) -> tuple[bytes, str]:
    if cls == "truncated":
        return data[: rng.randint(1, max(1, len(data) - 1))], container
    if cls == "byte_flips":
        raw = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        return bytes(raw), container
    if cls == "encodings":
        text = data.decode("utf-8")
        choice = rng.randint(0, 6)
        if choice == 0:
            return text.encode("utf-16"), container
        if choice == 1:
            return text.encode("utf-16")[:-1], container  # odd length
        if choice == 2:
            return text.encode("utf-32")[: rng.randint(4, 400)], container
        if choice == 3:
            return b"\xef\xbb\xbf" + data, container
        if choice == 4:
            return b"\xef\xbb\xbf\xef\xbb\xbf" + data, container
        if choice == 5:
            return text.encode("latin-1", errors="replace").replace(b"a", b"\xe9"), container
        return b"\xff\xfe" + data, container  # a UTF-16 BOM on UTF-8 bytes
    if cls == "ndjson_lines":
        lines = data.split(b"\n")
        for _ in range(rng.randint(1, 5)):
            i = rng.randrange(len(lines))
            lines[i] = rng.choice([b"", b"   ", b"\r", b"[]", b"null", b"1", b'"x"', b"{",
                                   b'{"resourceType":"Bundle","entry":[]}',
                                   b'{"resourceType":"Patient"} trailing',
                                   b'{"resourceType":"Patient"}{"resourceType":"Patient"}',
                                   lines[i][: len(lines[i]) // 2], lines[i] + b"\r",
                                   b"\x00" * 10, b'{"no":"resourceType"}'])
        return b"\n".join(lines), "ndjson"
    # tiny_documents
    return rng.choice([b"", b" ", b"\n\n", b"null", b"[]", b"{}", b"0", b'"x"', b"true",
                       b"{\"resourceType\":null}", b"{\"resourceType\":\"Bundle\"}",
                       b"{\"resourceType\":\"Bundle\",\"entry\":null}", b"\xef\xbb\xbf",
                       b"{\"resourceType\":\"Patient\",\"resourceType\":\"Banana\"}",
                       b"{\"resourceType\":\"Patient\"}" * 3,
                       b"{\"resourceType\":\"Patient\"}\n" * 3]), container


ALL_CLASSES = (*CLASSES, *BYTE_CLASSES)


def cases(cls: str, n: int, seed: int = 0) -> Iterator[Case]:
    """`n` inputs of one class, spread over the three containers."""
    rng = random.Random(f"{cls}:{seed}")
    for i in range(n):
        container = CONTAINERS[i % 3] if cls != "ndjson_lines" else "ndjson"
        doc = _Doc(container, rng)
        if container == "ndjson" and rng.random() < 0.2:
            doc.newline = "\r\n"
        if cls in CLASSES:
            CLASSES[cls](rng, doc)
            yield Case(cls, container, doc.serialise())
        else:
            data, kind = _byte_damage(cls, rng, doc.serialise(), container)
            yield Case(cls, kind, data)


def sample(per_class: int = 2, seed: int = 1) -> list[Case]:
    """A few cases of every class (for the slower CLI test)."""
    return [c for cls in ALL_CLASSES for c in cases(cls, per_class, seed)]
