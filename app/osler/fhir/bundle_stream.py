"""A Bundle read one entry at a time from its text, for inputs too large to keep every
patient (importer: not `all_patients`).

Parsing a Bundle whole holds every entry as Python objects at once (about 6x the file);
here only the text (about 1x) and one entry at a time are held, on each pass. The result
is the same as the whole-document reader's: the same resources, locations, warnings
and errors, with the same numbers and Unicode rules (tests/fhir/test_bundle_stream.py
checks this over the fuzz corpus). Only a document that starts with
`{"resourceType": "Bundle"` is streamed (every FHIR serializer writes resourceType first);
anything else is left to the whole-document reader.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from osler.fhir.errors import FhirError, ImportIssue
from osler.fhir.reader import (
    _SURROGATE_ESCAPE,
    LONE_SURROGATE,
    NumberRefused,
    RawResource,
    _entry_resources,
    _field_path,
    _number_position,
    _parse_float,
    _parse_int,
    _refuse_constant,
    repair_paths,
    report_repairs,
)
from osler.record import Source

_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder(parse_int=_parse_int, parse_float=_parse_float,
                            parse_constant=_refuse_constant)
FIRST_LINE_CHECK = 1 << 20  # a longer first line followed by more text is left whole


def stream(text: str, source: Source, issues: list[ImportIssue]) -> Iterator[RawResource] | None:
    """The reader's Streamer: the resources of a streamable Bundle, else None."""
    return stream_bundle(text, source, issues) if streamable(text) else None


def streamable(text: str) -> bool:
    """Whether TEXT is one JSON object starting `{"resourceType": "Bundle"` (not NDJSON
    whose first line happens to be a Bundle)."""
    i = _WS.match(text).end()  # type: ignore[union-attr]
    if not text.startswith("{", i):
        return False
    try:
        key, j = _DECODER.raw_decode(text, _WS.match(text, i + 1).end())  # type: ignore[union-attr]
        j = _WS.match(text, j).end()  # type: ignore[union-attr]
        if key != "resourceType" or not text.startswith(":", j):
            return False
        value, _ = _DECODER.raw_decode(text, _WS.match(text, j + 1).end())  # type: ignore[union-attr]
    except (ValueError, RecursionError):
        return False
    if value != "Bundle":
        return False
    newline = text.find("\n", i)
    if newline < 0 or not text[newline:].strip():
        return True  # one line: not NDJSON
    if newline - i > FIRST_LINE_CHECK:
        return False
    try:  # a first line that is a whole object, with more lines after it: NDJSON
        obj, _ = _DECODER.raw_decode(text[i:newline].rstrip())
        return not isinstance(obj, dict)
    except (ValueError, RecursionError):
        return True


def stream_bundle(text: str, source: Source, issues: list[ImportIssue]) -> Iterator[RawResource]:
    """The resources of the Bundle in TEXT (see `streamable`), one entry parsed at a time.
    Raises FhirError as the whole-document reader would (at the point it is found)."""
    repaired: list[str] = []
    try:
        yield from _members(text, source, issues, repaired)
    except NumberRefused as exc:
        raise FhirError(f"{exc.reason}{_number_position(text, exc.literal)}", source) from None
    except json.JSONDecodeError as exc:
        hint = " (file truncated?)" if exc.pos >= len(text.rstrip()) - 1 else ""
        raise FhirError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}{hint}",
                        source) from exc
    except RecursionError as exc:
        raise FhirError("JSON nested too deeply", source) from exc
    finally:
        report_repairs(repaired, source, issues)


def _members(text: str, source: Source, issues: list[ImportIssue],
             repaired: list[str]) -> Iterator[RawResource]:
    i = _WS.match(text).end() + 1  # type: ignore[union-attr]  # past "{"
    first = True
    seen: set[str] = set()
    while True:
        i = _ws(text, i)
        if text.startswith("}", i):
            break
        if not first:
            i = _expect(text, i, ",", "Expecting ',' delimiter")
        i = _ws(text, i)
        if not text.startswith('"', i):
            raise json.JSONDecodeError(
                "Expecting property name enclosed in double quotes", text, i)
        key, i = _DECODER.raw_decode(text, i)
        fixed = LONE_SURROGATE.sub("\ufffd", key)
        if fixed != key:  # as the whole-document reader names a repaired key
            repaired.append(_field_path((None, fixed)))
            key = fixed
        i = _expect(text, _ws(text, i), ":", "Expecting ':' delimiter")
        i = _ws(text, i)
        first = False
        if key == "entry" and text.startswith("[", i) and key not in seen:
            seen.add(key)
            i = yield from _entries(text, i + 1, source, issues, repaired)
            continue
        start = i
        value, i = _DECODER.raw_decode(text, i)
        if key == "entry" and not isinstance(value, list):
            issues.append(ImportIssue(source, "Bundle.entry", "not a list; bundle ignored"))
        if _SURROGATE_ESCAPE.search(text, start, i):
            repair_paths(value, (None, key), repaired)
        del value
    i = _ws(text, i + 1)
    if i != len(text):
        raise json.JSONDecodeError("Extra data", text, i)


def _entries(text: str, i: int, source: Source, issues: list[ImportIssue],
             repaired: list[str]) -> Iterator[RawResource]:
    """Each element of the entry array from I (past its "["); returns the index past "]"."""
    n = 0
    i = _ws(text, i)
    if text.startswith("]", i):
        return i + 1
    while True:
        start = _ws(text, i)
        entry, i = _DECODER.raw_decode(text, start)
        if _SURROGATE_ESCAPE.search(text, start, i):
            entry = repair_paths(entry, ((None, "entry"), n), repaired)
        where = Source(source.file, n, source.line)
        yield from _entry_resources(entry, n, where, issues)
        del entry
        n += 1
        i = _ws(text, i)
        if text.startswith("]", i):
            return i + 1
        i = _expect(text, i, ",", "Expecting ',' delimiter")


def _ws(text: str, i: int) -> int:
    return _WS.match(text, i).end()  # type: ignore[union-attr]


def _expect(text: str, i: int, char: str, message: str) -> int:
    if not text.startswith(char, i):
        raise json.JSONDecodeError(message, text, i)
    return i + 1
