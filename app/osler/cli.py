"""Headless entry point: the same functions the window calls, as commands.

Exit status: 0 success, 2 bad input (one line on stderr naming what and where),
1 internal failure. `--json` prints one JSON document on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from osler import __version__


class InputError(Exception):
    """Bad input from the user; exit status 2."""


def _print_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2, default=str) + "\n")


def _parse_at(text: str | None):
    if text is None:
        return None
    from osler.fhir.dates import DateParseError, parse_datetime

    try:
        value, precision = parse_datetime(text)
    except DateParseError as exc:
        raise InputError(f"--at: {exc}") from exc
    if precision != "second":
        # A date means "by the end of that day/month/year".
        from datetime import timedelta

        step = {"day": timedelta(days=1), "month": timedelta(days=31), "year": timedelta(days=366)}
        end = value + step[precision]
        if precision == "month":
            end = end.replace(day=1)
        elif precision == "year":
            end = end.replace(month=1, day=1)
        value = end - timedelta(microseconds=1)
    return value


# --- commands ---------------------------------------------------------------

def cmd_import(args: argparse.Namespace) -> int:
    from osler.fhir import import_path

    result = import_path(args.path)
    doc = result.summary(args.patient)
    if args.json:
        _print_json(doc)
        return 0
    p = doc["patient"]
    if p is None:
        print(f"{args.path}: no patient data ({doc['resources']} resources)")
    else:
        print(f"Patient {p['name'] or '(unnamed)'} [{p['id']}] {p['gender'] or ''} "
              f"born {p['birth_date'] or '?'}")
        print(f"{doc['events']} events: " + ", ".join(f"{k} {v}" for k, v in
                                                     sorted(doc["counts"].items())))
    if doc.get("patients"):
        print(f"{len(doc['patients'])} patients in input; choose one with --patient ID")
    for w in doc["warnings"]:
        print(f"warning: {w}", file=sys.stderr)
    return 0


def cmd_timeline(args: argparse.Namespace) -> int:
    from osler.fhir import import_path
    from osler.fhir.importer import event_json

    result = import_path(args.path)
    timeline = result.timeline(args.patient).until(_parse_at(args.at))
    events = list(timeline)
    if args.kind:
        kinds = set(args.kind)
        events = [e for e in events if e.kind.value in kinds]
    if args.json:
        _print_json(
            {
                "patient": timeline.patient.summary(),
                "events": [event_json(e) for e in events],
                "warnings": [str(i) for i in result.issues[:200]],
            }
        )
        return 0
    from osler.fhir.dates import format_time

    for e in events:
        value = "" if e.value is None else f" = {_fmt(e.value)}{' ' + e.unit if e.unit else ''}"
        when = format_time(e.time, e.time_precision) or "(undated)"
        print(f"{when:<26} {e.kind.value:<13} {e.display}{value}")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "import": cmd_import,
    "timeline": cmd_timeline,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="osler",
        description="Osler: offline clinical decision support. Decision support for "
        "clinicians, not a diagnosis.",
    )
    parser.add_argument("--version", action="version", version=f"osler {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("import", help="import a FHIR R4 record and summarise it")
    p.add_argument("path", help="Bundle .json, .ndjson file, folder of .ndjson, or one resource")
    p.add_argument("--patient", help="patient id when the input holds several patients")
    p.add_argument("--json", action="store_true", help="print one JSON document")

    p = sub.add_parser("timeline", help="print a patient's timeline, oldest first")
    p.add_argument("path")
    p.add_argument("--patient", help="patient id when the input holds several patients")
    p.add_argument("--at", help="only events known at this date/time (FHIR dateTime)")
    p.add_argument("--kind", action="append", help="only events of this kind (repeatable)")
    p.add_argument("--json", action="store_true", help="print one JSON document")

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; map errors to exit codes 2 (bad input) and 1 (internal)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from osler.errors import INPUT_ERRORS

    try:
        return COMMANDS[args.command](args)
    except (InputError, *INPUT_ERRORS) as exc:
        print(f"osler {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"osler {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if os.environ.get("OSLER_DEBUG"):
            raise
        print(f"osler {args.command}: internal error: {type(exc).__name__}: {_one_line(exc)} "
              "(set OSLER_DEBUG=1 for a traceback)", file=sys.stderr)
        return 1


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _fmt(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
