"""ICD-10-CM codes for rare diseases, matched by name, shipped as resources/rare/icd10cm.json.

Neither HPO nor hpo3 carries ICD-10 codes. The shipped table pairs a disease with an
ICD-10-CM code when the disease's name, lower-cased with punctuation and parenthesised
parts removed, equals the code's description or one of its inclusion terms; failing that,
when the name without a trailing type or number ('Gaucher disease type 1' -> 'Gaucher
disease') does. Billable codes only. Anything else has no code (most rare diseases: ICD-10
has no code for them). Regenerate after an hpo3 upgrade:

    .venv/bin/python -m osler.rare.codes
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from osler.locations import resources_dir

_PAREN = re.compile(r"\([^)]*\)")
_NONWORD = re.compile(r"[^a-z0-9]+")
_TYPE = re.compile(r"(,? (type|group|class|form)? ?([0-9]+[a-z]?|[ivx]+|[a-z]))$")


def table_path() -> Path:
    return resources_dir() / "rare" / "icd10cm.json"


def _norm(name: str) -> str:
    t = _PAREN.sub(" ", name.lower().replace("\u2019", "'"))
    t = re.sub(r"'s\b", "", t)
    return " ".join(_NONWORD.sub(" ", t).split())


def _untyped(name: str) -> str:
    return _TYPE.sub("", name).strip()


def build_table(onto) -> dict[str, object]:
    """{'version': HPO release, 'codes': {'ORPHA:355': ['E75.22'], ...}, 'counts': ...}."""
    import simple_icd_10_cm as icd

    names: dict[str, str] = {}
    for code in icd.get_all_codes(False):
        if not icd.is_leaf(code) or "-" in code:
            continue
        dotted = icd.add_dot(code)
        for text in [icd.get_description(code), *icd.get_inclusion_term(code)]:
            names.setdefault(_norm(text), dotted)
    codes: dict[str, list[str]] = {}
    exact = typed = 0
    for d in onto.diseases:
        key = _norm(d.name)
        code = names.get(key)
        if code is not None:
            exact += 1
        else:
            code = names.get(_untyped(key)) if _untyped(key) != key else None
            typed += code is not None
        if code is None:
            continue
        for c in d.codes():
            codes[c] = [code]
    total = len(onto.diseases)
    return {"hpo_version": onto.version,
            "method": "exact name or inclusion term; else the name without its type number",
            "counts": {"diseases": total, "exact_name": exact, "name_without_type": typed,
                       "none": total - exact - typed},
            "codes": dict(sorted(codes.items()))}


@cache
def load_table(hpo_version: str) -> dict[str, list[str]]:
    """The shipped table for this HPO release ({} when absent or for another release)."""
    try:
        doc = json.loads(table_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if doc.get("hpo_version") != hpo_version:
        return {}
    return {k: list(v) for k, v in doc.get("codes", {}).items()}


def main() -> None:
    from osler.rare.ontology import load_ontology

    doc = build_table(load_ontology())
    path = table_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{path}: {doc['counts']}")


if __name__ == "__main__":
    main()
