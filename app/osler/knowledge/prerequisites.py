"""Prerequisites and exclusions of conditions: how a pack writes them, and their validation.

A condition may require a background (acute chest syndrome requires sickle cell disease;
ectopic pregnancy requires pregnancy or its usual evidence) and may be excluded by one (a
prior appendicectomy excludes appendicitis). Each entry lists alternatives, any one of which
satisfies it, and cites the clinical basis. Items are written as:

- ``history-diabetes``: a finding id (present satisfies; documented absent counts against);
- ``condition:cirrhosis``: a knowledge-base condition recorded in the patient's problem list;
- ``sex:female`` / ``sex:male``;
- ``age<1`` / ``age>=50``: an age bound in years (fractions allowed: ``age<0.08``).

The reasoning applies them (osler.reasoning.prerequisites); this module only parses.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from osler.knowledge.model import KnowledgeError, Prerequisite, PrerequisiteItem

_AGE = re.compile(r"^age(<|>=)(\d+(?:\.\d+)?)$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def parse_item(text: Any) -> PrerequisiteItem:
    """One item as written in a pack; ValueError says what is wrong with it."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{text!r} is not a prerequisite item")
    t = text.strip()
    m = _AGE.match(t)
    if m:
        years = float(m.group(2))
        if not 0 <= years <= 130:
            raise ValueError(f"{t!r}: age {years:g} is not an age in years")
        return PrerequisiteItem("age", m.group(1), years)
    if t.startswith("sex:"):
        sex = t[4:]
        if sex not in ("female", "male"):
            raise ValueError(f"{t!r}: sex must be female or male")
        return PrerequisiteItem("sex", sex)
    if t.startswith("condition:"):
        cid = t[len("condition:"):]
        if not _SLUG.match(cid):
            raise ValueError(f"{t!r}: not a condition id")
        return PrerequisiteItem("condition", cid)
    if t.startswith("age"):
        raise ValueError(f"{t!r}: write an age bound as 'age<N' or 'age>=N' (years)")
    if not _SLUG.match(t):
        raise ValueError(f"{t!r}: not a finding id, 'condition:ID', 'sex:S' or an age bound")
    return PrerequisiteItem("finding", t)


def parse_entries(raw: Any, *, fname: str, entry: str, field: str,
                  finding_known: Callable[[str], bool],
                  condition_known: Callable[[str], bool]) -> tuple[Prerequisite, ...]:
    """A `requires` or `excludes` list; every problem is a KnowledgeError naming the file,
    the condition and the field (requires[0].any_of[1])."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise KnowledgeError("must be a list", file=fname, entry=entry, field=field)
    out = []
    for i, e in enumerate(raw):
        where = f"{field}[{i}]"
        if not isinstance(e, dict):
            raise KnowledgeError("must be an object with any_of and basis", file=fname,
                                 entry=entry, field=where)
        extra = set(e) - {"any_of", "basis", "note"}
        if extra:
            raise KnowledgeError(f"unknown key {sorted(extra)[0]!r} (any_of, basis, note)",
                                 file=fname, entry=entry, field=where)
        items_raw = e.get("any_of")
        if not isinstance(items_raw, list) or not items_raw:
            raise KnowledgeError("any_of must be a non-empty list", file=fname, entry=entry,
                                 field=f"{where}.any_of")
        basis = e.get("basis")
        if not isinstance(basis, str) or not basis.strip():
            raise KnowledgeError("every prerequisite needs its clinical basis (a citation)",
                                 file=fname, entry=entry, field=f"{where}.basis")
        items = []
        for j, t in enumerate(items_raw):
            at = f"{where}.any_of[{j}]"
            try:
                item = parse_item(t)
            except ValueError as exc:
                raise KnowledgeError(str(exc), file=fname, entry=entry, field=at) from exc
            if item.kind == "finding" and not finding_known(item.ref):
                raise KnowledgeError(f"unknown finding {item.ref!r}", file=fname, entry=entry,
                                     field=at)
            if item.kind == "condition" and not condition_known(item.ref):
                raise KnowledgeError(f"unknown condition {item.ref!r}", file=fname,
                                     entry=entry, field=at)
            items.append(item)
        note = e.get("note", "")
        if not isinstance(note, str):
            raise KnowledgeError("must be text", file=fname, entry=entry, field=f"{where}.note")
        out.append(Prerequisite(tuple(items), basis.strip(), note))
    return tuple(out)


def entries_json(entries: tuple[Prerequisite, ...]) -> list[dict[str, Any]]:
    """The entries as a pack writes them (for the build and for explanations)."""
    out = []
    for e in entries:
        doc: dict[str, Any] = {"any_of": [i.text() for i in e.any_of], "basis": e.basis}
        if e.note:
            doc["note"] = e.note
        out.append(doc)
    return out
