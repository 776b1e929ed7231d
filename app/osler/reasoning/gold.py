"""Match a free-text gold diagnosis to KB conditions, by name/synonym or ICD-10 category."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from osler.knowledge import KnowledgeBase

_PAREN = re.compile(r"\([^)]*\)")
_NONWORD = re.compile(r"[^a-z0-9]+")
_STOP = {"the", "a", "an", "of", "disease", "syndrome", "disorder"}


def normalise(text: str) -> str:
    t = _PAREN.sub(" ", text.lower().replace("'s", "s"))
    return " ".join(_NONWORD.sub(" ", t).split())


def _contains(hay: str, needle: str) -> bool:
    return f" {needle} " in f" {hay} "


@dataclass(frozen=True, slots=True)
class GoldTarget:
    """What counts as a hit for one gold diagnosis, and how it was matched."""

    gold: str
    condition_ids: frozenset[str]
    icd10_categories: frozenset[str]
    method: str  # 'name', 'contained-name', 'icd10-description', 'unmatched'

    def hit(self, condition_id: str, icd10: tuple[str, ...]) -> bool:
        return condition_id in self.condition_ids or any(
            c[:3].upper() in self.icd10_categories for c in icd10)


class GoldMatcher:
    """Rules (strictest first): exact name/synonym; a KB name contained in the gold as whole
    words ('community acquired pneumonia' -> 'pneumonia'); an ICD-10-CM description equal
    to the gold. Categories are the first three characters of the ICD-10 codes."""

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.names: dict[str, set[str]] = {}
        for c in kb.conditions:
            for n in (c.name, *c.synonyms):
                key = normalise(n)
                if key and key not in _STOP:
                    self.names.setdefault(key, set()).add(c.id)

    def _cats(self, ids: set[str]) -> frozenset[str]:
        return frozenset(code[:3].upper() for i in ids for code in self.kb.condition(i).icd10)

    def target(self, gold: str) -> GoldTarget:
        g = normalise(gold)
        if g in self.names:
            ids = self.names[g]
            return GoldTarget(gold, frozenset(ids), self._cats(ids), "name")
        contained = [n for n in self.names if len(n) > 3 and _contains(g, n)]
        if contained:
            longest = max(len(n) for n in contained)
            ids = set().union(*(self.names[n] for n in contained if len(n) == longest))
            return GoldTarget(gold, frozenset(ids), self._cats(ids), "contained-name")
        cats = _icd10_categories_for(g)
        if cats:
            return GoldTarget(gold, frozenset(), cats, "icd10-description")
        return GoldTarget(gold, frozenset(), frozenset(), "unmatched")


@cache
def _icd10_index() -> dict[str, frozenset[str]]:
    import simple_icd_10_cm as cm

    index: dict[str, set[str]] = {}
    for code in cm.get_all_codes(with_dots=True):
        try:
            desc = normalise(cm.get_description(code))
        except ValueError:
            continue
        index.setdefault(desc, set()).add(code.replace(".", "")[:3].upper())
    return {k: frozenset(v) for k, v in index.items()}


def _icd10_categories_for(gold_normalised: str) -> frozenset[str]:
    index = _icd10_index()
    for variant in (gold_normalised, f"{gold_normalised} unspecified"):
        if variant in index:
            return index[variant]
    return frozenset()
