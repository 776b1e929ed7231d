"""The case library: shipped cases in resources/cases, the trainer's own in a user folder.

A library folder holds `<case>.case.json` sidecars, in it or its sub-folders, each naming
its FHIR Bundle (a path relative to the sidecar that must stay inside the folder). The
trainer's folder is `$OSLER_CASES_DIR`, else `cases` in the per-user data folder
(platformdirs `user_data_dir("osler")`). Adding a case copies the bundle there (optionally
de-identified) and writes its sidecar; nothing else is written.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from osler.teaching.cases import (
    SIDECAR_SUFFIX,
    CaseMeta,
    Gold,
    check_icd10,
    parse_difficulty,
    read_sidecar,
    slug,
    write_sidecar,
)
from osler.teaching.errors import TeachingError

if TYPE_CHECKING:
    from osler.knowledge import KnowledgeBase
    from osler.record import Timeline
    from osler.teaching.reveal import RevealSession
    from osler.teaching.stages import Stage

USER_DIR_ENV = "OSLER_CASES_DIR"
SHIPPED, USER = "shipped", "user"
BUNDLE_SUFFIXES = (".json", ".ndjson", ".jsonl")


def user_cases_dir() -> Path:
    """Where a trainer's own cases live: $OSLER_CASES_DIR, else <user data>/osler/cases."""
    env = os.environ.get(USER_DIR_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("osler", appauthor=False)) / "cases"


def shipped_cases_dir() -> Path:
    """The demo and teaching cases that ship with Osler (resources/cases)."""
    from osler.locations import cases_dir

    return cases_dir()


def sidecar_for(bundle: Path) -> Path:
    """The sidecar a bundle would have beside it: 'x.json' -> 'x.case.json'."""
    return bundle.with_name(bundle.stem + SIDECAR_SUFFIX)


@dataclass(slots=True)
class CaseLibrary:
    """Every readable case of the library folders, plus what could not be read."""

    folders: list[tuple[Path, str]]
    cases: list[CaseMeta] = field(default_factory=list)
    problems: list[TeachingError] = field(default_factory=list)

    @classmethod
    def load(cls, shipped: Path | None = None, user: Path | None = None,
             include_user: bool = True) -> CaseLibrary:
        """Scan the shipped folder and (by default) the trainer's folder."""
        folders = [(shipped or shipped_cases_dir(), SHIPPED)]
        if include_user:
            folders.append((user or user_cases_dir(), USER))
        lib = cls(folders)
        lib.rescan()
        return lib

    def rescan(self) -> None:
        """Read every sidecar again; a broken one is listed in `problems`, never fatal."""
        self.cases, self.problems = [], []
        seen: dict[str, CaseMeta] = {}
        for root, source in self.folders:
            if not root.is_dir():
                continue
            for path in sorted(root.rglob("*" + SIDECAR_SUFFIX)):
                try:
                    meta = read_sidecar(path, source)
                    _check_bundle(meta, root)
                except TeachingError as exc:
                    self.problems.append(exc)
                    continue
                if meta.id in seen:
                    self.problems.append(TeachingError(
                        f"case id {meta.id!r} is already used by {seen[meta.id].sidecar}; "
                        "this one is skipped", str(path), "id"))
                    continue
                seen[meta.id] = meta
                self.cases.append(meta)

    @property
    def user_folder(self) -> Path | None:
        return next((p for p, s in self.folders if s == USER), None)

    def get(self, case_id: str) -> CaseMeta:
        """The case with this id; raises TeachingError listing some known ids."""
        for c in self.cases:
            if c.id == case_id:
                return c
        known = ", ".join(c.id for c in self.cases[:12]) or "none"
        raise TeachingError(f"no case with id {case_id!r} (known: {known})", field="id")

    def filter(self, specialty: str | None = None, difficulty: str | None = None,
               text: str | None = None) -> list[CaseMeta]:
        """Cases of a specialty and difficulty whose title, summary or tags hold the text."""
        level = parse_difficulty(difficulty) if difficulty else None
        wanted = specialty.strip().lower() if specialty else None
        words = (text or "").lower().split()
        out = []
        for c in self.cases:
            if wanted and c.specialty.lower() != wanted:
                continue
            if level and c.difficulty != level:
                continue
            hay = " ".join((c.title, c.summary, c.specialty, *c.tags)).lower()
            if any(w not in hay for w in words):
                continue
            out.append(c)
        return out

    def specialties(self) -> list[str]:
        return sorted({c.specialty for c in self.cases}, key=str.lower)


def _check_bundle(meta: CaseMeta, root: Path) -> None:
    where = str(meta.sidecar)
    try:
        meta.bundle.relative_to(root.resolve())
    except ValueError:
        raise TeachingError(f"the bundle {meta.bundle} is outside the library folder "
                            f"{root}", where, "bundle") from None
    if not meta.bundle.is_file():
        raise TeachingError(f"the bundle file {meta.bundle.name} does not exist", where,
                            "bundle")


def load_timeline(meta: CaseMeta) -> Timeline:
    """The case's record (FhirError when the bundle cannot be read)."""
    from osler.fhir import import_path

    result = import_path(meta.bundle, patient=meta.patient)
    if meta.patient is None and len(result.roster) > 1:
        raise TeachingError("the bundle holds several patients; name one in 'patient' ("
                            + ", ".join(e.patient.id for e in result.roster[:5]) + ")",
                            str(meta.sidecar or meta.bundle), "patient")
    return result.timeline(meta.patient)


def check_case(meta: CaseMeta) -> tuple[Timeline, tuple[Stage, ...]]:
    """Load a case's record and plan its stages: every listed event id must exist."""
    from osler.teaching.stages import plan_stages

    timeline = load_timeline(meta)
    return timeline, plan_stages(meta, timeline)


def open_case(meta: CaseMeta, presentation: bool = False) -> RevealSession:
    """A reveal session over the case, nothing revealed yet."""
    from osler.teaching.reveal import RevealSession

    return RevealSession(meta, load_timeline(meta), presentation=presentation)


def gold_for(name: str, icd10: list[str] | tuple[str, ...], kb: KnowledgeBase) -> Gold:
    """A gold diagnosis checked against the KB: ICD-10-CM codes are filled in from the
    condition it names; a gold naming no KB condition needs its codes given."""
    from osler.reasoning.gold import GoldMatcher

    name = " ".join(name.split())
    if not name:
        raise TeachingError("the gold diagnosis is empty", field="gold")
    codes = tuple(check_icd10(c, f"gold.icd10[{i}]") for i, c in enumerate(icd10))
    target = GoldMatcher(kb).target(name)
    if not codes and len(target.condition_ids) == 1:
        codes = kb.condition(next(iter(target.condition_ids))).icd10
    if not target.condition_ids and not codes:
        raise TeachingError(f"{name!r} names no condition in the knowledge base; give its "
                            "ICD-10-CM code so that answers can be scored", field="gold")
    return Gold(name, tuple(codes))


@dataclass(frozen=True, slots=True)
class NewCase:
    """What a trainer says about a case being added (the CLI's and the dialog's fields)."""

    title: str
    gold: str
    gold_icd10: tuple[str, ...] = ()
    specialty: str = "general"
    difficulty: str = "intermediate"
    summary: str = ""
    teaching_notes: str = ""
    objectives: tuple[str, ...] = ()
    now: datetime | None = None
    case_id: str | None = None
    patient: str | None = None
    author: str = ""
    tags: tuple[str, ...] = ()


def add_case(bundle: str | Path, new: NewCase, kb: KnowledgeBase, *,
             folder: Path | None = None, deidentify: bool = False, seed: str | None = None,
             force: bool = False, library: CaseLibrary | None = None) -> CaseMeta:
    """Copy a bundle into the trainer's folder with a new sidecar; returns the case.

    With `deidentify` the copy is `osler deidentify`'s output instead of the original."""
    src = Path(bundle)
    if not src.is_file():
        raise TeachingError("no such file (give one FHIR Bundle, resource or NDJSON file)",
                            str(src))
    if src.suffix.lower() not in BUNDLE_SUFFIXES:
        raise TeachingError(f"expected a .json or .ndjson FHIR file, not {src.suffix!r}",
                            str(src))
    folder = folder or _user_folder(library)
    title = " ".join(new.title.split())
    if not title:
        raise TeachingError("the title is empty", field="title")
    case_id = new.case_id or slug(title)
    gold = gold_for(new.gold, new.gold_icd10, kb)
    meta = CaseMeta(
        id=case_id, title=title, bundle=folder / (case_id + src.suffix.lower()), gold=gold,
        specialty=" ".join(new.specialty.split()) or "general",
        difficulty=parse_difficulty(new.difficulty), summary=new.summary.strip(),
        teaching_notes=new.teaching_notes.strip(),
        objectives=tuple(o.strip() for o in new.objectives if o.strip()), now=new.now,
        patient=new.patient, author=new.author.strip(), tags=new.tags, source=USER,
        sidecar=folder / (case_id + SIDECAR_SUFFIX))
    # Round-trip through the sidecar reader: the same validation as a hand-written file.
    from osler.teaching.cases import parse_sidecar

    meta = parse_sidecar(meta.to_json(meta.bundle.name), folder / meta.sidecar.name, USER)
    _refuse_clash(meta, library, force)
    checked = replace(meta, bundle=src.resolve())
    check_case(checked)  # the record must import and hold one patient (or the one named)
    _install(src, meta, deidentify=deidentify, seed=seed, force=force)
    return meta


def import_case(sidecar: str | Path, *, folder: Path | None = None, force: bool = False,
                library: CaseLibrary | None = None) -> CaseMeta:
    """Copy a case someone else made (sidecar + bundle) into the trainer's folder."""
    path = Path(sidecar)
    if not path.name.endswith(SIDECAR_SUFFIX):
        path = sidecar_for(path)
    original = read_sidecar(path, USER)
    if not original.bundle.is_file():
        raise TeachingError(f"the bundle file {original.bundle.name} does not exist",
                            str(path), "bundle")
    check_case(original)
    folder = folder or _user_folder(library)
    suffix = original.bundle.suffix.lower() or ".json"
    meta = replace(original, bundle=folder / (original.id + suffix),
                   sidecar=folder / (original.id + SIDECAR_SUFFIX))
    _refuse_clash(meta, library, force)
    _install(original.bundle, meta, force=force)
    return meta


def _user_folder(library: CaseLibrary | None) -> Path:
    """Where new cases go: the library's own user folder, else the default one."""
    found = library.user_folder if library is not None else None
    return found or user_cases_dir()


def remove_case(case_id: str, library: CaseLibrary) -> CaseMeta:
    """Delete one of the trainer's own cases (its sidecar, and its bundle when inside the
    trainer's folder); shipped cases cannot be removed."""
    meta = library.get(case_id)
    if meta.source != USER or meta.sidecar is None:
        raise TeachingError("shipped cases cannot be removed", field=case_id)
    root = library.user_folder
    meta.sidecar.unlink(missing_ok=True)
    if root is not None and meta.bundle.is_relative_to(root.resolve()):
        others = [c for c in library.cases if c.bundle == meta.bundle and c.id != meta.id]
        if not others:
            meta.bundle.unlink(missing_ok=True)
    library.rescan()
    return meta


def _refuse_clash(meta: CaseMeta, library: CaseLibrary | None, force: bool) -> None:
    assert meta.sidecar is not None
    if library is not None:
        for c in library.cases:
            if c.id == meta.id and c.source == SHIPPED:
                raise TeachingError(f"case id {meta.id!r} is a shipped case; choose another "
                                    "id", field="id")
    if not force and (meta.sidecar.exists() or meta.bundle.exists()):
        raise TeachingError(f"a case with id {meta.id!r} already exists in "
                            f"{meta.sidecar.parent} (use --force to replace it, or another "
                            "id)", field="id")


def _install(src: Path, meta: CaseMeta, *, deidentify: bool = False, seed: str | None = None,
             force: bool = False) -> None:
    """Write the bundle copy and then the sidecar; on failure neither is left behind."""
    assert meta.sidecar is not None
    folder = meta.sidecar.parent
    folder.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(prefix=".adding-", dir=folder))
    try:
        staged = tmp_dir / meta.bundle.name
        if deidentify:
            from osler.teaching.deidentify import deidentify_path

            deidentify_path(src, staged, seed=seed)
        else:
            shutil.copyfile(src, staged)
        os.replace(staged, meta.bundle)
        write_sidecar(meta, meta.sidecar, meta.bundle.name)
    except BaseException:
        if not meta.sidecar.exists():
            meta.bundle.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


def case_details(meta: CaseMeta, with_gold: bool = True) -> dict[str, Any]:
    """`osler cases show`: metadata, the patient's age and sex, and each stage's events."""
    from osler.teaching.reveal import RevealSession

    timeline, stages = check_case(meta)
    session = RevealSession(meta, timeline)
    doc = meta.listing()
    doc.update({
        "bundle": str(meta.bundle),
        "sidecar": str(meta.sidecar) if meta.sidecar else None,
        "now": session.at.isoformat() if session.at else None,
        "patient": session.demographics,
        "events": len(timeline),
        "stages": [{"stage": s.key, "title": s.title, "events": len(s),
                    "items": [u.display for u in s.units]} for s in stages],
        "objectives": list(meta.objectives),
    })
    if with_gold:
        doc["gold"] = meta.gold.to_json()
        doc["teaching_notes"] = meta.teaching_notes
    return doc
