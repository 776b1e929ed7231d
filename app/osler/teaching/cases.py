"""A teaching case's metadata (the `<case>.case.json` sidecar): read, validate, write.

The sidecar names the FHIR Bundle it describes and says what a trainer needs that the
record does not: title, specialty, difficulty, the gold diagnosis, teaching notes, learning
objectives, which events belong to which stage, and the case's "now". Every problem is
reported as a TeachingError naming the sidecar file and the field.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from osler.record import EventKind
from osler.teaching.errors import TeachingError

FORMAT = "osler-case/1"
SIDECAR_SUFFIX = ".case.json"
DIFFICULTIES = ("beginner", "intermediate", "advanced")
STAGE_TITLES = {
    "presentation": "Presentation",
    "history": "History",
    "exam": "Examination",
    "labs": "Labs",
    "imaging": "Imaging & notes",
}
STAGE_ORDER = tuple(STAGE_TITLES)
PRESENTATION_TITLES = ("triage", "chief complaint", "presenting", "presentation", "emergency",
                       "ed note", "reason for visit", "admission note")
RULE_FIELDS = ("events", "kinds", "categories", "codes", "titles", "from", "before")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
_STAGE_KEY = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
_ICD10 = re.compile(r"^[A-TV-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?$")
MAX_TEXT = 20_000


def slug(text: str) -> str:
    """A case id from a title: lower-case words and digits joined by '-' ('chest-pain-58m')."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return "-".join(words)[:80].strip("-") or "case"


@dataclass(frozen=True, slots=True)
class Gold:
    """The case's gold diagnosis: its name and ICD-10-CM codes."""

    name: str
    icd10: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "icd10": list(self.icd10)}


@dataclass(frozen=True, slots=True)
class StageRule:
    """Which events a stage claims: by id, or by kind, category, code, title and time.

    Every non-empty criterion must hold (AND); `events` alone claims exactly those events
    (a resource id also claims its components, e.g. a blood-pressure panel)."""

    events: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()  # code values, or "system|code"
    titles: tuple[str, ...] = ()  # case-insensitive words or phrases in the event's name
    start: datetime | None = None  # "from": events at or after
    before: datetime | None = None  # events strictly before

    @property
    def by_rule(self) -> bool:
        """True when the rule selects by criteria rather than by listed ids."""
        return bool(self.kinds or self.categories or self.codes or self.titles
                    or self.start or self.before)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {}
        for name in ("events", "kinds", "categories", "codes", "titles"):
            value = getattr(self, name)
            if value:
                doc[name] = list(value)
        if self.start is not None:
            doc["from"] = self.start.isoformat()
        if self.before is not None:
            doc["before"] = self.before.isoformat()
        return doc


@dataclass(frozen=True, slots=True)
class StageSpec:
    """One stage of progressive disclosure: a key, a title and the rules that fill it."""

    key: str
    title: str
    rules: tuple[StageRule, ...]

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"stage": self.key}
        if self.title != STAGE_TITLES.get(self.key):
            doc["title"] = self.title
        if len(self.rules) == 1:
            doc.update(self.rules[0].to_json())
        else:
            doc["rules"] = [r.to_json() for r in self.rules]
        return doc


def default_stages(now: datetime | None) -> tuple[StageSpec, ...]:
    """Stages by event kind, used when a sidecar lists none: the presenting day's triage
    note and encounter, then history (everything older, and conditions, medications…),
    examination (vitals, exam notes), labs, then imaging, reports and other notes."""
    day = (now - timedelta(hours=24)) if now is not None else None
    history_kinds = ("condition", "medication", "allergy", "immunization", "procedure",
                     "family_history", "careplan", "device")
    rules = {
        "presentation": (
            StageRule(kinds=("encounter",), start=day),
            StageRule(kinds=("note",), titles=PRESENTATION_TITLES, start=day),
        ),
        "history": (
            StageRule(before=day) if day is not None else StageRule(kinds=("encounter",)),
            StageRule(kinds=history_kinds),
            StageRule(kinds=("note",), titles=("history", "hpi")),
        ),
        "exam": (
            StageRule(kinds=("vital",)),
            StageRule(kinds=("note", "observation"), titles=("exam", "examination",
                                                             "physical")),
            StageRule(categories=("exam",)),
        ),
        "labs": (StageRule(kinds=("lab",)), StageRule(categories=("laboratory",))),
        "imaging": (StageRule(),),  # everything left: imaging, reports, other notes
    }
    return tuple(StageSpec(k, STAGE_TITLES[k], rules[k]) for k in STAGE_ORDER)


@dataclass(frozen=True, slots=True)
class CaseMeta:
    """Everything a sidecar says about one teaching case."""

    id: str
    title: str
    bundle: Path
    gold: Gold
    specialty: str = "general"
    difficulty: str = "intermediate"
    summary: str = ""  # one line shown in the library; must not give the diagnosis away
    teaching_notes: str = ""
    objectives: tuple[str, ...] = ()
    stages: tuple[StageSpec, ...] = ()  # empty: default_stages(now)
    now: datetime | None = None
    patient: str | None = None  # patient id when the bundle holds several
    author: str = ""
    tags: tuple[str, ...] = ()
    source: str = "user"  # 'shipped' (resources/cases) or 'user' (the trainer's folder)
    sidecar: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def stage_specs(self) -> tuple[StageSpec, ...]:
        """The stages to reveal, in order (the defaults when the sidecar gives none)."""
        return self.stages or default_stages(self.now)

    def listing(self) -> dict[str, Any]:
        """What a library listing shows: no gold diagnosis, no teaching notes."""
        return {"id": self.id, "title": self.title, "specialty": self.specialty,
                "difficulty": self.difficulty, "summary": self.summary, "source": self.source,
                "tags": list(self.tags)}

    def to_json(self, bundle_ref: str | None = None) -> dict[str, Any]:
        """The sidecar document; `bundle_ref` is the bundle path as written in the file."""
        doc: dict[str, Any] = {
            "format": FORMAT,
            "id": self.id,
            "title": self.title,
            "summary": self.summary,
            "specialty": self.specialty,
            "difficulty": self.difficulty,
            "bundle": bundle_ref if bundle_ref is not None else self.bundle.name,
            "gold": self.gold.to_json(),
            "teaching_notes": self.teaching_notes,
            "objectives": list(self.objectives),
        }
        if self.now is not None:
            doc["now"] = self.now.isoformat()
        if self.patient:
            doc["patient"] = self.patient
        if self.author:
            doc["author"] = self.author
        if self.tags:
            doc["tags"] = list(self.tags)
        if self.stages:
            doc["stages"] = [s.to_json() for s in self.stages]
        return doc


class _Reader:
    """Typed access to one sidecar's fields, raising TeachingError with file and field."""

    def __init__(self, path: Path, doc: dict[str, Any]):
        self.path = path
        self.doc = doc

    def fail(self, field_name: str, message: str) -> TeachingError:
        return TeachingError(message, str(self.path), field_name)

    def text(self, name: str, required: bool = False, default: str = "",
             node: dict[str, Any] | None = None, where: str | None = None) -> str:
        src = self.doc if node is None else node
        where = where or name
        value = src.get(name)
        if value is None:
            if required:
                raise self.fail(where, "required field is missing")
            return default
        if not isinstance(value, str):
            raise self.fail(where, f"must be text, not {type(value).__name__}")
        value = value.strip()
        if required and not value:
            raise self.fail(where, "must not be empty")
        if len(value) > MAX_TEXT:
            raise self.fail(where, f"too long ({len(value)} characters; at most {MAX_TEXT})")
        return value

    def texts(self, name: str, node: dict[str, Any] | None = None,
              where: str | None = None) -> tuple[str, ...]:
        src = self.doc if node is None else node
        where = where or name
        value = src.get(name, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise self.fail(where, f"must be a list of text, not {type(value).__name__}")
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise self.fail(f"{where}[{i}]", "must be non-empty text")
            out.append(item.strip())
        return tuple(out)

    def time(self, name: str, node: dict[str, Any] | None = None, where: str | None = None,
             end_of_period: bool = False) -> datetime | None:
        from osler.fhir.dates import DateParseError, parse_datetime

        src = self.doc if node is None else node
        value = src.get(name)
        if value is None:
            return None
        try:
            when, precision = parse_datetime(value)
        except DateParseError as exc:
            raise self.fail(where or name, str(exc)) from None
        if end_of_period and precision == "day":
            when += timedelta(days=1) - timedelta(microseconds=1)
        return when


def read_sidecar(path: str | Path, source: str = "user") -> CaseMeta:
    """Read and validate one `<case>.case.json`; raises TeachingError naming file and field."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TeachingError(f"cannot read the case file ({exc.strerror or exc})",
                            str(path)) from None
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise TeachingError("not UTF-8 text", str(path)) from None
    except json.JSONDecodeError as exc:
        raise TeachingError(f"not valid JSON (line {exc.lineno}, column {exc.colno}: "
                            f"{exc.msg})", str(path)) from None
    if not isinstance(doc, dict):
        raise TeachingError("a case file must hold one JSON object", str(path))
    return parse_sidecar(doc, path, source)


def parse_sidecar(doc: dict[str, Any], path: Path, source: str = "user") -> CaseMeta:
    """Validate a sidecar document read from `path` (the bundle path is relative to it)."""
    r = _Reader(path, doc)
    fmt = doc.get("format", FORMAT)
    if fmt != FORMAT:
        raise r.fail("format", f"unsupported format {fmt!r}; this Osler reads {FORMAT!r}")
    case_id = r.text("id", required=True)
    if not _ID.match(case_id):
        raise r.fail("id", f"{case_id[:40]!r}: use 1-80 lower-case letters, digits and '-'")
    title = r.text("title", required=True)
    difficulty = r.text("difficulty", default="intermediate").lower()
    difficulty = parse_difficulty(difficulty, r.fail)
    bundle_ref = r.text("bundle", default=path.name[: -len(SIDECAR_SUFFIX)] + ".json"
                        if path.name.endswith(SIDECAR_SUFFIX) else "")
    if not bundle_ref:
        raise r.fail("bundle", "required field is missing (the FHIR Bundle file, relative "
                               "to this file)")
    bundle = (path.parent / bundle_ref).resolve()
    gold = parse_gold(doc.get("gold"), r)
    now = r.time("now", end_of_period=True)
    stages = _parse_stages(doc.get("stages"), r)
    patient = r.text("patient") or None
    return CaseMeta(
        id=case_id, title=title, bundle=bundle, gold=gold,
        specialty=r.text("specialty", default="general") or "general",
        difficulty=difficulty, summary=r.text("summary"),
        teaching_notes=r.text("teaching_notes"), objectives=r.texts("objectives"),
        stages=stages, now=now, patient=patient, author=r.text("author"),
        tags=r.texts("tags"), source=source, sidecar=path,
        extra={k: v for k, v in doc.items() if k.startswith("x-")},
    )


def parse_difficulty(value: str | int, fail=None) -> str:
    """'beginner' | 'intermediate' | 'advanced' (1, 2 and 3 are accepted for them)."""
    text = str(value).strip().lower()
    numbers = {str(i + 1): d for i, d in enumerate(DIFFICULTIES)}
    text = numbers.get(text, text)
    if text not in DIFFICULTIES:
        message = f"{str(value)[:30]!r} is not one of {', '.join(DIFFICULTIES)} (or 1-3)"
        if fail is not None:
            raise fail("difficulty", message)
        raise TeachingError(message, field="difficulty")
    return text


def parse_gold(node: Any, r: _Reader) -> Gold:
    """The `gold` field: {"name": ..., "icd10": [...]} (a bare name is accepted)."""
    if isinstance(node, str):
        node = {"name": node}
    if node is None:
        raise r.fail("gold", "required field is missing ({\"name\": ..., \"icd10\": [...]})")
    if not isinstance(node, dict):
        raise r.fail("gold", f"must be an object, not {type(node).__name__}")
    name = r.text("name", required=True, node=node, where="gold.name")
    codes = r.texts("icd10", node=node, where="gold.icd10")
    return Gold(name, tuple(check_icd10(c, f"gold.icd10[{i}]", r.fail)
                            for i, c in enumerate(codes)))


def check_icd10(code: str, where: str = "gold.icd10", fail=None) -> str:
    """An ICD-10-CM code in its dotted form ('I26.99'); raises when malformed or unknown."""
    text = code.strip().upper()
    problem = None
    if not _ICD10.match(text):
        problem = f"{code[:20]!r} is not an ICD-10-CM code (like 'I26.99')"
    else:
        import simple_icd_10_cm as cm

        dotted = text if "." in text or len(text) <= 3 else f"{text[:3]}.{text[3:]}"
        if not cm.is_valid_item(dotted):
            problem = f"{code[:20]!r} is not in ICD-10-CM"
        text = dotted
    if problem:
        if fail is not None:
            raise fail(where, problem)
        raise TeachingError(problem, field=where)
    return text


def _parse_stages(node: Any, r: _Reader) -> tuple[StageSpec, ...]:
    if node is None:
        return ()
    if not isinstance(node, list) or not node:
        raise r.fail("stages", "must be a non-empty list of stages")
    specs: list[StageSpec] = []
    seen: set[str] = set()
    for i, item in enumerate(node):
        where = f"stages[{i}]"
        if not isinstance(item, dict):
            raise r.fail(where, "must be an object like {\"stage\": \"history\", \"kinds\": "
                                "[\"condition\"]}")
        key = r.text("stage", required=True, node=item, where=f"{where}.stage").lower()
        if not _STAGE_KEY.match(key):
            raise r.fail(f"{where}.stage", f"{key[:40]!r}: use lower-case letters, digits, '-'")
        if key in seen:
            raise r.fail(f"{where}.stage", f"stage {key!r} is listed twice")
        seen.add(key)
        title = r.text("title", node=item, where=f"{where}.title") or STAGE_TITLES.get(
            key, key.replace("-", " ").capitalize())
        if "rules" in item:
            rules_node = item["rules"]
            if not isinstance(rules_node, list) or not rules_node:
                raise r.fail(f"{where}.rules", "must be a non-empty list of rules")
            rules = tuple(_parse_rule(x, r, f"{where}.rules[{j}]")
                          for j, x in enumerate(rules_node))
        else:
            rules = (_parse_rule(item, r, where, allow=("stage", "title")),)
        specs.append(StageSpec(key, title, rules))
    return tuple(specs)


def _parse_rule(node: Any, r: _Reader, where: str, allow: tuple[str, ...] = ()) -> StageRule:
    if not isinstance(node, dict):
        raise r.fail(where, "a rule must be an object")
    unknown = sorted(set(node) - set(RULE_FIELDS) - set(allow) - {"rules"})
    if unknown:
        raise r.fail(f"{where}.{unknown[0]}", "unknown field; a stage rule has "
                     + ", ".join(RULE_FIELDS))
    kinds = r.texts("kinds", node=node, where=f"{where}.kinds")
    known_kinds = {k.value for k in EventKind}
    for j, kind in enumerate(kinds):
        if kind not in known_kinds:
            raise r.fail(f"{where}.kinds[{j}]", f"{kind!r} is not an event kind ("
                         + ", ".join(sorted(known_kinds)) + ")")
    return StageRule(
        events=r.texts("events", node=node, where=f"{where}.events"),
        kinds=kinds,
        categories=tuple(c.lower() for c in r.texts("categories", node=node,
                                                   where=f"{where}.categories")),
        codes=r.texts("codes", node=node, where=f"{where}.codes"),
        titles=tuple(t.lower() for t in r.texts("titles", node=node, where=f"{where}.titles")),
        start=r.time("from", node=node, where=f"{where}.from"),
        before=r.time("before", node=node, where=f"{where}.before"),
    )


def write_sidecar(meta: CaseMeta, path: Path, bundle_ref: str | None = None) -> None:
    """Write a sidecar (UTF-8, pretty-printed) through a temporary file renamed into place."""
    text = json.dumps(meta.to_json(bundle_ref), indent=1, ensure_ascii=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_file(path, text)


def replace_file(path: Path, text: str) -> None:
    """Write UTF-8 text to a new file beside `path` (honouring the umask), then rename it."""
    import os
    import secrets

    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "x", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
