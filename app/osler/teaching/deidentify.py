"""`osler deidentify IN -o OUT`: a real FHIR record made into a teaching case.

Reads anything `osler import` reads (Bundle, single resource, NDJSON file, folder) in two
passes: a census of who is in it and what identifies them, then a rewrite of every
resource (see `rewrite.py`) written in the same shape, only to OUT, through a temporary
file or folder beside OUT that is renamed when complete. Nothing else is written.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from osler.fhir.errors import FhirError, ImportIssue
from osler.fhir.reader import FOLDER_SUFFIXES, NDJSON_SUFFIXES, decode, parse_json, read_path
from osler.fhir.resource_types import R4_RESOURCE_TYPES
from osler.record import Source
from osler.teaching.census import Census
from osler.teaching.errors import DeidentifyError
from osler.teaching.pseudonyms import Pseudonyms
from osler.teaching.rewrite import ResourceRewriter
from osler.teaching.scrub import TextScrubber

MIN_SEED_CHARS = 8
MAX_LISTED_WARNINGS = 100
REVIEW_NOTICE = (
    "Automatic de-identification following the HIPAA Safe Harbor list, with dates shifted "
    "per patient instead of removed. Names or places that appear only in free text and "
    "nowhere in the structured record can be missed: review every note before sharing."
)


@dataclass
class _InputFile:
    """One file of the input and what pass 1 learnt about it."""

    path: Path
    ndjson: bool
    number: int
    in_folder: bool
    usable: bool = True
    good_lines: set[int] = field(default_factory=set)
    lines_mode: bool = False  # a .json file that holds NDJSON


@dataclass
class _Output:
    """What was written: files with their names and resource counts."""

    files: list[str] = field(default_factory=list)
    by_type: Counter[str] = field(default_factory=Counter)


def deidentify_path(
    source: str | Path,
    output: str | Path,
    *,
    force: bool = False,
    seed: str | None = None,
    report_path: str | Path | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """De-identify a FHIR file or folder into OUT; returns the report (counts, no values).

    Raises FhirError for unreadable input and DeidentifyError for refused output paths or
    a weak seed; on any failure nothing is left at OUT or beside it.
    """
    src, dst = Path(source), Path(output)
    report_file = Path(report_path) if report_path is not None else None
    secret = _secret(seed)
    files = _input_files(src)
    _check_output(src, dst, force, folder=src.is_dir(), what="output")
    if report_file is not None:
        _check_output(src, report_file, force, folder=False, what="report")
        if _same_or_inside(report_file, dst):
            raise DeidentifyError("the report must not be written into the output",
                                  str(report_file))

    pseudonyms = Pseudonyms(secret)
    census = Census(pseudonyms, secret, today)
    issues: list[ImportIssue] = []
    read = Counter[str]()
    for f in files:
        for raw in _census_pass(f, issues):
            census.collect(raw)
            read[raw.resource["resourceType"]] += 1
    if not any(f.usable for f in files):
        raise FhirError("no readable FHIR resources in any file", Source(str(src)))
    census.finish()

    counts: Counter[str] = Counter()
    rewriter = ResourceRewriter(census, pseudonyms, TextScrubber(census.known), counts)
    written = _write(src, dst, files, rewriter, pseudonyms, force)

    report = {
        "output": str(dst),
        "shape": "folder" if src.is_dir() else ("ndjson" if files[0].ndjson
                                                or files[0].lines_mode else "json"),
        "files": {"read": sum(f.usable for f in files), "written": len(written.files),
                  "skipped": sum(not f.usable for f in files)},
        "patients": sum(not p.placeholder for p in census.patients.values()),
        "patients_referenced_but_absent": sum(p.placeholder for p in census.patients.values()),
        "resources": {
            "read": sum(read.values()),
            "written": sum(written.by_type.values()),
            "written_by_type": dict(sorted(written.by_type.items())),
        },
        "changes": dict(sorted(counts.items())),
        "date_shift": "one offset per patient, whole days, uniform within ±365 excluding 0; "
                      "the offsets are not recorded anywhere",
        "reproducible": secret is not None,
        "warnings": [_warning(i, files) for i in issues[:MAX_LISTED_WARNINGS]],
        "warning_count": len(issues),
        "notice": REVIEW_NOTICE,
    }
    if report_file is not None:
        _atomic_write_text(report_file, json.dumps(report, ensure_ascii=False, indent=2) + "\n",
                           force)
    return report


# --- checks -------------------------------------------------------------------------

def _secret(seed: str | None) -> bytes | None:
    if seed is None:
        return None
    if len(seed) < MIN_SEED_CHARS:
        raise DeidentifyError(f"too short for a secret; use at least {MIN_SEED_CHARS} "
                              "characters (it decides every date offset and pseudonym)",
                              "--seed")
    return seed.encode("utf-8")


def _input_files(src: Path) -> list[_InputFile]:
    if not src.exists():
        raise FhirError("no such file or folder", Source(str(src)))
    if src.is_dir():
        paths = sorted(p for p in src.iterdir()
                       if p.is_file() and p.suffix.lower() in FOLDER_SUFFIXES)
        if not paths:
            raise FhirError("folder holds no .ndjson or .json files", Source(str(src)))
    elif src.is_file():
        paths = [src]
    else:
        raise FhirError("not a regular file", Source(str(src)))
    return [_InputFile(p, p.suffix.lower() in NDJSON_SUFFIXES, i, src.is_dir())
            for i, p in enumerate(paths, start=1)]


def _same_or_inside(path: Path, folder: Path) -> bool:
    p, f = path.resolve(), folder.resolve()
    return p == f or f in p.parents


def _check_output(src: Path, dst: Path, force: bool, folder: bool, what: str) -> None:
    where = str(dst)
    if _same_or_inside(dst, src):
        raise DeidentifyError(f"the {what} must not be the input or inside it", where)
    if dst.exists() and _same_or_inside(src, dst):
        raise DeidentifyError(f"the {what} holds the input; refusing to replace it", where)
    parent = dst.resolve().parent
    if not parent.is_dir():
        raise DeidentifyError(f"folder {parent} does not exist", where)
    if not (dst.exists() or dst.is_symlink()):
        return
    if not force:
        raise DeidentifyError("already exists; choose another name or pass --force to "
                              "replace it", where)
    if dst.is_symlink():
        raise DeidentifyError("is a symbolic link; refusing to replace it", where)
    if folder and not dst.is_dir():
        raise DeidentifyError("exists and is not a folder (a folder input makes a folder)",
                              where)
    if not folder and dst.is_dir():
        raise DeidentifyError("is a folder; a file input makes one file", where)
    if folder:
        foreign = [p for p in dst.iterdir()
                   if not (p.is_file() and p.suffix.lower() in FOLDER_SUFFIXES)]
        if foreign:
            raise DeidentifyError("holds other things than FHIR files (a previous output "
                                  "holds only .ndjson/.json files); refusing to replace it",
                                  where)


# --- pass 1 -------------------------------------------------------------------------

def _census_pass(f: _InputFile, issues: list[ImportIssue]):
    """Resources of one file via the importer's reader; notes which lines/files were good."""
    before = len(issues)
    try:
        for raw in read_path(f.path, issues):
            if raw.source.line is not None:
                f.good_lines.add(raw.source.line)
                f.lines_mode = not f.ndjson
            yield raw
    except FhirError as exc:
        if not f.in_folder:
            raise
        f.usable = False
        del issues[before:]  # one warning for a skipped file, not one per line
        issues.append(ImportIssue(Source(str(f.path)), None, f"skipped: {exc.message}"))


# --- pass 2 -------------------------------------------------------------------------

def _write(src: Path, dst: Path, files: list[_InputFile], rewriter: ResourceRewriter,
           pseudonyms: Pseudonyms, force: bool) -> _Output:
    written = _Output()
    if not src.is_dir():
        f = files[0]

        def fill(handle) -> None:
            if not _write_file(f, handle, rewriter, written):
                raise DeidentifyError("nothing left to write: every resource in the input is "
                                      "of a kind that cannot be checked automatically "
                                      "(photos, media, binary content)", str(src))

        _atomic_write(dst, force, fill)
        written.files.append(dst.name)
        return written
    tmp = Path(tempfile.mkdtemp(prefix=f".{dst.name}.osler-tmp-", dir=dst.resolve().parent))
    try:
        order = sorted((f for f in files if f.usable),
                       key=lambda f: pseudonyms.resource_id(f"file\0{f.path.name}"))
        numbers: Counter[str] = Counter()
        for f in order:
            part = tmp / f".part-{f.number}"
            with part.open("w", encoding="utf-8", newline="\n") as handle:
                kinds = _write_file(f, handle, rewriter, written)
            if not kinds:
                part.unlink()
                continue
            stem = next(iter(kinds)) if len(kinds) == 1 else "resources"
            suffix = ".ndjson" if f.ndjson or f.lines_mode else ".json"
            name = f"{stem}.{numbers[stem + suffix]:03d}{suffix}"
            numbers[stem + suffix] += 1
            part.rename(tmp / name)
            written.files.append(name)
        if not written.files:
            raise DeidentifyError("nothing left to write: no resource in the folder can be "
                                  "de-identified automatically", str(src))
        _swap_folder(tmp, dst, force)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return written


def _write_file(f: _InputFile, handle, rewriter: ResourceRewriter, written: _Output) -> set[str]:
    """Rewrite one input file into an open text handle; returns the resource types written."""
    kinds: set[str] = set()
    if f.ndjson or f.lines_mode:
        for doc in _good_lines(f):
            new = rewriter.document(doc)
            if new is None:
                continue
            _tally(new, kinds, written)
            handle.write(json.dumps(new, ensure_ascii=False, separators=(",", ":")) + "\n")
        return kinds
    text = decode(f.path.read_bytes(), str(f.path))
    # The reader's parse (issues were reported by pass 1): the same numbers and Unicode rules.
    new = rewriter.document(parse_json(text, Source(str(f.path)), []))
    if new is not None:
        _tally(new, kinds, written)
        handle.write(json.dumps(new, ensure_ascii=False, indent=2) + "\n")
    return {str(new["resourceType"])} if new is not None else set()


def _good_lines(f: _InputFile) -> Iterator[dict[str, Any]]:
    """The NDJSON lines pass 1 read as FHIR (bad lines were reported there, never copied)."""
    if f.ndjson:
        with f.path.open("rb") as handle:
            for lineno, raw in enumerate(handle, start=1):
                if lineno in f.good_lines:
                    if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
                        raw = raw[3:]
                    yield parse_json(raw.decode("utf-8"), Source(str(f.path)), [])
    else:
        text = decode(f.path.read_bytes(), str(f.path))
        for lineno, line in enumerate(text.splitlines(), start=1):
            if lineno in f.good_lines:
                yield parse_json(line, Source(str(f.path)), [])


def _tally(doc: dict[str, Any], kinds: set[str], written: _Output) -> None:
    rtype = doc.get("resourceType")
    kinds.add(str(rtype))
    if rtype == "Bundle":
        for entry in doc.get("entry", []):
            res = entry.get("resource") if isinstance(entry, dict) else None
            if isinstance(res, dict):
                _tally(res, set(), written)
    elif rtype in R4_RESOURCE_TYPES:
        written.by_type[str(rtype)] += 1


def _atomic_write(dst: Path, force: bool, fill) -> None:
    """Write through a temporary file beside dst, renamed over it only when complete."""
    parent = dst.resolve().parent
    fd, name = tempfile.mkstemp(prefix=f".{dst.name}.osler-tmp-", dir=parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            fill(handle)
            handle.flush()
            os.fsync(handle.fileno())
        if dst.exists() and not force:
            raise DeidentifyError("appeared while writing; not replaced", str(dst))
        os.replace(tmp, dst)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _atomic_write_text(dst: Path, text: str, force: bool) -> None:
    _atomic_write(dst, force, lambda handle: handle.write(text))


def _swap_folder(tmp: Path, dst: Path, force: bool) -> None:
    """Put the finished folder at dst; a previous output is removed only after the swap."""
    if not dst.exists():
        tmp.rename(dst)
        return
    if not force:
        raise DeidentifyError("appeared while writing; not replaced", str(dst))
    old = dst.resolve().parent / f".{dst.name}.osler-old-{secrets.token_hex(4)}"
    dst.rename(old)
    try:
        tmp.rename(dst)
    except BaseException:
        old.rename(dst)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _warning(issue: ImportIssue, files: list[_InputFile]) -> str:
    """A reader warning located by input file number, entry and line: no names, no ids."""
    number = next((f.number for f in files if str(f.path) == issue.source.file), None)
    parts = [f"input file {number}" if number is not None else "input"]
    if issue.source.entry is not None:
        parts.append(f"entry {issue.source.entry}")
    if issue.source.line is not None:
        parts.append(f"line {issue.source.line}")
    if issue.field:
        parts.append(issue.field)
    parts.append(issue.message)
    return ": ".join(parts)
