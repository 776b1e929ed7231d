"""Synthetic cases sampled from the knowledge base, with the noise real cases carry.

The generator (documented in docs/model.md):
1. condition c ~ q (uniform for training; the prior, tempered, for evaluation);
2. age band ~ population x age LR(c); sex ~ 50/50 x sex LR(c);
3. true findings: each finding f is present with P(f|c), the noisy-OR of the KB's figure and
   the finding's background rate (kbmatrix.py: unlisted findings occur at their background
   rate, from unrelated causes);
4. reporting: each true present finding is missed with probability `miss`; a background
   finding (history, risk factor) the condition does not list is written down with
   probability `background_reported` (notes mention the history that matters);
5. negatives: truly absent findings reported absent, as a clinician's note or a vignette
   has them: some pertinent (findings of c and of the conditions most easily confused with
   c), most from a general review of systems (findings weighted by how many conditions
   list them: fever, pain, cough…), and normal vital signs and labs when they were measured;
6. extraction errors like the findings extractor makes: a present/absent flip (missed or
   spurious negation), a finding swapped for a similarly named one, a finding hedged;
7. age or sex missing now and then;
8. a present specific finding stands for its broader one, which is then not reported
   separately (as reasoning.case.case_for does for real cases).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from osler.reasoning.case import ABSENT, POSSIBLE, PRESENT, CaseInput
from osler.reasoning.kbmatrix import BAND_NAMES, KBMatrix

BAND_RANGES = ((0, 0), (1, 4), (5, 14), (15, 29), (30, 44), (45, 59), (60, 74), (75, 95))
# Rough share of ambulatory visits by age band (US, all ages), a neutral starting point.
POPULATION_AGE = np.array([0.03, 0.06, 0.09, 0.15, 0.17, 0.2, 0.18, 0.12])


@dataclass(frozen=True, slots=True)
class NoiseModel:
    """Rates of each kind of noise; the defaults are the shipped model's training settings."""

    miss: float = 0.3
    background_reported: float = 0.3  # a history the condition does not explain is written
    negatives_mean: float = 9.0
    pertinent_share: float = 0.15
    vitals_measured: float = 0.5
    labs_measured: float = 0.25
    flip: float = 0.01
    swap: float = 0.01
    hedge: float = 0.02
    age_missing: float = 0.05
    sex_missing: float = 0.05
    max_present: int = 14

    @staticmethod
    def clean() -> NoiseModel:
        """Reporting as usual (misses, negatives, measurements) but no extraction errors."""
        return NoiseModel(flip=0.0, swap=0.0, hedge=0.0, age_missing=0.0, sex_missing=0.0)


@dataclass(frozen=True, slots=True)
class SyntheticCase:
    condition: int  # index into KBMatrix.condition_ids
    case: CaseInput


class CaseGenerator:
    """Seeded sampler of synthetic cases from a KBMatrix."""

    def __init__(self, m: KBMatrix, noise: NoiseModel | None = None, seed: int = 0,
                 confusers: int = 12):
        self.m = m
        self.noise = noise or NoiseModel()
        self.rng = np.random.default_rng(seed)
        self._confusers = self._confusable(confusers)
        self._similar = self._similar_findings()
        age_lr = np.exp(m.age_log_lr) * POPULATION_AGE
        self._age_p = age_lr / age_lr.sum(axis=1, keepdims=True)
        sex_lr = np.exp(m.sex_log_lr)
        self._female_p = sex_lr[:, 0] / sex_lr.sum(axis=1)
        cats = np.array(m.categories or ("symptom",) * len(m.finding_ids))
        self._vitals = np.flatnonzero(cats == "vital")
        self._labs = np.flatnonzero(cats == "lab")
        asked = m.listed.sum(axis=0).astype(float) * np.isin(cats, ("symptom", "sign"))
        self._ros = asked / asked.sum() if asked.sum() else None

    def _confusable(self, k: int) -> np.ndarray:
        """For each condition, the k conditions whose finding profiles are most alike."""
        p = self.m.p * self.m.listed
        norm = np.linalg.norm(p, axis=1, keepdims=True) + 1e-9
        unit = p / norm
        sim = unit @ unit.T
        np.fill_diagonal(sim, -1)
        k = min(k, max(1, len(self.m.condition_ids) - 1))
        return np.argsort(-sim, axis=1)[:, :k]

    def _similar_findings(self) -> list[np.ndarray]:
        """Findings with overlapping words in their ids (the extractor's typical confusions)."""
        words = [set(f.replace("_", "-").split("-")) - {"of", "in", "the", "and", "or"}
                 for f in self.m.finding_ids]
        index: dict[str, list[int]] = {}
        for i, ws in enumerate(words):
            for w in ws:
                index.setdefault(w, []).append(i)
        out = []
        for i, ws in enumerate(words):
            cand = {j for w in ws for j in index.get(w, []) if j != i}
            out.append(np.array(sorted(cand), dtype=np.int64))
        return out

    def conditions(self, n: int, sampling: str = "uniform", prior_exponent: float = 1.0
                   ) -> np.ndarray:
        c = len(self.m.condition_ids)
        if sampling == "uniform":
            return self.rng.integers(0, c, size=n)
        w = np.exp(self.m.log_prior * prior_exponent)
        return self.rng.choice(c, size=n, p=w / w.sum())

    def sample(self, n: int, sampling: str = "uniform", prior_exponent: float = 1.0
               ) -> list[SyntheticCase]:
        return [self.one(int(c)) for c in self.conditions(n, sampling, prior_exponent)]

    def one(self, c: int) -> SyntheticCase:
        rng, m, nz = self.rng, self.m, self.noise
        fids = m.finding_ids
        keep = np.where(m.background & ~m.listed[c], nz.background_reported, 1.0 - nz.miss)
        while True:
            truth = rng.random(len(fids)) < m.p[c]
            present = np.flatnonzero(truth)
            reported = present[rng.random(len(present)) < keep[present]]
            if len(reported):
                break
        if len(reported) > nz.max_present:
            reported = rng.choice(reported, nz.max_present, replace=False)
        items: dict[str, str] = {fids[j]: PRESENT for j in reported}
        # Measurements report the truth, normal or not, when they were taken.
        measured = []
        if len(self._vitals) and rng.random() < nz.vitals_measured:
            measured += list(self._vitals)
        if len(self._labs) and rng.random() < nz.labs_measured:
            measured += list(rng.choice(self._labs, min(6, len(self._labs)), replace=False))
        for j in measured:
            items[fids[j]] = PRESENT if truth[j] else ABSENT
        # Negatives: pertinent ones (c and its confusers), then a general review of systems.
        k = rng.poisson(nz.negatives_mean)
        k_pert = rng.binomial(k, nz.pertinent_share)
        if k_pert:
            pool = np.flatnonzero(m.listed[c] | m.listed[self._confusers[c]].any(axis=0))
            pool = pool[~truth[pool]]
            if len(pool):
                for j in rng.choice(pool, min(k_pert, len(pool)), replace=False):
                    items.setdefault(fids[j], ABSENT)
        if k - k_pert and self._ros is not None:
            w = self._ros * ~truth
            if w.sum() > 0:
                n = min(k - k_pert, int((w > 0).sum()))
                for j in rng.choice(len(w), n, replace=False, p=w / w.sum()):
                    items.setdefault(fids[j], ABSENT)
        # Extraction errors.
        for fid in list(items):
            r = rng.random()
            if r < nz.flip:
                items[fid] = ABSENT if items[fid] == PRESENT else PRESENT
            elif r < nz.flip + nz.swap:
                sim = self._similar[m.find_index[fid]]
                if len(sim):
                    state = items.pop(fid)
                    items[fids[int(rng.choice(sim))]] = state
            elif r < nz.flip + nz.swap + nz.hedge and items[fid] == PRESENT:
                items[fid] = POSSIBLE
        for fid, state in list(items.items()):
            if state == PRESENT:  # a specific finding stands for its broader ones (case_for)
                for a in m.ancestors(m.find_index[fid]):
                    if items.get(m.finding_ids[a]) in (PRESENT, POSSIBLE):
                        del items[m.finding_ids[a]]
        band = int(rng.choice(len(BAND_NAMES), p=self._age_p[c]))
        lo, hi = BAND_RANGES[band]
        age: int | None = int(rng.integers(lo, hi + 1))
        sex: str | None = "female" if rng.random() < self._female_p[c] else "male"
        if rng.random() < nz.age_missing:
            age = None
        if rng.random() < nz.sex_missing:
            sex = None
        return SyntheticCase(c, CaseInput.build(age, sex, items))
