"""Read FHIR input files into raw resources with their locations.

Accepts a Bundle JSON, a single resource JSON, an NDJSON file, or a folder of them.
Fatal problems (unreadable, not JSON, not UTF-8, not FHIR, too large for memory) raise
FhirError; problems with single NDJSON lines or Bundle entries become ImportIssues.

Everything downstream (timeline, JSON output, Qt, the audit store, de-identification) can
rely on what this module hands out: every number is finite and fits a float (a literal
that does not, and NaN/Infinity, which JSON and FHIR forbid, make the document or NDJSON
line unreadable), and every string is valid Unicode (a lone surrogate escape such as
"\\ud800" becomes U+FFFD, with a warning naming the field).

Memory: NDJSON is streamed a line at a time, on every pass (FhirInput can be read more
than once). A JSON document is parsed whole (peak about JSON_MEMORY_RATIO times the
file), or, for a large import, a Bundle an entry at a time from its text
(bundle_stream.py, about 2.5x); one over OSLER_MAX_IMPORT_MB (default DEFAULT_MAX_MB), or
too big for the memory available now, is refused before it is read.
"""

from __future__ import annotations

import codecs
import json
import math
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from osler.fhir.errors import FhirError, ImportIssue
from osler.fhir.resource_types import R4_RESOURCE_TYPES
from osler.record import Source

# Peak RSS of importing a Bundle over its file size: 6.0x above the interpreter's own
# (bench/import_bench.py --memory, 50 and 200 MB; docs/security.md). 7 keeps a margin.
JSON_MEMORY_RATIO = 7
# A Bundle read an entry at a time: its text (1x as str) and, while decoding, its bytes
# (1x), plus one entry; measured 2.0x above the interpreter (200 MB).
STREAM_MEMORY_RATIO = 2.5
DEFAULT_MAX_MB = 512  # x JSON_MEMORY_RATIO = 3.5 GB: fits a 16 GB workstation comfortably
NDJSON_SUFFIXES = (".ndjson", ".jsonl")
FOLDER_SUFFIXES = (".ndjson", ".jsonl", ".json")
MAX_INT_DIGITS = 300  # any longer integer literal overflows a float (FHIR integers: 19)
MAX_LISTED_REPAIRS = 20  # per document or line; the rest are counted in one warning

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_LEADING_SPACE = re.compile(r"\s*")


@dataclass(slots=True)
class RawResource:
    """A resource dict, where it came from, and the Bundle fullUrl if any."""

    resource: dict[str, Any]
    source: Source
    full_url: str | None = None


class NumberRefused(ValueError):
    """A JSON number no finite float holds (or NaN/Infinity); the document is unreadable."""

    def __init__(self, literal: str, reason: str):
        self.literal = literal
        self.reason = reason
        super().__init__(reason)


def display_name(path: Path) -> str:
    """The path as text that always encodes: bytes of a file name that are not UTF-8
    (held by Python as lone surrogates) are shown as U+FFFD."""
    name = str(path)
    return name if name.isascii() else LONE_SURROGATE.sub("\ufffd", name)


def max_bytes() -> int:
    """Largest single JSON document we parse (OSLER_MAX_IMPORT_MB overrides); also the
    longest NDJSON line."""
    try:
        mb = int(os.environ.get("OSLER_MAX_IMPORT_MB", DEFAULT_MAX_MB))
    except ValueError:
        mb = DEFAULT_MAX_MB
    return max(1, mb) * 1024 * 1024


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation now, or None when unknown."""
    try:
        import psutil
    except ImportError:  # not a declared dependency: fall back to the kernel's own figure
        try:
            with open("/proc/meminfo", encoding="ascii") as f:
                for line in f:
                    if line.startswith("MemAvailable:"):
                        return int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            return None
        return None
    try:
        return int(psutil.virtual_memory().available)
    except Exception:  # psutil can fail in odd sandboxes; the check is then skipped
        return None


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


# --- JSON with FHIR's number and Unicode rules -------------------------------------

def _parse_int(literal: str) -> int:
    if len(literal.lstrip("-")) > MAX_INT_DIGITS:
        raise NumberRefused(literal, f"number with {len(literal.lstrip('-'))} digits is too "
                                     f"large (at most {MAX_INT_DIGITS})")
    return int(literal)


def _parse_float(literal: str) -> float:
    value = float(literal)
    if math.isinf(value):
        raise NumberRefused(literal, f"number {_short(literal)} is out of range")
    return value


def _refuse_constant(name: str) -> float:
    raise NumberRefused(name, f"{name} is not a JSON number (FHIR forbids NaN and Infinity)")


def _short(literal: str) -> str:
    return literal if len(literal) <= 24 else f"{literal[:12]}…{literal[-6:]}"


def _loads(text: str) -> Any:
    """json.loads that refuses numbers no finite float holds (raises NumberRefused)."""
    return json.loads(text, parse_int=_parse_int, parse_float=_parse_float,
                      parse_constant=_refuse_constant)


def _number_position(text: str, literal: str) -> str:
    """' at line L column C' of the first place the refused literal stands as a value."""
    m = re.search(r"(?<![\w.+\-\"])" + re.escape(literal) + r"(?![\w.])", text)
    if m is None:
        return ""
    line = text.count("\n", 0, m.start()) + 1
    return f" at line {line} column {m.start() - text.rfind(chr(10), 0, m.start())}"


def parse_json(text: str, source: Source, issues: list[ImportIssue]) -> Any:
    """Parse one JSON document or NDJSON line by FHIR's rules; FhirError when unreadable.

    Lone surrogates are replaced (with a warning in `issues`) so that nothing downstream
    ever holds a string that cannot be encoded."""
    try:
        doc = _loads(text)
    except NumberRefused as exc:
        where = "" if source.line is not None else _number_position(text, exc.literal)
        raise FhirError(f"{exc.reason}{where}", source) from None
    except json.JSONDecodeError as exc:
        if source.line is not None:  # an NDJSON line: the source names it
            raise FhirError(f"invalid JSON ({exc.msg})", source) from exc
        hint = " (file truncated?)" if exc.pos >= len(text.rstrip()) - 1 else ""
        raise FhirError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}{hint}",
                        source) from exc
    except RecursionError as exc:
        what = "invalid JSON (nested too deeply)" if source.line is not None else (
            "JSON nested too deeply")
        raise FhirError(what, source) from exc
    if _SURROGATE_ESCAPE.search(text):
        doc = repair_unicode(doc, source, issues)
    return doc


def repair_unicode(doc: Any, source: Source, issues: list[ImportIssue]) -> Any:
    """Replace lone surrogates in every string and key by U+FFFD, one warning per field
    (the first MAX_LISTED_REPAIRS, then a count); returns the repaired document."""
    repaired: list[str] = []
    doc = repair_paths(doc, None, repaired)
    report_repairs(repaired, source, issues)
    return doc


def report_repairs(repaired: list[str], source: Source, issues: list[ImportIssue]) -> None:
    """One warning per repaired field path (the first MAX_LISTED_REPAIRS, then a count)."""
    for path in repaired[:MAX_LISTED_REPAIRS]:
        issues.append(ImportIssue(source, path or None,
                                  "invalid Unicode (lone surrogate) replaced by U+FFFD"))
    if len(repaired) > MAX_LISTED_REPAIRS:
        issues.append(ImportIssue(source, None, f"invalid Unicode replaced by U+FFFD in "
                                                f"{len(repaired) - MAX_LISTED_REPAIRS} more "
                                                "fields"))


def repair_paths(doc: Any, root: _Trail, repaired: list[str]) -> Any:
    """repair_unicode's work on DOC found at ROOT (a trail): the repaired fields' paths go
    to REPAIRED; returns the repaired value."""

    def fix(s: str, trail: _Trail) -> str:
        if s.isascii() or LONE_SURROGATE.search(s) is None:
            return s
        repaired.append(_field_path(trail))
        return LONE_SURROGATE.sub("\ufffd", s)

    if isinstance(doc, str):
        return fix(doc, root)
    # Iterative (a document may nest as deep as the parser allows); a field's path is only
    # spelt out when it needs a warning.
    stack: list[tuple[Any, _Trail]] = [(doc, root)] if isinstance(doc, dict | list) else []
    while stack:
        node, trail = stack.pop()
        if isinstance(node, list):
            for i, v in enumerate(node):
                if isinstance(v, str):
                    node[i] = fix(v, (trail, i))
                elif isinstance(v, dict | list):
                    stack.append((v, (trail, i)))
            continue
        if any(not k.isascii() and LONE_SURROGATE.search(k) for k in node):
            items = list(node.items())
            node.clear()
            for k, v in items:
                node[fix(k, (trail, LONE_SURROGATE.sub("\ufffd", k)))] = v
        for k, v in node.items():
            if isinstance(v, str):
                node[k] = fix(v, (trail, k))
            elif isinstance(v, dict | list):
                stack.append((v, (trail, k)))
    return doc


_Trail = tuple[Any, str | int] | None  # (parent trail, key or index), built as we descend


def _field_path(trail: _Trail) -> str:
    """'name[0].text' for a trail; long keys and very deep paths are shortened."""
    parts: list[str] = []
    while trail is not None:
        trail, key = trail
        if isinstance(key, int):
            parts.append(f"[{key}]")
        else:
            key = key if len(key) <= 40 else key[:30] + "…"
            parts.append("." + key)
    if len(parts) > 12:
        parts = [*parts[:6], ".…", *parts[-5:]]
    return "".join(reversed(parts)).removeprefix(".")


# --- files -------------------------------------------------------------------------

Streamer = Callable[[str, Source, list[ImportIssue]], "Iterator[RawResource] | None"]
"""Reads a document's resources from its text without parsing it whole, or returns None
when it cannot (osler.fhir.bundle_stream.stream)."""


class FhirInput:
    """The FHIR files of one import path, readable more than once.

    NDJSON is streamed from disk on every pass, so its memory does not grow with the file.
    A lone JSON document is parsed once and held until the pass given `last=True`, which
    frees each Bundle entry once it has been handed out; the JSON files of a folder are
    parsed on each pass (one in memory at a time)."""

    def __init__(self, path: Path, streamer: Streamer | None = None):
        # Reads a lone Bundle an entry at a time, or says it cannot (bundle_stream.stream).
        self.streamer = streamer
        if not path.exists():
            raise FhirError("no such file or folder", Source(display_name(path)))
        self.path = path
        self.folder = path.is_dir()
        if self.folder:
            self.files = sorted(
                p for p in path.iterdir() if p.is_file() and p.suffix.lower() in FOLDER_SUFFIXES
            )
            if not self.files:
                raise FhirError("folder holds no .ndjson or .json files",
                                Source(display_name(path)))
        elif not path.is_file():
            raise FhirError("not a regular file", Source(display_name(path)))
        else:
            self.files = [path]
        self._docs: dict[Path, Any] = {}  # parsed JSON documents between passes
        self._texts: dict[Path, str] = {}  # streamed Bundles' text between passes
        self._refused: dict[Path, str] = {}  # folder .json files skipped on the first pass
        self._lines: set[Path] = set()  # .json files that turned out to hold NDJSON
        self._passes = 0
        # A folder's JSON file that fails only on a later pass (changed, or memory ran
        # short): its issue, which the caller's scratch list for that pass would lose.
        self.late_issues: list[ImportIssue] = []

    def size(self) -> int:
        """Bytes of input (every file read)."""
        return sum(f.stat().st_size for f in self.files)

    def resources(self, issues: list[ImportIssue], last: bool = True) -> Iterator[RawResource]:
        """Yield every resource, flattening Bundles; issues of reading go to `issues` (give
        a scratch list on later passes: the same issues would be found again)."""
        self._passes += 1
        for f in self.files:
            if f.suffix.lower() in NDJSON_SUFFIXES:
                yield from _read_ndjson(f, issues, in_folder=self.folder)
            elif not self.folder:
                yield from self._json(f, issues, last)
            elif f not in self._refused:
                try:
                    yield from self._json(f, issues, last)
                except FhirError as exc:
                    self._refused[f] = exc.message
                    issue = ImportIssue(Source(display_name(f)), None, f"skipped: {exc.message}")
                    issues.append(issue)
                    if self._passes > 1:
                        self.late_issues.append(issue)

    def _json(self, path: Path, issues: list[ImportIssue], last: bool) -> Iterator[RawResource]:
        if path in self._lines:
            yield from _parse_ndjson_lines(_read_text(path).splitlines(), display_name(path),
                                           issues, in_folder=False)
            return
        doc = self._docs.pop(path, None)
        text = None
        if doc is None and self.streamer is not None and not self.folder:
            text = self._texts.pop(path, None) or _read_text(path, STREAM_MEMORY_RATIO)
            streamed = self.streamer(text, Source(display_name(path)), issues)
            if streamed is not None:
                if not last:
                    self._texts[path] = text
                yield from streamed
                return
            _check_memory(path, JSON_MEMORY_RATIO)  # parsed whole after all
        if doc is None:
            text = text if text is not None else _read_text(path)
            doc = _parse_document(text, path, issues)
            if doc is None:  # NDJSON in a .json file: its lines, read again on each pass
                self._lines.add(path)
                yield from _parse_ndjson_lines(text.splitlines(), display_name(path), issues,
                                               in_folder=False)
                return
            del text
        if not last and not self.folder:
            # One document: held for the next pass. A folder's are parsed again on each
            # pass instead, so that only one of them is in memory at a time.
            self._docs[path] = doc
        source = Source(display_name(path))
        yield from _flatten(doc, source, None, issues, consume=last)


def read_path(path: Path, issues: list[ImportIssue]) -> Iterator[RawResource]:
    """Yield every resource in a file or folder once, flattening Bundles."""
    yield from FhirInput(path).resources(issues, last=True)


def _read_text(path: Path, ratio: float = JSON_MEMORY_RATIO) -> str:
    """The whole file as text, refused before reading when it cannot fit in memory
    (parsing needs about RATIO times the file)."""
    name = display_name(path)
    size = path.stat().st_size
    limit = max_bytes()
    if size > limit:
        raise FhirError(
            f"file is {size / 2**20:.0f} MB, over the {limit // 2**20} MB limit for one JSON "
            f"document (parsing one takes about {JSON_MEMORY_RATIO}x its size in memory); "
            "export as NDJSON (streamed) or raise OSLER_MAX_IMPORT_MB",
            Source(name),
        )
    if size == 0:
        raise FhirError("file is empty", Source(name))
    _check_memory(path, ratio)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FhirError(f"cannot read: {exc.strerror}", Source(name)) from exc
    return decode(data, name)


def _check_memory(path: Path, ratio: float) -> None:
    """FhirError when RATIO times the file does not fit in the memory available now."""
    size = path.stat().st_size
    need = size * ratio
    free = available_memory()
    if free is not None and need > free:
        raise FhirError(
            f"file is {size / 2**20:.0f} MB; parsing it needs about {need / 2**20:.0f} MB of "
            f"memory ({ratio:g}x) and only {free / 2**20:.0f} MB is available; "
            "close other programs or export as NDJSON (streamed)",
            Source(display_name(path)),
        )


def _parse_document(text: str, path: Path, issues: list[ImportIssue]) -> Any:
    """The checked top-level resource of a .json file, or None when it holds NDJSON."""
    name = display_name(path)
    try:
        doc = parse_json(text, Source(name), issues)
    except FhirError as exc:
        cause = exc.__cause__
        if (isinstance(cause, json.JSONDecodeError) and cause.msg == "Extra data"
                and _looks_like_ndjson(text)):
            return None
        raise
    _check_resource(doc, Source(name))
    return doc


def _looks_like_ndjson(text: str) -> bool:
    start = _LEADING_SPACE.match(text).end()  # type: ignore[union-attr]
    end = text.find("\n", start)
    first = text[start : end if end >= 0 else len(text)].strip()
    try:
        return isinstance(_loads(first), dict)
    except (ValueError, RecursionError):
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
    doc: dict[str, Any], source: Source, full_url: str | None, issues: list[ImportIssue],
    consume: bool = False,
) -> Iterator[RawResource]:
    """The resources of a document; with `consume`, each Bundle entry is dropped from the
    document once handed out (its memory goes back to the allocator for the next)."""
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
        if consume:
            entries[i] = None
        where = Source(source.file, i if source.entry is None else source.entry, source.line)
        yield from _entry_resources(entry, i, where, issues, consume)
        del entry


def _entry_resources(entry: Any, i: int, where: Source, issues: list[ImportIssue],
                     consume: bool = False) -> Iterator[RawResource]:
    """The resources of one Bundle entry (several when it holds a Bundle itself)."""
    if not isinstance(entry, dict):
        issues.append(ImportIssue(where, f"entry[{i}]", "not an object; skipped"))
        return
    request = entry.get("request")
    if isinstance(request, dict) and request.get("method") == "DELETE":
        return
    res = entry.get("resource")
    if res is None:
        return  # e.g. a transaction-response entry with only a status
    url = entry.get("fullUrl") if isinstance(entry.get("fullUrl"), str) else None
    rtype = res.get("resourceType") if isinstance(res, dict) else None
    if not isinstance(res, dict) or not isinstance(rtype, str) or (
        rtype not in R4_RESOURCE_TYPES
    ):
        issues.append(
            ImportIssue(where, "resource.resourceType",
                        f"unknown or missing resourceType {str(rtype)[:60]!r}; skipped")
        )
        return
    del entry
    yield from _flatten(res, where, url, issues, consume)


def _read_ndjson(path: Path, issues: list[ImportIssue], in_folder: bool) -> Iterator[RawResource]:
    name = display_name(path)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise FhirError(f"cannot read: {exc.strerror}", Source(name)) from exc
    with handle:
        yield from _parse_ndjson_lines(_bounded_lines(handle, max_bytes()), name, issues,
                                       in_folder)


def _bounded_lines(handle: Any, limit: int) -> Iterator[bytes | None]:
    """The file's lines as bytes; a line over `limit` bytes is read past and given as None
    (never held whole)."""
    while True:
        raw = handle.readline(limit + 1)
        if not raw:
            return
        if len(raw) > limit and not raw.endswith(b"\n"):
            while (rest := handle.readline(1 << 20)) and not rest.endswith(b"\n"):
                pass
            yield None
            continue
        yield raw


def _parse_ndjson_lines(
    lines: Any, name: str, issues: list[ImportIssue], in_folder: bool
) -> Iterator[RawResource]:
    """Parse NDJSON one line at a time (streams: a huge export never sits in memory)."""
    good = bad = 0
    first_error: str | None = None
    for lineno, raw in enumerate(lines, start=1):
        src = Source(name, line=lineno)
        if raw is None:
            bad += 1
            msg = f"line longer than {max_bytes() // 2**20} MB (OSLER_MAX_IMPORT_MB); skipped"
            first_error = first_error or msg
            issues.append(ImportIssue(src, None, msg))
            continue
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
                issues.append(ImportIssue(src, None, msg))
                continue
        else:
            line = raw
            if not line.strip():
                continue
        try:
            doc = parse_json(line, src, issues)
        except FhirError as exc:
            bad += 1
            msg = f"{exc.message}; line skipped"
            first_error = first_error or exc.message
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
