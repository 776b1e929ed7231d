"""The knowledge base as dense arrays: P(finding|condition), priors, age/sex likelihood ratios."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from osler.knowledge import KnowledgeBase
from osler.knowledge.model import AGE_BANDS, age_band

LEAK = 0.005  # P(finding | condition) for findings a condition does not list
CEILING = 0.995  # no finding is certain given a condition
BAND_NAMES = tuple(b[0] for b in AGE_BANDS)


@dataclass(slots=True)
class KBMatrix:
    """Dense view of a KnowledgeBase used by the baseline, the generator and next-best search."""

    condition_ids: list[str]
    finding_ids: list[str]
    p: np.ndarray  # (C, F) P(finding present | condition), leak-filled, clipped
    listed: np.ndarray  # (C, F) bool: the KB lists the finding for the condition
    log_prior: np.ndarray  # (C,)
    age_log_lr: np.ndarray  # (C, bands)
    sex_log_lr: np.ndarray  # (C, 2) female, male
    cond_index: dict[str, int]
    find_index: dict[str, int]
    categories: tuple[str, ...] = ()  # FindingDef.category per finding

    @staticmethod
    def from_kb(kb: KnowledgeBase) -> KBMatrix:
        conds = [c.id for c in kb.conditions]
        finds = [f.id for f in kb.findings]
        fi = {f: i for i, f in enumerate(finds)}
        p = np.full((len(conds), len(finds)), LEAK, dtype=np.float64)
        listed = np.zeros_like(p, dtype=bool)
        age = np.zeros((len(conds), len(BAND_NAMES)))
        sex = np.zeros((len(conds), 2))
        prior = np.array([max(c.prior, 1e-9) for c in kb.conditions], dtype=np.float64)
        for ci, c in enumerate(kb.conditions):
            for fid, prob in c.findings.items():
                j = fi.get(fid)
                if j is not None:
                    p[ci, j] = min(max(prob, LEAK), CEILING)
                    listed[ci, j] = True
            for bi, band in enumerate(BAND_NAMES):
                lr = c.age_lr.get(band)
                if lr is not None:
                    age[ci, bi] = np.log(max(lr, 0.01))
            for si, s in enumerate(("female", "male")):
                lr = c.sex_lr.get(s)
                if lr is not None:
                    sex[ci, si] = np.log(max(lr, 0.01))
        return KBMatrix(conds, finds, p, listed, np.log(prior / prior.sum()), age, sex,
                        {c: i for i, c in enumerate(conds)}, fi,
                        tuple(f.category for f in kb.findings))

    def demographic_log_lr(self, age: int | None, sex: str | None) -> np.ndarray:
        """Per-condition log likelihood ratio of the patient's age band and sex."""
        out = np.zeros(len(self.condition_ids))
        band = age_band(age)
        if band is not None:
            out += self.age_log_lr[:, BAND_NAMES.index(band)]
        if sex in ("female", "male"):
            out += self.sex_log_lr[:, 0 if sex == "female" else 1]
        return out
