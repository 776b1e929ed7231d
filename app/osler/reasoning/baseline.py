"""The knowledge base's own posterior: naive Bayes over the KB's evidence model, the shipped
model's baseline, and the engine used when a clinic's KB pack differs from the one the
model was trained on.

score(c) = e * log prior(c) + demographic log LR(c) + sum over findings of log P(state | c)
           + prerequisite log weights(c)
with P(finding | c) the noisy-OR of the KB's figure and the finding's background rate
(kbmatrix.py), so an unexplained finding costs what it is worth, and prerequisites
(prerequisites.py) making a condition without its background very unlikely.
"""

from __future__ import annotations

import numpy as np

from osler.reasoning.case import ABSENT, POSSIBLE, PRESENT, CaseInput
from osler.reasoning.kbmatrix import KBMatrix

POSSIBLE_WEIGHT = 0.5  # a hedged finding counts half, in log space


class NaiveBayes:
    """log P(condition | findings, age, sex) assuming findings independent given the
    condition. `rules` (PrerequisiteRules) adds the prerequisite weights."""

    def __init__(self, m: KBMatrix, prior_exponent: float = 1.0, rules: object | None = None):
        self.m = m
        self.prior_exponent = prior_exponent
        self.log_p = np.log(m.p)
        self.log_q = np.log1p(-m.p)
        self.rules = rules

    def log_likelihood(self, case: CaseInput) -> np.ndarray:
        """Sum over the case's findings of log P(state | condition), per condition.

        Findings of one equivalence group with the same state are one complaint said twice:
        present ones count once, by the member the condition explains best; absent ones
        once, by the member the condition makes most likely (its strongest denial)."""
        score = np.zeros(len(self.m.condition_ids))
        grouped: dict[tuple[int, str], list[int]] = {}
        group = self.m.group
        for fid, state in case.findings:
            j = self.m.find_index.get(fid)
            if j is None:
                continue
            g = int(group[j]) if len(group) else -1
            if g >= 0:
                grouped.setdefault((g, state), []).append(j)
                continue
            score += self._term(state, j)
        for (_, state), js in grouped.items():
            if len(js) == 1:
                score += self._term(state, js[0])
            elif state == ABSENT:
                score += np.min(self.log_q[:, js], axis=1)
            else:
                w = 1.0 if state == PRESENT else POSSIBLE_WEIGHT
                score += w * np.max(self.log_p[:, js], axis=1)
        return score

    def _term(self, state: str, j: int) -> np.ndarray:
        if state == PRESENT:
            return self.log_p[:, j]
        if state == ABSENT:
            return self.log_q[:, j]
        if state == POSSIBLE:
            return POSSIBLE_WEIGHT * self.log_p[:, j]
        return np.zeros(len(self.m.condition_ids))

    def log_prior(self, case: CaseInput) -> np.ndarray:
        """Tempered prior, demographics and prerequisite weights: what does not come from
        the findings' likelihoods."""
        m = self.m
        out = self.prior_exponent * m.log_prior + m.demographic_log_lr(case.age, case.sex)
        if self.rules is not None:
            out = out + self.rules.log_factors(case)  # type: ignore[attr-defined]
        return out

    def log_posterior(self, case: CaseInput) -> np.ndarray:
        score = self.log_prior(case) + self.log_likelihood(case)
        return score - np.logaddexp.reduce(score)

    def predict(self, cases: list[CaseInput]) -> np.ndarray:
        """(N, C) posterior probabilities."""
        return np.exp(np.stack([self.log_posterior(c) for c in cases]))
