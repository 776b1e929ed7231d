"""Headless entry point: the same functions the window calls, as commands.

Exit status: 0 success, 2 bad input (one line on stderr naming what and where),
1 internal failure. `--json` prints one JSON document on stdout.
"""

from __future__ import annotations

import argparse
import json
import math
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
    """--at DATE: the same reading as the window's Set 'now' (a date means its end)."""
    if text is None:
        return None
    from osler.fhir.user_dates import UserDateError, parse_user_datetime

    try:
        return parse_user_datetime(text)
    except UserDateError as exc:
        raise InputError(f"--at: {exc}") from exc


# --- commands ---------------------------------------------------------------

def cmd_import(args: argparse.Namespace) -> int:
    from osler.fhir import import_path

    result = import_path(args.path, patient=args.patient)
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

    result = import_path(args.path, patient=args.patient)
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


def _load_record(args: argparse.Namespace):
    """The timeline of PATH (and --patient), or None when no PATH was given."""
    if not getattr(args, "path", None):
        return None
    from osler.fhir import import_path

    patient = getattr(args, "patient", None)
    return import_path(args.path, patient=patient).timeline(patient)


def _session_differential(service, timeline, at, text, age, sex, top, rationale=False):
    """The differential through the same session object the window drives."""
    from osler.session import DifferentialSession, compute

    session = DifferentialSession(top=top)
    if timeline is not None:
        session.set_record(timeline, at)
        session.set_text(text or "")
        session.set_demographics(age, sex)
    else:
        session.new_case(text or "", age, sex)
    request = session.request(rationale)
    if request is None:
        raise InputError("give a FHIR record PATH, --text, or both")
    return compute(service, request).differential


def cmd_ddx(args: argparse.Namespace) -> int:
    from osler.reasoning.service import DdxService

    if not args.path and not args.text:
        raise InputError("give a FHIR record PATH, --text, or both")
    if args.age is not None and not 0 <= args.age <= 130:
        raise InputError(f"--age {args.age}: must be between 0 and 130")
    at = _parse_at(args.at)
    from osler.server_command import server_config

    server = server_config(args)
    if server is not None and args.model:
        raise InputError("--model and --server: choose one")
    timeline = _load_record(args)
    service = DdxService.create(model_dir=args.model, device=args.device,
                                quantization=args.quantization, engine=args.engine,
                                kb=_load_kb(args), semantic=not args.no_semantic,
                                server=server)
    service.rare = not args.no_rare
    diff = _session_differential(service, timeline, at, args.text, args.age, args.sex,
                                 args.top, args.rationale)
    if args.json:
        _warn_model_change(service.engine)
        _print_json(diff.to_json())
        return 0
    m = diff.model
    counted = sum(1 for f in diff.findings if f.counted)
    where = m.path if m.kind == "server" else m.device
    print(f"Model {m.id} {m.version} on {where} ({m.quantization}); "
          f"age {diff.case.age if diff.case.age is not None else '?'}, "
          f"sex {diff.case.sex or '?'}; {counted} findings")
    ad = diff.adequacy
    if ad is not None and not ad.sufficient:
        print(f"NOT ENOUGH INFORMATION TO RANK: {ad.reason}.")
        if diff.next_best:
            print("Ask or check first: " + ", ".join(n.label for n in diff.next_best))
        print("What age, sex and background alone suggest:")
    for d in diff.diagnoses:
        flag = " [CAN'T MISS]" if d.cant_miss else ""
        print(f"{d.rank:>2}. {_percent(d.probability):>6}  {d.name} ({', '.join(d.icd10)}){flag}")
        for e in d.evidence_for[:3]:
            print(f"       for:     {_state(e.state)} {e.label} (odds x{math.exp(e.weight):.2g}) "
                  f"[{e.source}]")
        for e in d.evidence_against[:2]:
            print(f"       against: {_state(e.state)} {e.label} (odds x{math.exp(e.weight):.2g}) "
                  f"[{e.source}]")
        for r in d.unmet:
            print(f"       ! {r.text()}")
    if diff.unlisted >= 0.001:
        print(f"    {_percent(diff.unlisted):>6}  a diagnosis not in Osler's list")
    if diff.next_best and (ad is None or ad.sufficient):
        print("Check next: " + ", ".join(n.label for n in diff.next_best))
    _print_rare(diff.rare)
    for d in (diff.rationale or {}).get("diagnoses", []):
        print(f"Why {d['name']}: {d['rationale'] or '(no text)'} "
              f"[{', '.join(d['citations']) or 'no valid citations'}]")
    for w in diff.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(diff.disclaimer)
    return 0


def _print_rare(panel: Any) -> None:
    """The rare-disease panel under the differential, labelled as what it is."""
    if panel is None or not panel.shown:
        return
    how = "" if panel.prominent else " (the common differential explains most findings)"
    print(f"Rare diseases to consider{how}: phenotype similarity 0-1, not a probability")
    for s in panel.suggestions[:5]:
        ids = ", ".join(s.codes + s.icd10)
        same = f" = {s.kb_name} in the differential" if s.kb_condition else ""
        print(f"  {s.rank:>2}. {s.similarity:.2f}  {s.name} ({ids}){same}")
        matched = ", ".join(m.phenotype.label + ("" if m.exact else f" ~ {m.via_label}")
                            for m in s.matching[:4])
        print(f"       matches: {matched}")
        if s.missing:
            print(f"       not documented: {', '.join(label for _h, label in s.missing[:3])}")
    print(f"  {panel.notice()}")


def cmd_eval(args: argparse.Namespace) -> int:
    from osler.findings.extract import FindingExtractor
    from osler.reasoning.evaluate import evaluate
    from osler.reasoning.kbmatrix import KBMatrix
    from osler.reasoning.service import load_engine
    from osler.reasoning.vignettes import load_vignettes, split_half

    vignettes = split_half(load_vignettes(args.file), args.half, args.split_seed)
    if args.limit:
        vignettes = vignettes[: args.limit]
    kb = _load_kb(args)
    m = KBMatrix.from_kb(kb)
    wanted = ["model", "naive-bayes"] if args.engine == "both" else [args.engine]
    engines = {name: load_engine(m, kb, args.model, args.device, args.quantization, name)
               for name in wanted}
    for eng in engines.values():
        _warn_model_change(eng)
    report = evaluate(kb, engines, vignettes, FindingExtractor(kb, semantic=not args.no_semantic),
                      rare=args.rare)
    report["file"] = str(args.file)
    report["split"] = {"half": args.half, "seed": args.split_seed}
    if args.json:
        _print_json(report)
        return 0
    print(f"{report['vignettes']} vignettes, gold matchable in the KB: {report['gold_matchable']}")
    for name, r in report["engines"].items():
        sure = r["confident"]
        print(f"{name:>12}: top-1 {r['top1']:.1%}  top-3 {r['top3']:.1%}  top-10 {r['top10']:.1%}"
              f"  ECE {r['ece_top1']:.3f}  shown >=90%: {sure['correct']}/{sure['count']} right")
    if "rare" in report:
        r = report["rare"]
        print(f"rare panel: shown {r['shown']}, gold in its top 10 {r['top10_when_shown']:.1%}"
              f" (if always shown {r['top10_always']:.1%}); differential top 10 "
              f"{r['ddx_top10']:.1%}, with the panel's top 5 "
              f"{r['union_ddx10_rare5_when_shown']:.1%}")
    return 0


def _warn_model_change(engine: Any) -> None:
    """A clinic model folder that changed since it was pinned: one line on stderr (text
    output lists it with the differential's warnings)."""
    warning = getattr(engine, "pin_warning", None)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)


def cmd_model(args: argparse.Namespace) -> int:
    """`osler model trust DIR`: accept a clinic model folder's current files (re-pin)."""
    from osler.reasoning.pins import accept_folder

    doc = accept_folder(args.folder)
    if args.json:
        _print_json(doc)
        return 0
    what = f"{doc['basis']} {doc['digest'][:16]}…, {doc['files']} files"
    if doc["previous"] is None:
        print(f"pinned {doc['folder']} ({what})")
    elif doc["changes"]:
        print(f"re-pinned {doc['folder']} ({what}); accepted: {'; '.join(doc['changes'])}")
    else:
        print(f"{doc['folder']} is unchanged since it was pinned ({what})")
    return 0


def _load_kb(args: argparse.Namespace):
    from osler.knowledge.pack import default_kb, load_pack

    return load_pack(args.kb) if getattr(args, "kb", None) else default_kb()


# --- knowledge base and findings -------------------------------------------

def cmd_kb(args: argparse.Namespace) -> int:
    from osler.knowledge.stats import kb_stats

    stats = kb_stats(_load_kb(args))
    if args.json:
        _print_json(stats)
        return 0
    c, f, cov = stats["conditions"], stats["findings"], stats["icd10_coverage"]
    print(f"{stats['name']} {stats['version']} ({stats['path']})")
    print(f"{c['total']} conditions: " + ", ".join(f"{k} {v}" for k, v in c["by_source"].items())
          + f"; can't-miss {c['cant_miss']}")
    print(f"{f['total']} findings: " + ", ".join(f"{k} {v}" for k, v in f["by_category"].items()))
    print("ICD-10-CM coverage: " + ", ".join(f"{k} {v['text']}" for k, v in cov.items()))
    pre = stats["prerequisites"]
    print(f"prerequisites: {pre['with_requirements']} conditions with requirements, "
          f"{pre['with_exclusions']} with exclusions, {pre['reviewed']} reviewed "
          f"(can't-miss {pre['cant_miss_reviewed']}); background findings with a base rate: "
          f"{stats['background']['with_base_rate']}/{stats['background']['findings']}")
    hpo = stats.get("hpo")
    if hpo:
        print(f"HPO {hpo['version']}: {hpo['findings_mapped']} findings mapped to {hpo['terms']} "
              f"phenotype terms ({hpo['findings_exact']} exactly), "
              f"{hpo['unmapped']['total']} left unmapped with a reason")
    print(stats["license"])
    return 0


def cmd_findings(args: argparse.Namespace) -> int:
    from osler.findings.extract import FindingExtractor
    from osler.findings.reading import read_case

    text = args.text
    if args.text_file:
        try:
            with open(args.text_file, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
        except OSError as exc:
            raise InputError(f"--text-file {args.text_file}: {exc.strerror or exc}") from exc
    if not args.path and text is None:
        raise InputError("give a FHIR record PATH, --text, --text-file, or several")
    at = _parse_at(args.at)
    if args.age is not None and not 0 <= args.age <= 130:
        raise InputError(f"--age {args.age}: must be between 0 and 130")
    kb = _load_kb(args)
    extractor = FindingExtractor(kb, semantic=not args.no_semantic)
    timeline = _load_record(args)
    reading = read_case(kb, extractor, timeline, text, at, args.age, args.sex)
    found = reading.mentions
    shown = found if args.all else reading.merged()
    if args.json:
        doc: dict[str, Any] = {"findings": [f.to_json() for f in shown],
                               "coverage": round(reading.coverage, 3)}
        if timeline is not None:
            doc["patient"] = timeline.patient.id
            doc["at"] = at.isoformat() if at else None
        doc["kb"] = {"name": kb.name, "version": kb.version}
        doc["semantic"] = extractor.semantic and not any(
            w.startswith("semantic matching off") for w in extractor.warnings)
        if extractor.warnings:
            doc["warnings"] = list(extractor.warnings)
        _print_json(doc)
        return 0
    for f in shown:
        sign = ("+" if f.present else "-") + ("" if f.certain else "?")
        value = f" = {_fmt(f.value)} {f.unit or ''}".rstrip() if f.value is not None else ""
        why = f": {f.role_reason}" if f.role_reason else ""
        role = "" if f.role == "current" else f"  ({f.role}{why})"
        print(f"{sign:<3}{f.label}{value}  [{f.source.cite()}]{role}")
    for w in extractor.warnings:
        print(f"warning: {w}", file=sys.stderr)
    return 0


# --- audit -------------------------------------------------------------------

def _audit_open(args: argparse.Namespace, create: bool = False):
    from osler.audit import AuditStore, KeyProvider
    from osler.audit.keys import terminal_ask

    ask = terminal_ask if sys.stdin.isatty() else None
    return AuditStore.open(args.db, KeyProvider(ask=ask), create=create)


def _audit_filters(args: argparse.Namespace) -> dict:
    for flag in ("--patient", "--clinician", "--since", "--until"):
        _audit_text(flag, getattr(args, flag[2:]))
    return {"patient_id": args.patient, "clinician_id": args.clinician,
            "action": args.action, "since": args.since, "until": args.until}


def _audit_text(flag: str, value: str | None) -> None:
    """Bad input unless VALUE is valid Unicode: invalid UTF-8 bytes in argv arrive as lone
    surrogates (surrogateescape), which no UTF-8 text can hold."""
    if value is None:
        return
    for i, c in enumerate(value):
        if 0xD800 <= ord(c) <= 0xDFFF:
            what = (f"invalid UTF-8 byte 0x{ord(c) - 0xDC00:02x}" if 0xDC80 <= ord(c) <= 0xDCFF
                    else f"a lone surrogate U+{ord(c):04X}")
            raise InputError(f"{flag}: not valid UTF-8 text ({what} at character {i + 1})")


def _ddx_json(path: str) -> Any:
    """The --ddx document: strict JSON (no NaN/Infinity, finite numbers, valid Unicode)."""
    from pathlib import Path

    def constant(name: str) -> Any:
        raise ValueError(f"{name} is not a JSON number")

    def finite(text: str) -> float:
        value = float(text)
        if not math.isfinite(value):
            raise ValueError(f"number {text[:40]} is out of range")
        return value

    def whole(text: str) -> int:
        if len(text.lstrip("-")) > 18:
            raise ValueError(f"number {text[:40]}… is out of range")
        return int(text)

    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"), parse_constant=constant,
                         parse_float=finite, parse_int=whole)
    except (OSError, ValueError) as exc:
        raise InputError(f"--ddx {path}: cannot read the ddx JSON: {exc}") from None

    def walk(value: Any, where: str) -> None:
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise InputError(f"--ddx {path}: {where or 'document'}: not valid Unicode "
                                 "text (a lone surrogate escape)") from None
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(k, where)
                walk(v, f"{where}.{k}" if where else k)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{where}[{i}]")

    walk(doc, "")
    return doc


def cmd_audit(args: argparse.Namespace) -> int:
    return AUDIT_COMMANDS[args.audit_command](args)


def cmd_audit_record(args: argparse.Namespace) -> int:
    from osler.audit import OverrideRecord

    for flag in ("--clinician", "--patient", "--diagnosis", "--reason", "--text"):
        _audit_text(flag, getattr(args, flag[2:]))
    for code in args.icd10 or []:
        _audit_text("--icd10", code)
    ddx = _ddx_json(args.ddx)
    record = OverrideRecord.from_ddx(
        ddx, action=args.action, clinician_id=args.clinician, patient_id=args.patient,
        rank=args.rank, name=args.diagnosis, icd10=args.icd10, new_rank=args.new_rank,
        reason_code=args.reason, reason_text=args.text)
    with _audit_open(args, create=True) as store:
        entry = store.append(record)
    if args.json:
        _print_json(entry.to_json())
    else:
        print(f"recorded #{entry.seq} {entry.action} by {entry.clinician_id} at {entry.time}")
    return 0


def cmd_audit_log(args: argparse.Namespace) -> int:
    filters = _audit_filters(args)
    with _audit_open(args) as store:
        entries = store.entries(**filters, limit=args.limit)
        info = store.info()
    if info.get("read_only"):
        print(f"osler audit: warning: {store.path}: read-only: {info['read_only']}",
              file=sys.stderr)
    if args.json:
        _print_json({"store": info, "entries": [e.to_json() for e in entries]})
        return 0
    print(f"{info['path']}: {info['count']} entries (store {info['store_id']})")
    for e in entries:
        what = e.diagnosis["name"] if e.diagnosis else ""
        why = e.reason["code"] if e.reason else ""
        print(f"#{e.seq:<6} {e.time[:19]}  {e.clinician_id:<16} {e.action:<8} {what:<30} {why}")
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from osler.audit import Anchor, AuditIntegrityError

    anchor = Anchor.load(args.anchor) if args.anchor else None
    with _audit_open(args) as store:
        report = store.verify(anchor)
    if args.json:
        _print_json(report.to_json())
    elif report.ok:
        extra = f"; matches the anchor of {anchor.time} ({anchor.count} entries)" if anchor else ""
        print(f"OK: {report.count} entries, chain intact, head {report.head_hash[:16]}{extra}")
    else:
        for p in report.problems:
            print(p)
    if report.ok:
        return 0
    more = f" (and {len(report.problems) - 1} more)" if len(report.problems) > 1 else ""
    raise AuditIntegrityError(f"NOT intact: {report.problems[0]}{more}", report.path)


def cmd_audit_anchor(args: argparse.Namespace) -> int:
    with _audit_open(args) as store:
        anchor = store.anchor()
    anchor.save(args.output, overwrite=args.force)
    if args.json:
        _print_json(anchor.to_json())
    else:
        print(f"anchor written to {args.output}: {anchor.count} entries, head "
              f"{anchor.head_hash[:16]}, {anchor.time}. Keep it away from this computer.")
    return 0


def cmd_audit_export(args: argparse.Namespace) -> int:
    filters = _audit_filters(args)
    with _audit_open(args) as store:
        n = store.export_fhir(args.output, overwrite=args.force, **filters)
    if args.json:
        _print_json({"output": str(args.output), "format": args.format, "entries": n})
    else:
        print(f"exported {n} entries as FHIR R4 AuditEvent + Provenance to {args.output}")
    return 0


def cmd_audit_rekey(args: argparse.Namespace) -> int:
    passphrase = None
    if args.new_passphrase_env:
        passphrase = os.environ.get(args.new_passphrase_env)
        if not passphrase:
            raise InputError(f"--new-passphrase-env: ${args.new_passphrase_env} is not set")
    to = "keyring" if args.to_keyring else ("passphrase" if passphrase else None)
    with _audit_open(args) as store:
        label = store.rekey(to=to, passphrase=passphrase)
    if args.json:
        _print_json({"path": str(store.path), "key_source": store.key_source, "key": label})
    else:
        print(f"{store.path}: re-encrypted; it now opens with {label}")
    return 0


def cmd_audit_reset_witness(args: argparse.Namespace) -> int:
    with _audit_open(args) as store:
        done = store.reset_witness()
    if args.json:
        _print_json({"path": str(store.path), "witness": done})
    else:
        print(f"{store.path}: {done}")
    return 0


def cmd_audit_recover(args: argparse.Namespace) -> int:
    with _audit_open(args) as store:
        done = store.recover()
    if args.json:
        _print_json({"path": str(store.path), "recovered": done})
    else:
        print(f"{store.path}: {done}")
    return 0


def cmd_audit_reasons(args: argparse.Namespace) -> int:
    from osler.audit import REASONS

    if args.json:
        _print_json([r.coding() for r in REASONS.values()])
    else:
        for r in REASONS.values():
            print(f"{r.code:<28} {r.display}")
    return 0


AUDIT_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "record": cmd_audit_record,
    "log": cmd_audit_log,
    "verify": cmd_audit_verify,
    "anchor": cmd_audit_anchor,
    "export": cmd_audit_export,
    "rekey": cmd_audit_rekey,
    "reset-witness": cmd_audit_reset_witness,
    "recover": cmd_audit_recover,
    "reasons": cmd_audit_reasons,
}


def _audit_parser(sub) -> None:
    actions = ["accept", "reject", "rerank", "add", "comment"]
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", help="audit store file (default: $OSLER_AUDIT_DB, else "
                                     "audit.db in the per-user data folder)")
    common.add_argument("--json", action="store_true", help="print one JSON document")
    filters = argparse.ArgumentParser(add_help=False)
    filters.add_argument("--patient", help="only this patient (record's patient id)")
    filters.add_argument("--clinician", help="only this clinician id")
    filters.add_argument("--action", choices=actions, help="only this action")
    filters.add_argument("--since", help="only entries at or after this ISO date/time (UTC)")
    filters.add_argument("--until", help="only entries at or before this ISO date/time (UTC)")

    p = sub.add_parser("audit", help="encrypted audit trail of clinician overrides",
                       description="Record, read, verify, anchor, export and rekey the "
                       "encrypted audit trail. Exit 2 from verify means tampered (or bad "
                       "input). Key: OS keyring, else the passphrase in OSLER_PASSPHRASE.")
    asub = p.add_subparsers(dest="audit_command", required=True, metavar="AUDIT_COMMAND")

    a = asub.add_parser("record", parents=[common], help="append one override (for scripts)")
    a.add_argument("--action", required=True, choices=actions)
    a.add_argument("--clinician", required=True, help="clinician id")
    a.add_argument("--patient", required=True, help="the record's patient id (stored "
                                                    "only as a keyed pseudonym)")
    a.add_argument("--ddx", required=True, help="the `osler ddx --json` output shown")
    a.add_argument("--rank", type=int, help="the differential entry acted on, by rank")
    a.add_argument("--diagnosis", help="the diagnosis acted on (or added), by name")
    a.add_argument("--icd10", action="append", help="ICD-10 code of an added diagnosis")
    a.add_argument("--new-rank", type=int, help="rerank: the new rank")
    a.add_argument("--reason", help="reason code (see `osler audit reasons`)")
    a.add_argument("--text", help="free text (required for reason 'other' and comments)")

    a = asub.add_parser("log", parents=[common, filters], help="list entries, oldest first")
    a.add_argument("--limit", type=int, help="at most N entries")

    a = asub.add_parser("verify", parents=[common], help="check the hash chain (exit 2 if "
                                                         "tampered)")
    a.add_argument("--anchor", help="anchor file made earlier by `osler audit anchor`")

    a = asub.add_parser("anchor", parents=[common], help="write a signed checkpoint to keep "
                                                         "elsewhere")
    a.add_argument("-o", "--output", required=True, help="anchor file to write")
    a.add_argument("--force", action="store_true", help="replace an existing file")

    a = asub.add_parser("export", parents=[common, filters], help="export entries as FHIR R4")
    a.add_argument("--format", required=True, choices=["fhir"],
                   help="fhir: Bundle of AuditEvent + Provenance")
    a.add_argument("-o", "--output", required=True, help="file to write (nothing else is)")
    a.add_argument("--force", action="store_true", help="replace an existing file")

    a = asub.add_parser("rekey", parents=[common], help="re-encrypt under a new key")
    g = a.add_mutually_exclusive_group()
    g.add_argument("--new-passphrase-env", metavar="VAR",
                   help="switch to / change the passphrase, read from environment variable VAR")
    g.add_argument("--to-keyring", action="store_true",
                   help="switch to a new random key in the OS keyring")

    asub.add_parser("reset-witness", parents=[common],
                    help="accept the store as it is (e.g. a backup restored on purpose): "
                         "make a new witness of its head, keeping the old witness file")

    asub.add_parser("recover", parents=[common],
                    help="after a damaged WAL: make the entries that survive it the live store "
                         "again (the damaged files stay in the audit.db.damaged-* folder)")

    asub.add_parser("reasons", parents=[common], help="list the override reason codes")


def cmd_deidentify(args: argparse.Namespace) -> int:
    from osler.teaching.deidentify import deidentify_path

    seed = args.seed
    if args.seed_file:
        from pathlib import Path

        try:
            lines = Path(args.seed_file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"--seed-file: {args.seed_file}: cannot read ({exc})") from exc
        seed = lines[0].strip() if lines else ""
    report = deidentify_path(args.input, args.output, force=args.force, seed=seed,
                             report_path=args.report)
    if args.json:
        _print_json(report)
        return 0
    res = report["resources"]
    print(f"De-identified {res['written']} of {res['read']} resources "
          f"({report['patients']} patient(s)) -> {report['output']}")
    for key, n in report["changes"].items():
        print(f"  {key}: {n}")
    for w in report["warnings"]:
        print(f"warning: {w}", file=sys.stderr)
    print(report["notice"])
    return 0


def cmd_cases(args: argparse.Namespace) -> int:
    from osler.teaching.cases_command import run_cases

    return run_cases(args, _print_json)


def cmd_selfcheck(args: argparse.Namespace) -> int:
    """Exit 0 when every check is ok or warn, 1 when one fails (the installation is broken)."""
    from pathlib import Path

    from osler.selfcheck import FAIL, overall, run_selfcheck

    for option, value in (("--model", args.model), ("--kb", args.kb)):
        if value and not Path(value).expanduser().is_dir():
            raise InputError(f"{option} {value}: no such folder")
    provider = None
    if args.create_audit:
        from osler.audit import KeyProvider
        from osler.audit.keys import terminal_ask

        provider = KeyProvider(ask=terminal_ask if sys.stdin.isatty() else None)
    from osler.server_command import server_config

    server = server_config(args)
    checks = run_selfcheck(model_dir=args.model, kb_dir=args.kb, audit_path=args.db,
                           key_provider=provider, create_audit=args.create_audit,
                           gpu=not args.no_gpu)
    if server is not None:  # before the audit trail's check, which stays last
        from osler.selfcheck_server import check_server

        checks[-1:-1] = check_server(server, _load_kb(args))
    status = overall(checks)
    failed = [c.name for c in checks if c.status == FAIL]
    if args.json:
        _print_json({"status": status, "ok": not failed, "checks": [c.to_json() for c in checks]})
    else:
        for c in checks:
            print(f"[{c.status.upper():<4}] {c.name}: {c.detail}")
        print(f"Self-check: {status.upper()}")
    if failed:
        print(f"osler selfcheck: {len(failed)} check(s) failed: {', '.join(failed)}",
              file=sys.stderr)
        return 1
    return 0


def cmd_server(args: argparse.Namespace) -> int:
    """`osler server key|forget URL`: this workstation's API key for a clinic server."""
    from osler.server_command import cmd_server as run

    return run(args)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "import": cmd_import,
    "deidentify": cmd_deidentify,
    "timeline": cmd_timeline,
    "ddx": cmd_ddx,
    "eval": cmd_eval,
    "audit": cmd_audit,
    "kb": cmd_kb,
    "findings": cmd_findings,
    "selfcheck": cmd_selfcheck,
    "cases": cmd_cases,
    "model": cmd_model,
    "server": cmd_server,
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

    p = sub.add_parser("ddx", help="explained differential for a record and/or free text")
    p.add_argument("path", nargs="?", help="FHIR record (as for import); optional with --text")
    p.add_argument("--text", help="free text: chief complaint, presentation, note")
    p.add_argument("--age", type=int, help="age in years (overrides the record)")
    p.add_argument("--sex", choices=["female", "male"], help="sex (overrides the record)")
    p.add_argument("--at", help="reason on the record as known at this date/time")
    p.add_argument("--patient", help="patient id when the input holds several patients")
    _model_options(p)
    p.add_argument("--top", type=int, default=10, help="diagnoses to list (default 10)")
    p.add_argument("--rationale", action="store_true",
                   help="with a language model (local or --server): its cited rationale")
    from osler.server_command import add_server_options

    add_server_options(p)
    p.add_argument("--no-rare", action="store_true",
                   help="leave out the rare-disease panel (HPO phenotype similarity)")
    p.add_argument("--no-semantic", action="store_true",
                   help="lexicon-only finding extraction (faster; no sentence model)")
    p.add_argument("--json", action="store_true", help="print one JSON document")

    p = sub.add_parser("eval", help="top-1/3/10 on a JSONL file of vignettes")
    p.add_argument("file", help="JSONL in the Avey or AgentClinic format")
    _model_options(p)
    p.set_defaults(engine="both")
    p.add_argument("--limit", type=int, help="only the first N vignettes")
    p.add_argument("--half", choices=["dev", "check", "all"], default="all",
                   help="score one half of a seeded split: 'dev' (developed on) or 'check' "
                   "(never looked at while developing); default all")
    from osler.reasoning.vignettes import SPLIT_SEED

    p.add_argument("--split-seed", type=int, default=SPLIT_SEED, help=argparse.SUPPRESS)
    p.add_argument("--no-semantic", action="store_true", help="lexicon-only extraction")
    p.add_argument("--rare", action="store_true",
                   help="also measure the rare-disease panel (gold in its top 10, and with the "
                        "differential's top 10)")
    p.add_argument("--json", action="store_true", help="print one JSON document")

    _audit_parser(sub)

    p = sub.add_parser("deidentify", help="turn a real record into a de-identified teaching "
                       "case (HIPAA Safe Harbor list; dates shifted per patient)")
    p.add_argument("input", help="Bundle .json, .ndjson file, folder of .ndjson, or one resource")
    p.add_argument("-o", "--output", required=True,
                   help="file (or folder, for a folder input) to write; nothing else is written")
    p.add_argument("--force", action="store_true", help="replace an existing output/report")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--seed", help="secret (8+ characters) that makes the date offsets and "
                   "pseudonyms reproducible; keep it secret")
    g.add_argument("--seed-file", help="read the secret from the first line of this file "
                   "(keeps it out of shell history)")
    p.add_argument("--report", help="also write the report (counts only, no values) here")
    p.add_argument("--json", action="store_true", help="print the report as one JSON document")

    p = sub.add_parser("kb", help="the knowledge base in use")
    ksub = p.add_subparsers(dest="kb_command", required=True, metavar="KB_COMMAND")
    k = ksub.add_parser("stats", help="counts, ICD-10-CM coverage, sources and terms")
    k.add_argument("--kb", help="knowledge-base pack folder (default: $OSLER_KB or the "
                   "shipped KB)")
    k.add_argument("--json", action="store_true", help="print one JSON document")

    p = sub.add_parser("findings", help="findings of a record and/or free text, with sources")
    p.add_argument("path", nargs="?", help="FHIR record (as for import); optional with --text")
    p.add_argument("--text", help="free text: chief complaint, presentation, note")
    p.add_argument("--text-file", help="read the free text from this UTF-8 file")
    p.add_argument("--at", help="the record as known at this date/time (FHIR dateTime)")
    p.add_argument("--patient", help="patient id when the input holds several patients")
    p.add_argument("--no-semantic", action="store_true",
                   help="lexicon only (faster; no sentence model)")
    p.add_argument("--all", action="store_true",
                   help="every mention, not one finding per id")
    p.add_argument("--age", type=int, help="age in years (overrides the record): children's "
                   "vital-sign limits, age-specific findings")
    p.add_argument("--sex", choices=["female", "male"],
                   help="sex (overrides the record): sex-specific findings and limits")
    p.add_argument("--kb", help="knowledge-base pack folder (default: the shipped KB)")
    p.add_argument("--json", action="store_true", help="print one JSON document")

    p = sub.add_parser("selfcheck", help="check keyring, GPU, model checksums, offline "
                       "operation and the audit trail (exit 1 if a check fails)")
    p.add_argument("--model", help="model folder to check (default: the shipped model)")
    p.add_argument("--kb", help="knowledge-base pack folder (default: the shipped KB)")
    p.add_argument("--db", help="audit store file (default: $OSLER_AUDIT_DB, else audit.db "
                   "in the per-user data folder)")
    p.add_argument("--create-audit", action="store_true",
                   help="create the audit store if there is none (asks for a passphrase "
                   "when there is no secure OS keyring)")
    p.add_argument("--no-gpu", action="store_true", help="skip the GPU check")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    add_server_options(p, concurrency=False)

    p = sub.add_parser("model", help="a clinic's own model folders (pinned at first use)")
    msub = p.add_subparsers(dest="model_command", required=True, metavar="MODEL_COMMAND")
    t = msub.add_parser("trust", help="accept a model folder's current files after a change "
                        "was reported (re-pins it)")
    t.add_argument("folder", help="the model folder (an Osler model or a local LLM)")
    t.add_argument("--json", action="store_true", help="print one JSON document")

    from osler.teaching.cases_command import add_cases_parser

    add_cases_parser(sub)  # osler cases list|show|add|remove
    from osler.server_command import add_server_parser

    add_server_parser(sub)  # osler server key|forget URL

    return parser


def _model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help="model folder (default: the shipped model)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--quantization", default="auto", choices=["auto", "none", "int8", "nf4"])
    p.add_argument("--engine", default="auto",
                   choices=["auto", "model", "naive-bayes"] + (
                       ["both"] if p.prog.endswith("eval") else []),
                   help="auto: the shipped model if trained on the current KB, else the "
                        "KB's own posterior")
    p.add_argument("--kb", help="knowledge-base pack folder (default: the shipped KB)")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; map errors to exit codes 2 (bad input) and 1 (internal)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from osler.errors import INPUT_ERRORS
    from osler.server_command import ServerInputError

    try:
        return COMMANDS[args.command](args)
    except (InputError, ServerInputError, *INPUT_ERRORS) as exc:
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


def _state(state: str) -> str:
    return {"+": "[present]", "-": "[absent]", "~": "[possible]"}.get(state, "[patient]")


def _percent(p: float) -> str:
    from osler.reasoning.formatting import format_probability

    return format_probability(p)


def _fmt(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
