"""Trainee differentials and their scores against the gold diagnosis and the model.

A trainee's entry is searched in the knowledge base by name or synonym (or ICD-10-CM code);
free text is matched the way vignette golds are (`GoldMatcher`). Scores, for one trainee at
one checkpoint of a case:

- gold rank: 1-based position of the gold diagnosis in the trainee's list (None: not listed);
  top-1/3/5: the gold at or above that rank;
- model gold rank: the same in the model's list;
- can't-miss coverage: of the can't-miss conditions the model lists at or above
  `CANT_MISS_THRESHOLD`, the share the trainee also listed (None when there are none);
- overlap: how many of the model's top-k the trainee also listed, out of k.

A diagnosis is the gold when it is the knowledge-base condition the gold names; only a gold
that names no KB condition is matched by ICD-10-CM category (first three characters), so
that 'type 2 diabetes' (E11.9) never counts for diabetic ketoacidosis (E11.10).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from osler.knowledge import KnowledgeBase
from osler.reasoning.differential import CANT_MISS_THRESHOLD, Diagnosis
from osler.reasoning.gold import GoldMatcher, GoldTarget, normalise
from osler.teaching.cases import Gold

OVERLAP_K = 5
TOP_KS = (1, 3, 5)
MAX_PICKS = 20

__all__ = ["CANT_MISS_THRESHOLD", "OVERLAP_K", "ConditionSearch", "Pick", "Score",
           "gold_target", "score"]


@dataclass(frozen=True, slots=True)
class Pick:
    """One entry of a trainee's differential: the text given and what it names in the KB."""

    text: str
    name: str  # the KB condition's name when resolved, else the text
    condition_ids: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()  # ICD-10-CM categories it stands for
    method: str = "free-text"  # 'kb', 'icd10', 'gold-matcher', 'free-text'

    @property
    def resolved(self) -> bool:
        return bool(self.condition_ids or self.categories)

    def names(self, diagnosis: Diagnosis) -> bool:
        """True when this pick is the model's diagnosis (same KB condition, or for a pick
        known only by ICD-10 category, the same category)."""
        if self.condition_ids:
            return diagnosis.condition_id in self.condition_ids
        return any(c[:3].upper() in self.categories for c in diagnosis.icd10)

    def is_gold(self, target: GoldTarget) -> bool:
        if self.condition_ids & target.condition_ids:
            return True
        return bool(target.icd10_categories and self.categories & target.icd10_categories)

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "name": self.name, "method": self.method,
                "condition_ids": sorted(self.condition_ids)}


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A search hit: the condition and the name or synonym that matched."""

    condition_id: str
    name: str
    matched: str
    cant_miss: bool


class ConditionSearch:
    """Finds KB conditions by name, synonym or ICD-10-CM code, as a trainee types."""

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.matcher = GoldMatcher(kb)
        self._labels: list[tuple[str, str, str]] = []  # normalised, shown, condition id
        for c in kb.conditions:
            for label in (c.name, *c.synonyms):
                key = normalise(label)
                if key:
                    self._labels.append((key, label, c.id))
        self._exact: dict[str, set[str]] = {}
        for key, _label, cid in self._labels:
            self._exact.setdefault(key, set()).add(cid)

    def search(self, text: str, limit: int = 15) -> list[Suggestion]:
        """Conditions whose name or synonym matches: exact, then prefix, then word, then part."""
        q = normalise(text)
        if not q:
            return []
        ranked: dict[str, tuple[int, int, str]] = {}  # tier, synonym (1) or name (0), label
        for key, label, cid in self._labels:
            if key == q:
                tier = 0
            elif key.startswith(q):
                tier = 1
            elif f" {q}" in f" {key}":
                tier = 2
            elif q in key:
                tier = 3
            else:
                continue
            rank = (tier, int(label != self.kb.condition(cid).name), label)
            if cid not in ranked or rank < ranked[cid]:
                ranked[cid] = rank
        code = text.strip().upper().replace(".", "")
        if len(code) >= 3 and code[0].isalpha() and code[1:3].isdigit():
            for c in self.kb.conditions:
                if any(x.replace(".", "").startswith(code) for x in c.icd10):
                    ranked.setdefault(c.id, (1, 0, ", ".join(c.icd10)))
        order = sorted(ranked.items(),
                       key=lambda kv: (kv[1][:2], self.kb.condition(kv[0]).name))
        return [Suggestion(cid, self.kb.condition(cid).name, rank[2],
                           self.kb.condition(cid).cant_miss)
                for cid, rank in order[:limit]]

    def resolve(self, text: str) -> Pick:
        """What a typed entry names: a KB condition, an ICD-10 category, or nothing."""
        shown = " ".join(text.split())
        q = normalise(shown)
        if q in self._exact:
            return self._pick(shown, self._exact[q], "kb")
        code = shown.upper().replace(".", "")
        if 3 <= len(code) <= 7 and code[0].isalpha() and code[1:3].isdigit():
            ids = {c.id for c in self.kb.conditions
                   if any(x.replace(".", "").startswith(code) for x in c.icd10)}
            if ids:
                return self._pick(shown, ids, "icd10")
            return Pick(shown, shown, frozenset(), frozenset({code[:3]}), "icd10")
        target = self.matcher.target(shown)
        if target.condition_ids:
            return self._pick(shown, set(target.condition_ids), "gold-matcher")
        if target.icd10_categories:
            return Pick(shown, shown, frozenset(), target.icd10_categories, "gold-matcher")
        return Pick(shown, shown)

    def _pick(self, text: str, ids: set[str], method: str) -> Pick:
        conds = sorted((self.kb.condition(i) for i in ids), key=lambda c: c.name)
        cats = frozenset(code[:3].upper() for c in conds for code in c.icd10)
        name = conds[0].name if len(conds) == 1 else text
        return Pick(text, name, frozenset(ids), cats, method)


def gold_target(kb: KnowledgeBase, gold: Gold) -> GoldTarget:
    """What counts as the gold: the KB condition it names, else its ICD-10-CM categories."""
    target = GoldMatcher(kb).target(gold.name)
    if target.condition_ids:
        return GoldTarget(gold.name, target.condition_ids, frozenset(), target.method)
    cats = set(target.icd10_categories) | {c[:3].upper() for c in gold.icd10}
    method = target.method if target.icd10_categories else ("icd10" if cats else "unmatched")
    return GoldTarget(gold.name, frozenset(), frozenset(cats), method)


def diagnosis_is_gold(d: Diagnosis, target: GoldTarget) -> bool:
    if target.condition_ids:
        return d.condition_id in target.condition_ids
    return target.hit(d.condition_id, d.icd10)


@dataclass(frozen=True, slots=True)
class Score:
    """One trainee's differential at one checkpoint, scored (see the module docstring)."""

    trainee: str
    listed: int
    gold_rank: int | None
    model_gold_rank: int | None
    cant_miss_expected: tuple[str, ...]
    cant_miss_included: tuple[str, ...]
    overlap_k: int
    overlap: tuple[str, ...]
    model_top: tuple[str, ...] = field(default=())

    def top(self, k: int) -> bool:
        """The gold at rank k or better in the trainee's list."""
        return self.gold_rank is not None and self.gold_rank <= k

    @property
    def cant_miss_missed(self) -> tuple[str, ...]:
        return tuple(n for n in self.cant_miss_expected if n not in self.cant_miss_included)

    @property
    def cant_miss_coverage(self) -> float | None:
        if not self.cant_miss_expected:
            return None
        return len(self.cant_miss_included) / len(self.cant_miss_expected)

    @property
    def overlap_fraction(self) -> float:
        return len(self.overlap) / self.overlap_k if self.overlap_k else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "trainee": self.trainee,
            "listed": self.listed,
            "gold_rank": self.gold_rank,
            **{f"top{k}": self.top(k) for k in TOP_KS},
            "model_gold_rank": self.model_gold_rank,
            "cant_miss_expected": list(self.cant_miss_expected),
            "cant_miss_included": list(self.cant_miss_included),
            "cant_miss_missed": list(self.cant_miss_missed),
            "cant_miss_coverage": self.cant_miss_coverage,
            "overlap_k": self.overlap_k,
            "overlap": list(self.overlap),
            "overlap_fraction": round(self.overlap_fraction, 4),
        }


def model_gold_rank(diagnoses: list[Diagnosis], target: GoldTarget) -> int | None:
    """1-based rank of the gold in the model's list (pinned can't-miss entries included)."""
    for i, d in enumerate(diagnoses, 1):
        if diagnosis_is_gold(d, target):
            return i
    return None


def cant_miss_shown(diagnoses: list[Diagnosis]) -> list[Diagnosis]:
    """The model's can't-miss diagnoses at or above the threshold the window always shows."""
    return [d for d in diagnoses if d.cant_miss and d.probability >= CANT_MISS_THRESHOLD]


def score(trainee: str, picks: list[Pick] | tuple[Pick, ...], diagnoses: list[Diagnosis],
          target: GoldTarget, k: int = OVERLAP_K) -> Score:
    """Score one trainee's ranked picks against the gold and the model's diagnoses."""
    gold_rank = next((i for i, p in enumerate(picks, 1) if p.is_gold(target)), None)
    expected = cant_miss_shown(diagnoses)
    included = [d.name for d in expected if any(p.names(d) for p in picks)]
    top = diagnoses[:k]
    overlap = [d.name for d in top if any(p.names(d) for p in picks)]
    return Score(trainee, len(picks), gold_rank, model_gold_rank(diagnoses, target),
                 tuple(d.name for d in expected), tuple(included), min(k, len(top)),
                 tuple(overlap), tuple(d.name for d in top))
