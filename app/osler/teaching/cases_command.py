"""`osler cases list|show|add|remove`: the case library from the command line.

The same library functions as the teaching window's browser and "Import case…" dialog.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from osler.teaching.errors import TeachingError


def run_cases(args: argparse.Namespace, print_json: Callable[[Any], None]) -> int:
    """Run one `osler cases` subcommand; TeachingError/FhirError mean bad input (exit 2)."""
    from osler.teaching.library import CaseLibrary

    library = CaseLibrary.load()
    command = args.cases_command
    if command == "list":
        return _list(args, library, print_json)
    if command == "show":
        return _show(args, library, print_json)
    if command == "add":
        return _add(args, library, print_json)
    return _remove(args, library, print_json)


def _warn(library) -> None:
    for problem in library.problems:
        print(f"warning: skipped a case: {problem}", file=sys.stderr)


def _list(args, library, print_json) -> int:
    cases = library.filter(args.specialty, args.difficulty, args.text)
    if args.json:
        print_json({"cases": [c.listing() for c in cases],
                    "specialties": library.specialties(),
                    "user_folder": str(library.user_folder) if library.user_folder else None,
                    "problems": [str(p) for p in library.problems]})
        return 0
    if not cases:
        print("no cases match" if library.cases else "the case library is empty")
    for c in cases:
        print(f"{c.id:<34} {c.difficulty:<12} {c.specialty:<26} {c.title}"
              + (" [yours]" if c.source == "user" else ""))
    _warn(library)
    return 0


def _show(args, library, print_json) -> int:
    from osler.teaching.library import case_details

    doc = case_details(library.get(args.id))
    if args.json:
        print_json(doc)
        return 0
    print(f"{doc['title']} [{doc['id']}] — {doc['specialty']}, {doc['difficulty']}"
          f" ({doc['source']})")
    if doc["summary"]:
        print(doc["summary"])
    print(f"Patient: {doc['patient']}; {doc['events']} events; now {doc['now'] or '?'}")
    for s in doc["stages"]:
        print(f"  {s['title']}: {s['events']} event{'' if s['events'] == 1 else 's'}")
    gold = doc["gold"]
    print(f"Gold: {gold['name']} ({', '.join(gold['icd10']) or 'no ICD-10-CM code'})")
    for o in doc["objectives"]:
        print(f"  - {o}")
    if doc["teaching_notes"]:
        print(doc["teaching_notes"])
    print(f"Bundle: {doc['bundle']}")
    return 0


def _add(args, library, print_json) -> int:
    from osler.teaching.cases import SIDECAR_SUFFIX
    from osler.teaching.library import NewCase, add_case, import_case, sidecar_for

    bundle = Path(args.bundle)
    sidecar = bundle if bundle.name.endswith(SIDECAR_SUFFIX) else sidecar_for(bundle)
    if args.title is None and args.gold is None:
        if not sidecar.is_file():
            raise TeachingError(f"no case file {sidecar.name} beside the bundle: give --title "
                                "and --gold to describe the case", str(bundle))
        if args.deidentify:
            raise TeachingError("--deidentify works when the case is described with --title "
                                "and --gold (a case file lists event ids that de-identification "
                                "changes)", str(bundle))
        meta = import_case(sidecar, force=args.force, library=library)
    else:
        if not args.title or not args.gold:
            raise TeachingError("give both --title and --gold (or neither, to import the "
                                "case file beside the bundle)", field="--title/--gold")
        notes = args.notes or ""
        if args.notes_file:
            try:
                notes = Path(args.notes_file).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise TeachingError(f"cannot read ({exc})", args.notes_file) from None
        now = None
        if args.now:
            from osler.fhir.dates import DateParseError, parse_datetime

            try:
                now = parse_datetime(args.now)[0]
            except DateParseError as exc:
                raise TeachingError(str(exc), field="--now") from None
        new = NewCase(title=args.title, gold=args.gold, gold_icd10=tuple(args.gold_icd10 or ()),
                      specialty=args.specialty, difficulty=args.difficulty,
                      summary=args.summary or "", teaching_notes=notes,
                      objectives=tuple(args.objective or ()), now=now, case_id=args.id,
                      patient=args.patient, author=args.author or "")
        from osler.knowledge.pack import default_kb

        meta = add_case(bundle, new, default_kb(), deidentify=args.deidentify,
                        force=args.force, library=library)
    doc = {"added": meta.id, "title": meta.title, "sidecar": str(meta.sidecar),
           "bundle": str(meta.bundle), "gold": meta.gold.to_json(),
           "deidentified": bool(args.deidentify)}
    if args.json:
        print_json(doc)
    else:
        print(f"added case {meta.id!r} ({meta.title}) to {meta.sidecar.parent}")
        if args.deidentify:
            from osler.teaching.deidentify import REVIEW_NOTICE

            print(REVIEW_NOTICE)
    return 0


def _remove(args, library, print_json) -> int:
    from osler.teaching.library import remove_case

    meta = remove_case(args.id, library)
    if args.json:
        print_json({"removed": meta.id, "sidecar": str(meta.sidecar)})
    else:
        print(f"removed case {meta.id!r} ({meta.title})")
    return 0


def add_cases_parser(sub) -> None:
    """The `cases` subcommand and its options (kept beside the code that runs them)."""
    p = sub.add_parser("cases", help="teaching case library: list, show, add, remove",
                       description="Teaching cases: the shipped ones (resources/cases) and "
                       "your own ($OSLER_CASES_DIR, else 'cases' in the per-user data folder).")
    csub = p.add_subparsers(dest="cases_command", required=True, metavar="CASES_COMMAND")
    c = csub.add_parser("list", help="cases in the library (no diagnoses shown)")
    c.add_argument("--specialty", help="only this specialty (e.g. cardiology)")
    c.add_argument("--difficulty", help="only beginner, intermediate or advanced (or 1-3)")
    c.add_argument("--text", help="only cases whose title, summary or tags hold these words")
    c.add_argument("--json", action="store_true", help="print one JSON document")
    c = csub.add_parser("show", help="one case: stages, gold diagnosis, teaching notes")
    c.add_argument("id", help="case id (see `osler cases list`)")
    c.add_argument("--json", action="store_true", help="print one JSON document")
    c = csub.add_parser("add", help="add a FHIR record as a teaching case (copied into your "
                        "case folder)")
    c.add_argument("bundle", help="FHIR Bundle .json (or .ndjson, or one resource); with no "
                   "--title/--gold, its case file BUNDLE.case.json is imported with it")
    c.add_argument("--title", help="title shown in the library (no spoilers)")
    c.add_argument("--gold", help="the gold diagnosis, by name (checked against the "
                   "knowledge base)")
    c.add_argument("--gold-icd10", action="append", metavar="CODE",
                   help="ICD-10-CM code of the gold (repeatable; filled in from the knowledge "
                   "base when omitted)")
    c.add_argument("--specialty", default="general", help="e.g. cardiology, paediatrics")
    c.add_argument("--difficulty", default="intermediate",
                   help="beginner, intermediate or advanced (or 1-3)")
    c.add_argument("--summary", help="one-line presentation shown in the library")
    c.add_argument("--notes", help="teaching notes (your own words)")
    c.add_argument("--notes-file", help="read the teaching notes from this UTF-8 file")
    c.add_argument("--objective", action="append", help="a learning objective (repeatable)")
    c.add_argument("--now", help="the case's 'now' (FHIR dateTime; default: its last event)")
    c.add_argument("--id", help="case id (default: made from the title)")
    c.add_argument("--patient", help="patient id when the record holds several")
    c.add_argument("--author", help="who wrote the case")
    c.add_argument("--deidentify", action="store_true",
                   help="store a de-identified copy (as `osler deidentify`), not the original")
    c.add_argument("--force", action="store_true", help="replace your case with the same id")
    c.add_argument("--json", action="store_true", help="print one JSON document")
    c = csub.add_parser("remove", help="remove one of your own cases")
    c.add_argument("id", help="case id")
    c.add_argument("--json", action="store_true", help="print one JSON document")
