"""The knowledge base as dense arrays: P(finding|condition), priors, age/sex likelihood ratios.

P(finding | condition) is a noisy-OR of two causes: the condition itself (the KB's figure,
0 when the condition does not list the finding) and everything else, the finding's
background rate q. So a finding a condition does not list is not 'impossible but for a
0.5 % leak': it occurs at the rate it occurs among patients in general. That is what
makes a smoker with pneumonia, or fatigue in a urinary infection, cost the condition
little instead of everything (docs/model.md, "The evidence model").

q of a background finding (history, risk factor) is its curated base rate (how common it
is among patients seen, `FindingDef.base_rate`); q of any other finding is UNRELATED_SHARE
of its marginal frequency under the KB (sum over conditions of prior x P(finding | c)).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from osler.knowledge import KnowledgeBase
from osler.knowledge.model import AGE_BANDS, age_band

LEAK = 0.001  # floor of a finding's background rate
# A finding's background rate is this share of its marginal frequency under the KB: the part
# of 'how common is cough among patients' that is not caused by the condition at hand. 0.5
# makes synthetic cases carry as many findings their condition does not list (about 2.5 per
# case, with background_reported below) as the development vignettes' dev halves do
# (docs/model.md, "The evidence model").
UNRELATED_SHARE = 0.5
CEILING = 0.995  # no finding is certain given a condition
BACKGROUND_CATEGORIES = ("history", "risk-factor")
BAND_NAMES = tuple(b[0] for b in AGE_BANDS)


@dataclass(slots=True)
class KBMatrix:
    """Dense view of a KnowledgeBase used by the posterior, the generator and next-best
    search."""

    condition_ids: list[str]
    finding_ids: list[str]
    p: np.ndarray  # (C, F) P(finding present | condition): noisy-OR of listed and background
    listed: np.ndarray  # (C, F) bool: the KB lists the finding for the condition
    log_prior: np.ndarray  # (C,)
    age_log_lr: np.ndarray  # (C, bands)
    sex_log_lr: np.ndarray  # (C, 2) female, male
    cond_index: dict[str, int]
    find_index: dict[str, int]
    categories: tuple[str, ...] = ()  # FindingDef.category per finding
    q: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (F,) background rate
    raw: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (C, F) KB figure or 0
    parent: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # (F,) -1
    background: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # (F,)
    group: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # (F,) -1

    @staticmethod
    def from_kb(kb: KnowledgeBase) -> KBMatrix:
        return kb.derived("reasoning.kbmatrix", KBMatrix._build)

    @staticmethod
    def _build(kb: KnowledgeBase) -> KBMatrix:
        conds = [c.id for c in kb.conditions]
        finds = [f.id for f in kb.findings]
        fi = {f: i for i, f in enumerate(finds)}
        raw = np.zeros((len(conds), len(finds)), dtype=np.float64)
        listed = np.zeros_like(raw, dtype=bool)
        age = np.zeros((len(conds), len(BAND_NAMES)))
        sex = np.zeros((len(conds), 2))
        prior = np.array([max(c.prior, 1e-9) for c in kb.conditions], dtype=np.float64)
        for ci, c in enumerate(kb.conditions):
            for fid, prob in c.findings.items():
                j = fi.get(fid)
                if j is not None:
                    raw[ci, j] = min(max(prob, 0.0), CEILING)
                    listed[ci, j] = True
            for bi, band in enumerate(BAND_NAMES):
                lr = c.age_lr.get(band)
                if lr is not None:
                    age[ci, bi] = np.log(max(lr, 0.01))
            for si, s in enumerate(("female", "male")):
                lr = c.sex_lr.get(s)
                if lr is not None:
                    sex[ci, si] = np.log(max(lr, 0.01))
        prior = prior / prior.sum()
        background = np.array([f.category in BACKGROUND_CATEGORIES for f in kb.findings],
                              dtype=bool)
        q = np.clip(UNRELATED_SHARE * (prior @ raw), LEAK, 0.5)
        for j, f in enumerate(kb.findings):
            if f.base_rate is not None:
                q[j] = f.base_rate
        p = np.clip(1.0 - (1.0 - raw) * (1.0 - q[None, :]), LEAK, CEILING)
        parent = np.array([fi.get(f.parent, -1) if f.parent else -1 for f in kb.findings],
                          dtype=np.int64)
        groups: dict[str, int] = {}
        group = np.array([groups.setdefault(f.group, len(groups)) if f.group else -1
                          for f in kb.findings], dtype=np.int64)
        return KBMatrix(conds, finds, p, listed, np.log(prior), age, sex,
                        {c: i for i, c in enumerate(conds)}, fi,
                        tuple(f.category for f in kb.findings), q, raw, parent, background,
                        group)

    def demographic_log_lr(self, age: int | None, sex: str | None) -> np.ndarray:
        """Per-condition log likelihood ratio of the patient's age band and sex."""
        out = np.zeros(len(self.condition_ids))
        band = age_band(age)
        if band is not None:
            out += self.age_log_lr[:, BAND_NAMES.index(band)]
        if sex in ("female", "male"):
            out += self.sex_log_lr[:, 0 if sex == "female" else 1]
        return out

    def mates(self, j: int) -> list[int]:
        """Other findings of j's equivalence group (same complaint, other words)."""
        g = int(self.group[j]) if len(self.group) else -1
        if g < 0:
            return []
        return [int(k) for k in np.flatnonzero(self.group == g) if k != j]

    def descendants(self, j: int) -> list[int]:
        """Specific findings that imply finding j (cough <- haemoptysis)."""
        out, frontier = [], [j]
        while frontier:
            k = frontier.pop()
            kids = [int(x) for x in np.flatnonzero(self.parent == k) if x not in out]
            out += kids
            frontier += kids
        return out

    def ancestors(self, j: int) -> list[int]:
        """Indices of the broader findings finding j implies (haemoptysis -> cough)."""
        out = []
        k = int(self.parent[j])
        while k >= 0 and k not in out:
            out.append(k)
            k = int(self.parent[k])
        return out
