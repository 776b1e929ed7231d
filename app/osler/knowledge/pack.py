"""Load and validate a KB pack: a folder with manifest.json, conditions.json, findings.json.

Every problem is reported as a KnowledgeError naming the file, the entry and the field, so
that a clinic building its own pack can fix it. The format is documented in docs/kb-pack.md.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from functools import cache
from pathlib import Path
from typing import Any

from osler.knowledge.model import (
    AGE_BANDS,
    HPO_RELATIONS,
    OPS,
    ConditionDef,
    FindingDef,
    HpoLink,
    KnowledgeBase,
    KnowledgeError,
    NormalSystem,
    RecordRule,
    ThresholdRule,
)
from osler.knowledge.units import is_known_unit
from osler.record import EventKind

FORMAT = "osler-kb-pack"
FORMAT_VERSIONS = (1,)
REQUIRED_FILES = ("conditions.json", "findings.json")
CATEGORIES = ("symptom", "sign", "vital", "lab", "history", "risk-factor")
SEXES = ("female", "male")
DIRECTIONS = ("increased", "decreased")
MAX_AGE_YEARS = 130
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
HPO_ID = re.compile(r"^HP:[0-9]{7}$")
ICD10CM = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")  # U07.1 COVID-19 is valid CM
CODE = re.compile(r"^[a-z0-9-]+\|[^|\s]+$")
PRIOR_SUM_TOLERANCE = 1e-3
BAND_NAMES = tuple(b[0] for b in AGE_BANDS)
EVENT_KINDS = tuple(k.value for k in EventKind)


def default_pack_dir() -> Path:
    """$OSLER_KB if set, else resources/kb of the installation (or source checkout)."""
    from osler.locations import kb_dir

    return kb_dir()


@cache
def _cached(path: str) -> KnowledgeBase:
    return load_pack(path)


REPAIR = ("the shipped knowledge base is missing or damaged: reinstall Osler (e.g. `pip "
          "install --force-reinstall --no-deps osler-*.whl`, or the offline installer), or point "
          "OSLER_KB at a KB pack folder")


def default_kb() -> KnowledgeBase:
    """The knowledge base the app uses ($OSLER_KB or the shipped pack), loaded once. A
    broken shipped pack says which file and how to repair the install."""
    import os

    try:
        return _cached(str(default_pack_dir().resolve()))
    except KnowledgeError as exc:
        if os.environ.get("OSLER_KB"):
            raise
        raise KnowledgeError(f"{exc} — {REPAIR}") from exc


def kb_for(path: str | Path | None) -> KnowledgeBase:
    """The pack at `path` (a `--kb DIR` option), or the default one; cached per folder."""
    if path is None:
        return default_kb()
    return _cached(str(Path(path).expanduser().resolve()))


def load_pack(path: str | Path) -> KnowledgeBase:
    """Read and validate the pack in folder `path`; raises KnowledgeError on any problem."""
    root = Path(path)
    if not root.is_dir():
        raise KnowledgeError("not a folder (a KB pack is a folder with manifest.json)",
                             file=str(root))
    manifest = _read(root, "manifest.json")
    _check_manifest(root, manifest)
    f_doc = _read(root, "findings.json")
    findings, blocked, systems = _parse_findings(f_doc)
    kb_findings = {f.id: f for f in findings}
    aliases = {a: f.id for f in findings for a in f.aliases}
    c_doc = _read(root, "conditions.json")
    conditions = _parse_conditions(c_doc, kb_findings, aliases)
    mapping: dict[str, dict[str, Any]] = {}
    if (root / "icd10_mapping.json").is_file():
        m_doc = _read(root, "icd10_mapping.json")
        mapping = _dict(m_doc.get("conditions", {}), "icd10_mapping.json", None, "conditions")
    windows: dict[str, float] = {}
    if "episode.json" in manifest["files"]:
        windows = _episode(_read(root, "episode.json"))
    hpo_version, hpo_links, hpo_unmapped = None, {}, {}
    if (root / "hpo.json").is_file():
        hpo_version, hpo_links, hpo_unmapped = _hpo(_read(root, "hpo.json"), kb_findings,
                                                    aliases)
    return KnowledgeBase(
        name=manifest["name"],
        version=manifest["version"],
        conditions=conditions,
        findings=findings,
        license_note=manifest.get("license", ""),
        path=root,
        manifest=manifest,
        icd10_mapping=mapping,
        blocked_phrases=blocked,
        normal_systems=systems,
        episode_windows=windows,
        hpo={fid: tuple(link.hpo for link in links) for fid, links in hpo_links.items()},
        hpo_links=hpo_links,
        hpo_unmapped=hpo_unmapped,
        hpo_version=hpo_version,
    )


EPISODE_KINDS = ("symptom", "vital", "lab", "other_measurement")


def _episode(doc: dict[str, Any]) -> dict[str, float]:
    """episode.json: how many days each kind of finding describes the patient 'now'."""
    fname = "episode.json"
    raw = _dict(doc.get("windows_days"), fname, None, "windows_days")
    out = {}
    for k, v in raw.items():
        if k not in EPISODE_KINDS:
            raise KnowledgeError(f"unknown kind {k!r}; expected {', '.join(EPISODE_KINDS)}",
                                 file=fname, field=f"windows_days.{k}")
        days = _number(v, fname, None, f"windows_days.{k}")
        if not 0 < days <= 36500:
            raise KnowledgeError(f"{days:g} days is not a usable window", file=fname,
                                 field=f"windows_days.{k}")
        out[k] = days
    return out


def _hpo(doc: dict[str, Any], findings: dict[str, FindingDef], aliases: dict[str, str]
         ) -> tuple[str, dict[str, tuple[HpoLink, ...]], dict[str, str]]:
    """hpo.json: the reviewed finding -> HPO term mapping. Only the form and the finding ids are
    checked here (no ontology is loaded at start-up); the ids and labels are checked against
    the installed HPO when the pack is built, the release by the rare-disease module."""
    fname = "hpo.json"
    version = _text(doc.get("hpo_version"), fname, None, "hpo_version")

    def finding(raw: dict[str, Any], where: str) -> str:
        fid = raw.get("finding")
        if not isinstance(fid, str) or fid not in findings:
            hint = (f" (an alias of {aliases[fid]!r}; use that id)"
                    if isinstance(fid, str) and fid in aliases else "")
            raise KnowledgeError(f"unknown finding id {fid!r}{hint}", file=fname, entry=where,
                                 field="finding")
        return fid

    links: dict[str, list[HpoLink]] = {}
    for i, raw in enumerate(_list(doc.get("mappings"), fname, None, "mappings")):
        where = f"mappings[{i}]"
        if not isinstance(raw, dict):
            raise KnowledgeError("must be an object", file=fname, entry=where)
        fid = finding(raw, where)
        where = f"{where} ({fid})"
        hid = raw.get("hpo")
        if not isinstance(hid, str) or not HPO_ID.match(hid):
            raise KnowledgeError(f"{hid!r} is not an HPO id (HP:nnnnnnn)", file=fname,
                                 entry=where, field="hpo")
        label = _text(raw.get("label"), fname, where, "label")
        relation = raw.get("relation")
        if relation not in HPO_RELATIONS:
            raise KnowledgeError(f"must be one of {', '.join(HPO_RELATIONS)}", file=fname,
                                 entry=where, field="relation")
        if any(link.hpo == hid for link in links.get(fid, ())):
            raise KnowledgeError(f"{fid} -> {hid} is listed twice", file=fname, entry=where,
                                 field="hpo")
        links.setdefault(fid, []).append(HpoLink(hpo=hid, label=label, relation=relation))
    unmapped: dict[str, str] = {}
    for i, raw in enumerate(_list(doc.get("unmapped", []), fname, None, "unmapped")):
        where = f"unmapped[{i}]"
        if not isinstance(raw, dict):
            raise KnowledgeError("must be an object", file=fname, entry=where)
        fid = finding(raw, where)
        if fid in links or fid in unmapped:
            raise KnowledgeError(f"{fid} is already mapped or listed", file=fname,
                                 entry=f"{where} ({fid})", field="finding")
        unmapped[fid] = _text(raw.get("reason"), fname, f"{where} ({fid})", "reason")
    return version, {fid: tuple(ls) for fid, ls in links.items()}, unmapped


# --- files --------------------------------------------------------------------------

def _read(root: Path, name: str) -> dict[str, Any]:
    p = root / name
    if not p.is_file():
        raise KnowledgeError("missing from the pack", file=name)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise KnowledgeError(f"not UTF-8 text ({exc.reason})", file=name) from exc
    except json.JSONDecodeError as exc:
        raise KnowledgeError(f"not valid JSON: {exc.msg} at line {exc.lineno} column "
                             f"{exc.colno}", file=name) from exc
    if not isinstance(doc, dict):
        raise KnowledgeError("must hold a JSON object", file=name)
    return doc


def _check_manifest(root: Path, m: dict[str, Any]) -> None:
    f = "manifest.json"
    if m.get("format") != FORMAT:
        raise KnowledgeError(f"must be {FORMAT!r}", file=f, field="format")
    if m.get("format_version") not in FORMAT_VERSIONS:
        raise KnowledgeError(f"unsupported version {m.get('format_version')!r}; this Osler "
                             f"reads {', '.join(map(str, FORMAT_VERSIONS))}", file=f,
                             field="format_version")
    for key in ("name", "version", "license"):
        if not isinstance(m.get(key), str) or not m[key].strip():
            raise KnowledgeError("must be a non-empty string", file=f, field=key)
    files = _dict(m.get("files"), f, None, "files")
    for name in REQUIRED_FILES:
        if name not in files:
            raise KnowledgeError(f"must list {name} with its sha256", file=f, field="files")
    for name, digest in files.items():
        if "/" in name or "\\" in name or name.startswith("."):
            raise KnowledgeError("file names must be plain names inside the pack", file=f,
                                 entry=name, field="files")
        p = root / name
        if not p.is_file():
            raise KnowledgeError("listed in manifest.json but missing", file=name)
        actual = hashlib.sha256(p.read_bytes()).hexdigest()
        if actual != digest:
            raise KnowledgeError(f"sha256 is {actual[:12]}..., manifest.json says "
                                 f"{str(digest)[:12]}... (file changed after the pack was "
                                 "built; rebuild or update the manifest)", file=name,
                                 field="sha256")


# --- findings -----------------------------------------------------------------------

def _parse_findings(doc: dict[str, Any]
                    ) -> tuple[list[FindingDef], tuple[str, ...], tuple[NormalSystem, ...]]:
    fname = "findings.json"
    items = _list(doc.get("findings"), fname, None, "findings")
    out: list[FindingDef] = []
    seen: set[str] = set()
    for i, raw in enumerate(items):
        where = f"entry {i}"
        if not isinstance(raw, dict):
            raise KnowledgeError("must be an object", file=fname, entry=where)
        fid = raw.get("id")
        if not isinstance(fid, str) or not SLUG.match(fid):
            raise KnowledgeError("must be a lower-case slug (a-z, 0-9, -)", file=fname,
                                 entry=where, field="id")
        where = fid
        if fid in seen:
            raise KnowledgeError("duplicate finding id", file=fname, entry=where, field="id")
        seen.add(fid)
        cat = raw.get("category")
        if cat not in CATEGORIES:
            raise KnowledgeError(f"must be one of {', '.join(CATEGORIES)}", file=fname,
                                 entry=where, field="category")
        rules = tuple(_rule(r, fname, where, f"rules[{j}]")
                      for j, r in enumerate(_list(raw.get("rules", []), fname, where, "rules")))
        record = tuple(_record(r, fname, where, f"record[{j}]")
                       for j, r in enumerate(_list(raw.get("record", []), fname, where,
                                                   "record")))
        codes = _strings(raw.get("codes", []), fname, where, "codes")
        for c in codes:
            if not CODE.match(c):
                raise KnowledgeError(f"{c!r} is not 'system|code'", file=fname, entry=where,
                                     field="codes")
        out.append(FindingDef(
            id=fid,
            label=_text(raw.get("label"), fname, where, "label"),
            category=cat,
            synonyms=_strings(raw.get("synonyms", []), fname, where, "synonyms"),
            negated_synonyms=_strings(raw.get("negated_synonyms", []), fname, where,
                                      "negated_synonyms"),
            codes=codes,
            rules=rules,
            record=record,
            aliases=_strings(raw.get("aliases", []), fname, where, "aliases"),
            parent=raw.get("parent"),
            sources=_strings(raw.get("sources", []), fname, where, "sources"),
            base_rate=_rate(raw.get("base_rate"), fname, where, "base_rate"),
            group=_group(raw.get("group"), fname, where),
            **_population(raw, fname, where),
            **_qualifiers(raw, fname, where),
        ))
    ids = {f.id for f in out}
    for f in out:
        for a in f.aliases:
            if a in ids:
                raise KnowledgeError(f"alias {a!r} is also a finding id", file=fname,
                                     entry=f.id, field="aliases")
        if f.parent is not None and f.parent not in ids:
            raise KnowledgeError(f"unknown parent finding {f.parent!r}", file=fname,
                                 entry=f.id, field="parent")
        if f.past is not None and (f.past not in ids or f.past == f.id):
            raise KnowledgeError(f"unknown finding {f.past!r} (must be another finding id)",
                                 file=fname, entry=f.id, field="past")
    blocked = _strings(doc.get("blocked_phrases", []), fname, None, "blocked_phrases")
    systems = tuple(_normal_system(s, fname, i, ids) for i, s in enumerate(
        _list(doc.get("normal_systems", []), fname, None, "normal_systems")))
    return out, blocked, systems


def _population(raw: dict[str, Any], fname: str, where: str) -> dict[str, Any]:
    """The optional `sex`, `min_age`, `max_age` of a finding (or of a threshold rule)."""
    sex = raw.get("sex")
    if sex not in (None, *SEXES):
        raise KnowledgeError("must be 'female', 'male' or absent", file=fname, entry=where,
                             field="sex")
    lo, hi = (_age(raw.get(k), fname, where, k) for k in ("min_age", "max_age"))
    if lo is not None and hi is not None and lo >= hi:
        raise KnowledgeError(f"min_age {lo:g} must be below max_age {hi:g}", file=fname,
                             entry=where, field="max_age")
    return {"sex": sex, "min_age": lo, "max_age": hi}


def _group(v: Any, fname: str, where: str) -> str | None:
    if v is None:
        return None
    if not isinstance(v, str) or not SLUG.match(v):
        raise KnowledgeError("must be a group id (a lower-case slug)", file=fname, entry=where,
                             field="group")
    return v


def _rate(v: Any, fname: str, where: str, field: str) -> float | None:
    if v is None:
        return None
    value = _number(v, fname, where, field)
    if not 0.0 < value < 1.0:
        raise KnowledgeError(f"{value:g} is not a proportion in (0, 1)", file=fname,
                             entry=where, field=field)
    return value


def _age(v: Any, fname: str, where: str, field: str) -> float | None:
    if v is None:
        return None
    value = _number(v, fname, where, field)
    if not 0 <= value <= MAX_AGE_YEARS:
        raise KnowledgeError(f"{value:g} is not an age in years (0..{MAX_AGE_YEARS})",
                             file=fname, entry=where, field=field)
    return value


def _qualifiers(raw: dict[str, Any], fname: str, where: str) -> dict[str, Any]:
    """How free text may qualify a finding: direction, circumstance, past, current_only,
    recent."""
    direction = raw.get("direction")
    if direction not in (None, *DIRECTIONS):
        raise KnowledgeError(f"must be one of {', '.join(DIRECTIONS)} or absent", file=fname,
                             entry=where, field="direction")
    flags = {}
    for key in ("circumstance", "current_only", "recent"):
        value = raw.get(key, False)
        if not isinstance(value, bool):
            raise KnowledgeError("must be true or false", file=fname, entry=where, field=key)
        flags[key] = value
    past = raw.get("past")
    if past is not None and (not isinstance(past, str) or not SLUG.match(past)):
        raise KnowledgeError("must be a finding id", file=fname, entry=where, field="past")
    return {"direction": direction, "past": past, **flags}


def _normal_system(raw: Any, fname: str, i: int, ids: set[str]) -> NormalSystem:
    where = f"normal_systems[{i}]"
    if not isinstance(raw, dict):
        raise KnowledgeError("must be an object", file=fname, entry=where)
    name = _text(raw.get("name"), fname, where, "name")
    phrases = _strings(raw.get("phrases"), fname, where, "phrases")
    absent = _strings(raw.get("absent"), fname, where, "absent")
    if not phrases or not absent:
        raise KnowledgeError("needs at least one phrase and one absent finding", file=fname,
                             entry=where)
    for fid in absent:
        if fid not in ids:
            raise KnowledgeError(f"unknown finding id {fid!r}", file=fname, entry=where,
                                 field="absent")
    return NormalSystem(name=name, phrases=phrases, absent=absent)


def _rule(raw: Any, fname: str, where: str, path: str) -> ThresholdRule:
    if not isinstance(raw, dict):
        raise KnowledgeError("must be an object", file=fname, entry=where, field=path)
    loinc = _strings(raw.get("loinc"), fname, where, f"{path}.loinc")
    if not loinc:
        raise KnowledgeError("needs at least one LOINC code", file=fname, entry=where,
                             field=f"{path}.loinc")
    op = raw.get("op")
    if op not in OPS:
        raise KnowledgeError(f"must be one of {' '.join(OPS)}", file=fname, entry=where,
                             field=f"{path}.op")
    value = _number(raw.get("value"), fname, where, f"{path}.value")
    unit = _text(raw.get("unit"), fname, where, f"{path}.unit")
    if not is_known_unit(unit):
        raise KnowledgeError(f"unit {unit!r} is not one Osler can convert", file=fname,
                             entry=where, field=f"{path}.unit")
    sex = raw.get("sex")
    if sex not in (None, *SEXES):
        raise KnowledgeError("must be 'female', 'male' or absent", file=fname, entry=where,
                             field=f"{path}.sex")
    lo, hi = (_age(raw.get(k), fname, where, f"{path}.{k}") for k in ("min_age", "max_age"))
    if lo is not None and hi is not None and lo >= hi:
        raise KnowledgeError(f"min_age {lo:g} must be below max_age {hi:g}", file=fname,
                             entry=where, field=f"{path}.max_age")
    present_only = raw.get("present_only", False)
    if not isinstance(present_only, bool):
        raise KnowledgeError("must be true or false", file=fname, entry=where,
                             field=f"{path}.present_only")
    mm = raw.get("molar_mass")
    if mm is not None and (_number(mm, fname, where, f"{path}.molar_mass") <= 0):
        raise KnowledgeError("must be positive (g/mol)", file=fname, entry=where,
                             field=f"{path}.molar_mass")
    return ThresholdRule(loinc=loinc, op=op, value=value, unit=unit, sex=sex,
                         molar_mass=float(mm) if mm is not None else None, min_age=lo,
                         max_age=hi, present_only=present_only)


def _record(raw: Any, fname: str, where: str, path: str) -> RecordRule:
    if not isinstance(raw, dict):
        raise KnowledgeError("must be an object", file=fname, entry=where, field=path)
    kind = raw.get("kind")
    if kind not in EVENT_KINDS:
        raise KnowledgeError(f"must be an event kind ({', '.join(EVENT_KINDS)})", file=fname,
                             entry=where, field=f"{path}.kind")
    codes = _strings(raw.get("codes", []), fname, where, f"{path}.codes")
    for c in codes:
        if not CODE.match(c):
            raise KnowledgeError(f"{c!r} is not 'system|code'", file=fname, entry=where,
                                 field=f"{path}.codes")
    within = raw.get("within_days")
    if within is not None and (not isinstance(within, int) or isinstance(within, bool)
                               or within < 0):
        raise KnowledgeError("must be a whole number of days", file=fname, entry=where,
                             field=f"{path}.within_days")
    min_days = raw.get("min_days")
    if min_days is not None:
        _number(min_days, fname, where, f"{path}.min_days")
    return RecordRule(
        kind=kind,
        codes=codes,
        keywords=tuple(k.lower() for k in _strings(raw.get("keywords", []), fname, where,
                                                   f"{path}.keywords")),
        exclude=tuple(k.lower() for k in _strings(raw.get("exclude", []), fname, where,
                                                  f"{path}.exclude")),
        within_days=within,
        min_days=float(min_days) if min_days is not None else None,
        present_values=tuple(v.lower() for v in _strings(raw.get("present_values", []), fname,
                                                         where, f"{path}.present_values")),
        absent_values=tuple(v.lower() for v in _strings(raw.get("absent_values", []), fname,
                                                        where, f"{path}.absent_values")),
    )


# --- conditions ---------------------------------------------------------------------

def _parse_conditions(doc: dict[str, Any], findings: dict[str, FindingDef],
                      aliases: dict[str, str]) -> list[ConditionDef]:
    fname = "conditions.json"
    items = _list(doc.get("conditions"), fname, None, "conditions")
    if not items:
        raise KnowledgeError("the pack has no conditions", file=fname, field="conditions")
    out: list[ConditionDef] = []
    seen: set[str] = set()
    total = 0.0
    for i, raw in enumerate(items):
        where = f"entry {i}"
        if not isinstance(raw, dict):
            raise KnowledgeError("must be an object", file=fname, entry=where)
        cid = raw.get("id")
        if not isinstance(cid, str) or not SLUG.match(cid):
            raise KnowledgeError("must be a lower-case slug (a-z, 0-9, -)", file=fname,
                                 entry=where, field="id")
        where = cid
        if cid in seen:
            raise KnowledgeError("duplicate condition id", file=fname, entry=where, field="id")
        seen.add(cid)
        icd10 = _strings(raw.get("icd10", []), fname, where, "icd10")
        for code in icd10:
            if not ICD10CM.match(code):
                raise KnowledgeError(f"{code!r} is not a well-formed ICD-10-CM code "
                                     "(e.g. I21.9)", file=fname, entry=where, field="icd10")
        prior = _number(raw.get("prior"), fname, where, "prior")
        if not 0.0 < prior <= 1.0:
            raise KnowledgeError(f"{prior} is outside (0, 1]", file=fname, entry=where,
                                 field="prior")
        total += prior
        probs: dict[str, float] = {}
        for fid, p in _dict(raw.get("findings", {}), fname, where, "findings").items():
            field = f"findings.{fid}"
            if fid not in findings:
                hint = f" (an alias of {aliases[fid]!r}; use that id)" if fid in aliases else ""
                raise KnowledgeError(f"unknown finding id{hint}", file=fname, entry=where,
                                     field=field)
            value = _number(p, fname, where, field)
            if not 0.0 <= value <= 1.0:
                raise KnowledgeError(f"probability {value} is outside [0, 1]", file=fname,
                                     entry=where, field=field)
            probs[fid] = value
        age_lr = _lrs(raw.get("age_lr", {}), BAND_NAMES, fname, where, "age_lr")
        sex_lr = _lrs(raw.get("sex_lr", {}), ("female", "male"), fname, where, "sex_lr")
        severity = raw.get("severity")
        if severity is not None and (not isinstance(severity, int) or isinstance(severity, bool)
                                     or not 1 <= severity <= 5):
            raise KnowledgeError("must be a whole number 1..5 (DDXPlus severity)", file=fname,
                                 entry=where, field="severity")
        cant_miss = raw.get("cant_miss", False)
        if not isinstance(cant_miss, bool):
            raise KnowledgeError("must be true or false", file=fname, entry=where,
                                 field="cant_miss")
        rationale = raw.get("cant_miss_rationale")
        if cant_miss and (not isinstance(rationale, str) or not rationale.strip()):
            raise KnowledgeError("a can't-miss condition needs a one-line rationale",
                                 file=fname, entry=where, field="cant_miss_rationale")
        basis = _dict(raw.get("finding_basis", {}), fname, where, "finding_basis")
        out.append(ConditionDef(
            id=cid,
            name=_text(raw.get("name"), fname, where, "name"),
            icd10=icd10,
            prior=prior,
            findings=probs,
            synonyms=_strings(raw.get("synonyms", []), fname, where, "synonyms"),
            age_lr=age_lr,
            sex_lr=sex_lr,
            cant_miss=cant_miss,
            cant_miss_rationale=rationale if cant_miss else None,
            severity=severity,
            sources=_strings(raw.get("sources", []), fname, where, "sources"),
            cant_miss_citation=raw.get("cant_miss_citation"),
            finding_basis={str(k): str(v) for k, v in basis.items()},
            prior_basis=str(raw.get("prior_basis", "")),
            literature=raw.get("literature"),
        ))
    if abs(total - 1.0) > PRIOR_SUM_TOLERANCE:
        raise KnowledgeError(f"priors sum to {total:.6f}; they must sum to 1", file=fname,
                             field="prior")
    return [_with_prerequisites(c, raw, fname, findings, seen)
            for c, raw in zip(out, items, strict=True)]


def _with_prerequisites(c: ConditionDef, raw: dict[str, Any], fname: str,
                        findings: dict[str, FindingDef], conditions: set[str]) -> ConditionDef:
    """The condition with its declared requires/excludes (docs/kb-pack.md)."""
    from dataclasses import replace

    from osler.knowledge.prerequisites import parse_entries

    if not any(k in raw for k in ("requires", "excludes", "prerequisites_reviewed")):
        return c
    known = {"finding_known": findings.__contains__, "condition_known": conditions.__contains__}
    requires = parse_entries(raw.get("requires"), fname=fname, entry=c.id, field="requires",
                             **known)
    excludes = parse_entries(raw.get("excludes"), fname=fname, entry=c.id, field="excludes",
                             **known)
    reviewed = raw.get("prerequisites_reviewed", bool(requires or excludes))
    if not isinstance(reviewed, bool):
        raise KnowledgeError("must be true or false", file=fname, entry=c.id,
                             field="prerequisites_reviewed")
    return replace(c, requires=requires, excludes=excludes, prerequisites_reviewed=reviewed)


def _lrs(raw: Any, keys: tuple[str, ...], fname: str, where: str, field: str
         ) -> dict[str, float]:
    out = {}
    for k, v in _dict(raw, fname, where, field).items():
        if k not in keys:
            raise KnowledgeError(f"unknown key {k!r}; expected {', '.join(keys)}", file=fname,
                                 entry=where, field=field)
        value = _number(v, fname, where, f"{field}.{k}")
        if value < 0:
            raise KnowledgeError("a likelihood ratio cannot be negative", file=fname,
                                 entry=where, field=f"{field}.{k}")
        out[k] = value
    return out


# --- small validators ---------------------------------------------------------------

def _list(v: Any, fname: str, where: str | None, field: str) -> list[Any]:
    if not isinstance(v, list):
        raise KnowledgeError("must be a list", file=fname, entry=where, field=field)
    return v


def _dict(v: Any, fname: str, where: str | None, field: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise KnowledgeError("must be an object", file=fname, entry=where, field=field)
    return v


def _strings(v: Any, fname: str, where: str | None, field: str) -> tuple[str, ...]:
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise KnowledgeError("must be a list of strings", file=fname, entry=where, field=field)
    return tuple(v)


def _text(v: Any, fname: str, where: str | None, field: str) -> str:
    if not isinstance(v, str) or not v.strip():
        raise KnowledgeError("must be a non-empty string", file=fname, entry=where, field=field)
    return v


def _number(v: Any, fname: str, where: str | None, field: str) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise KnowledgeError(f"must be a number, not {v!r}", file=fname, entry=where,
                             field=field)
    return float(v)
