"""The exact knowledge-base posterior (naive Bayes over the same KB): the model's baseline.

Also a usable engine when a clinic installs its own KB pack that the shipped model
was not trained on.
"""

from __future__ import annotations

import numpy as np

from osler.reasoning.case import ABSENT, POSSIBLE, PRESENT, CaseInput
from osler.reasoning.kbmatrix import KBMatrix

POSSIBLE_WEIGHT = 0.5  # a hedged finding counts half, in log space


class NaiveBayes:
    """P(condition | findings, age, sex) assuming findings independent given the condition."""

    def __init__(self, m: KBMatrix, prior_exponent: float = 1.0):
        self.m = m
        self.prior_exponent = prior_exponent
        self.log_p = np.log(m.p)
        self.log_q = np.log1p(-m.p)

    def log_posterior(self, case: CaseInput) -> np.ndarray:
        m = self.m
        score = self.prior_exponent * m.log_prior + m.demographic_log_lr(case.age, case.sex)
        for fid, state in case.findings:
            j = m.find_index.get(fid)
            if j is None:
                continue
            if state == PRESENT:
                score = score + self.log_p[:, j]
            elif state == ABSENT:
                score = score + self.log_q[:, j]
            elif state == POSSIBLE:
                score = score + POSSIBLE_WEIGHT * self.log_p[:, j]
        return score - np.logaddexp.reduce(score)

    def predict(self, cases: list[CaseInput]) -> np.ndarray:
        """(N, C) posterior probabilities."""
        return np.exp(np.stack([self.log_posterior(c) for c in cases]))
