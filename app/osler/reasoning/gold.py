"""Match a free-text gold diagnosis to KB conditions, by name/synonym or ICD-10 category."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from osler.knowledge import KnowledgeBase

_PAREN = re.compile(r"\([^)]*\)")
_NONWORD = re.compile(r"[^a-z0-9]+")
_STOP = {"the", "a", "an", "of", "disease", "syndrome", "disorder"}


SEMANTIC_THRESHOLD = 0.80  # cosine similarity of MiniLM embeddings, gold vs KB name
SEMANTIC_MARGIN = 0.05  # over the best-matching *other* condition


def normalise(text: str) -> str:
    """Lower case, no parentheses, no possessives ("Crohn's" = "Crohn"), words only."""
    t = _PAREN.sub(" ", text.lower().replace("\u2019", "'"))
    t = re.sub(r"'s\b", "", t)
    return " ".join(_NONWORD.sub(" ", t).split())


def _squash(name: str) -> str:
    """Spacing-insensitive key: 'post traumatic' and 'posttraumatic' agree."""
    return name.replace(" ", "")


def _contains(hay: str, needle: str) -> bool:
    return f" {needle} " in f" {hay} "


@dataclass(frozen=True, slots=True)
class GoldTarget:
    """What counts as a hit for one gold diagnosis, and how it was matched."""

    gold: str
    condition_ids: frozenset[str]
    icd10_categories: frozenset[str]
    method: str  # 'name', 'contained-name', 'icd10-description', 'semantic', 'unmatched'
    matched: str = ""  # the KB name or ICD-10 description that matched

    def hit(self, condition_id: str, icd10: tuple[str, ...]) -> bool:
        return condition_id in self.condition_ids or any(
            c[:3].upper() in self.icd10_categories for c in icd10)


class GoldMatcher:
    """Rules (strictest first): exact name/synonym (spacing-insensitive); a KB name contained
    in the gold as whole words ('community acquired pneumonia' -> 'pneumonia'); an
    ICD-10-CM description equal to the gold; then, optionally, the KB name most similar in
    meaning (MiniLM cosine >= 0.80 and 0.05 clear of any other condition: 'renal cell
    carcinoma' -> 'kidney cancer'). Categories are the first three characters of the ICD-10
    codes. Every target records its method and what it matched, so reports can be checked."""

    def __init__(self, kb: KnowledgeBase, semantic: bool = True):
        self.kb = kb
        self.semantic = semantic
        self.names: dict[str, set[str]] = {}
        self.squashed: dict[str, set[str]] = {}
        for c in kb.conditions:
            for n in (c.name, *c.synonyms):
                key = normalise(n)
                if key and key not in _STOP:
                    self.names.setdefault(key, set()).add(c.id)
                    self.squashed.setdefault(_squash(key), set()).add(c.id)
        self._emb = None

    def _cats(self, ids: set[str]) -> frozenset[str]:
        return frozenset(code[:3].upper() for i in ids for code in self.kb.condition(i).icd10)

    def target(self, gold: str) -> GoldTarget:
        g = normalise(gold)
        ids = self.names.get(g) or self.squashed.get(_squash(g))
        if ids:
            return GoldTarget(gold, frozenset(ids), self._cats(ids), "name", g)
        contained = [n for n in self.names if len(n) > 3 and _contains(g, n)]
        if contained:
            longest = max(len(n) for n in contained)
            ids = set().union(*(self.names[n] for n in contained if len(n) == longest))
            return GoldTarget(gold, frozenset(ids), self._cats(ids), "contained-name",
                              max(contained, key=len))
        cats = _icd10_categories_for(g)
        if cats:
            return GoldTarget(gold, frozenset(), cats, "icd10-description", g)
        if self.semantic:
            hit = self._nearest(gold)
            if hit is not None:
                cid, name = hit
                return GoldTarget(gold, frozenset({cid}), self._cats({cid}), "semantic", name)
        return GoldTarget(gold, frozenset(), frozenset(), "unmatched")

    def _nearest(self, gold: str) -> tuple[str, str] | None:
        import numpy as np

        try:
            from osler.findings.minilm import shared_encoder

            enc = shared_encoder()
        except Exception:  # the sentence model is optional here
            return None
        if self._emb is None:
            pairs = [(c.id, n) for c in self.kb.conditions for n in (c.name, *c.synonyms)]
            vecs = enc.encode([n for _, n in pairs])
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            self._emb = (pairs, vecs)
        pairs, vecs = self._emb
        q = enc.encode([gold])[0]
        sims = vecs @ (q / np.linalg.norm(q))
        order = np.argsort(-sims)
        best = int(order[0])
        cid = pairs[best][0]
        runner = next((float(sims[i]) for i in order[1:] if pairs[i][0] != cid), 0.0)
        if sims[best] >= SEMANTIC_THRESHOLD and sims[best] - runner >= SEMANTIC_MARGIN:
            return cid, pairs[best][1]
        return None


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
