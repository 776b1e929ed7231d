"""Read FHIR input files into raw resources with their locations.

Accepts a Bundle JSON, a single resource JSON, an NDJSON file, or a folder of them.
Fatal problems (unreadable, not JSON, not UTF-8, not FHIR, too large) raise FhirError;
problems with single NDJSON lines or Bundle entries become ImportIssues.
"""

from __future__ import annotations

import codecs
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from osler.fhir.errors import FhirError, ImportIssue
from osler.fhir.resource_types import R4_RESOURCE_TYPES
from osler.record import Source

DEFAULT_MAX_MB = 1024
NDJSON_SUFFIXES = (".ndjson", ".jsonl")
FOLDER_SUFFIXES = (".ndjson", ".jsonl", ".json")


@dataclass(slots=True)
class RawResource:
    """A resource dict, where it came from, and the Bundle fullUrl if any."""

    resource: dict[str, Any]
    source: Source
    full_url: str | None = None


def max_bytes() -> int:
    """Largest single JSON file we load into memory (OSLER_MAX_IMPORT_MB overrides)."""
    try:
        mb = int(os.environ.get("OSLER_MAX_IMPORT_MB", DEFAULT_MAX_MB))
    except ValueError:
        mb = DEFAULT_MAX_MB
    return max(1, mb) * 1024 * 1024


def decode(data: bytes, name: str) -> str:
    """Decode JSON bytes: UTF-8 (a BOM of UTF-8/16/32 is honoured), else a clear error."""
    for bom, enc in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(enc)
            except UnicodeDecodeError as exc:
                raise FhirError(f"not valid {enc} text ({exc.reason} at byte {exc.start})",
                                Source(name)) from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.start + 1].hex()
        raise FhirError(
            f"not UTF-8 text (byte 0x{bad} at offset {exc.start}); FHIR JSON must be UTF-8",
            Source(name),
        ) from exc


def read_path(path: Path, issues: list[ImportIssue]) -> Iterator[RawResource]:
    """Yield every resource in a file or folder, flattening Bundles."""
    if not path.exists():
        raise FhirError("no such file or folder", Source(str(path)))
    if path.is_dir():
        files = sorted(
            p for p in path.iterdir() if p.is_file() and p.suffix.lower() in FOLDER_SUFFIXES
        )
        if not files:
            raise FhirError("folder holds no .ndjson or .json files", Source(str(path)))
        for f in files:
            if f.suffix.lower() in NDJSON_SUFFIXES:
                yield from _read_ndjson(f, issues, in_folder=True)
            else:
                try:
                    yield from _read_json(f, issues)
                except FhirError as exc:
                    issues.append(ImportIssue(Source(str(f)), None, f"skipped: {exc.message}"))
        return
    if not path.is_file():
        raise FhirError("not a regular file", Source(str(path)))
    if path.suffix.lower() in NDJSON_SUFFIXES:
        yield from _read_ndjson(path, issues, in_folder=False)
    else:
        yield from _read_json(path, issues)


def _read_json(path: Path, issues: list[ImportIssue]) -> Iterator[RawResource]:
    name = str(path)
    size = path.stat().st_size
    if size > max_bytes():
        raise FhirError(
            f"file is {size / 2**20:.0f} MB, over the {max_bytes() // 2**20} MB limit for one "
            "JSON document; export as NDJSON (streamed) or raise OSLER_MAX_IMPORT_MB",
            Source(name),
        )
    if size == 0:
        raise FhirError("file is empty", Source(name))
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FhirError(f"cannot read: {exc.strerror}", Source(name)) from exc
    text = decode(data, name)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and _looks_like_ndjson(text):
            yield from _parse_ndjson_lines(text.splitlines(), name, issues, in_folder=False)
            return
        hint = " (file truncated?)" if exc.pos >= len(text.rstrip()) - 1 else ""
        raise FhirError(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}{hint}",
            Source(name),
        ) from exc
    except RecursionError as exc:
        raise FhirError("JSON nested too deeply", Source(name)) from exc
    _check_resource(doc, Source(name))
    yield from _flatten(doc, Source(name), None, issues)


def _looks_like_ndjson(text: str) -> bool:
    first = text.lstrip().split("\n", 1)[0].strip()
    try:
        return isinstance(json.loads(first), dict)
    except (json.JSONDecodeError, RecursionError):
        return False


def _check_resource(doc: object, source: Source) -> None:
    if not isinstance(doc, dict):
        raise FhirError(
            f"top level is a JSON {type(doc).__name__}, not a FHIR resource object", source
        )
    rtype = doc.get("resourceType")
    if rtype is None:
        raise FhirError("missing resourceType; not a FHIR resource", source, "resourceType")
    if not isinstance(rtype, str) or rtype not in R4_RESOURCE_TYPES:
        raise FhirError(f"unknown resourceType {str(rtype)[:60]!r} (not FHIR R4)", source,
                        "resourceType")


def _flatten(
    doc: dict[str, Any], source: Source, full_url: str | None, issues: list[ImportIssue]
) -> Iterator[RawResource]:
    if doc.get("resourceType") != "Bundle":
        rid = doc.get("id")
        yield RawResource(
            doc,
            Source(source.file, source.entry, source.line, doc["resourceType"],
                   rid if isinstance(rid, str) else None),
            full_url,
        )
        return
    entries = doc.get("entry", [])
    if not isinstance(entries, list):
        issues.append(ImportIssue(source, "Bundle.entry", "not a list; bundle ignored"))
        return
    for i, entry in enumerate(entries):
        where = Source(source.file, i if source.entry is None else source.entry, source.line)
        if not isinstance(entry, dict):
            issues.append(ImportIssue(where, f"entry[{i}]", "not an object; skipped"))
            continue
        request = entry.get("request")
        if isinstance(request, dict) and request.get("method") == "DELETE":
            continue
        res = entry.get("resource")
        if res is None:
            continue  # e.g. a transaction-response entry with only a status
        url = entry.get("fullUrl") if isinstance(entry.get("fullUrl"), str) else None
        rtype = res.get("resourceType") if isinstance(res, dict) else None
        if not isinstance(res, dict) or not isinstance(rtype, str) or (
            rtype not in R4_RESOURCE_TYPES
        ):
            issues.append(
                ImportIssue(where, "resource.resourceType",
                            f"unknown or missing resourceType {str(rtype)[:60]!r}; skipped")
            )
            continue
        yield from _flatten(res, where, url, issues)


def _read_ndjson(path: Path, issues: list[ImportIssue], in_folder: bool) -> Iterator[RawResource]:
    name = str(path)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise FhirError(f"cannot read: {exc.strerror}", Source(name)) from exc
    with handle:
        lines = (raw for raw in handle)
        yield from _parse_ndjson_lines(lines, name, issues, in_folder)


def _parse_ndjson_lines(
    lines: Any, name: str, issues: list[ImportIssue], in_folder: bool
) -> Iterator[RawResource]:
    """Parse NDJSON one line at a time (streams: a huge export never sits in memory)."""
    good = bad = 0
    first_error: str | None = None
    for lineno, raw in enumerate(lines, start=1):
        if isinstance(raw, bytes):
            if not raw.strip():
                continue
            if lineno == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[3:]
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                bad += 1
                msg = f"not UTF-8 (byte offset {exc.start} in line); line skipped"
                first_error = first_error or msg
                issues.append(ImportIssue(Source(name, line=lineno), None, msg))
                continue
        else:
            line = raw
            if not line.strip():
                continue
        src = Source(name, line=lineno)
        try:
            doc = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            bad += 1
            msg = f"invalid JSON ({getattr(exc, 'msg', 'nested too deeply')}); line skipped"
            first_error = first_error or msg
            issues.append(ImportIssue(src, None, msg))
            continue
        if isinstance(doc, dict) and "resourceType" not in doc and good == 0 and in_folder:
            # Bulk-export side files such as log.ndjson are not FHIR: skip the whole file.
            issues.append(ImportIssue(Source(name), None, "not FHIR resources (no resourceType); "
                                      "file skipped"))
            return
        try:
            _check_resource(doc, src)
        except FhirError as exc:
            bad += 1
            first_error = first_error or exc.message
            issues.append(ImportIssue(src, exc.field, exc.message + "; line skipped"))
            continue
        good += 1
        yield from _flatten(doc, src, None, issues)
    if good == 0 and bad > 0 and not in_folder:
        raise FhirError(f"no readable FHIR resources; first problem: {first_error}", Source(name))
