import math

import numpy as np

from osler.reasoning.baseline import NaiveBayes
from osler.reasoning.case import CaseInput
from osler.reasoning.kbmatrix import LEAK, KBMatrix


def test_posterior_matches_hand_computation(kb):
    m = KBMatrix.from_kb(kb)
    nb = NaiveBayes(m)
    case = CaseInput.build(None, None, {"headache": "+", "neck-stiffness": "+", "fever": "-"})
    post = np.exp(nb.log_posterior(case))
    expected = {}
    for c in kb.conditions:
        p = c.prior
        p *= max(c.findings.get("headache", LEAK), LEAK)
        p *= max(c.findings.get("neck-stiffness", LEAK), LEAK)
        p *= 1 - max(c.findings.get("fever", LEAK), LEAK)
        expected[c.id] = p
    z = sum(expected.values())
    for cid, p in expected.items():
        assert math.isclose(post[m.cond_index[cid]], p / z, rel_tol=1e-9)
    assert post.argmax() == m.cond_index["meningitis"]


def test_unknown_findings_are_ignored(kb):
    nb = NaiveBayes(KBMatrix.from_kb(kb))
    a = nb.log_posterior(CaseInput.build(30, "male", {"cough": "+"}))
    b = nb.log_posterior(CaseInput.build(30, "male", {"cough": "+", "not-in-kb": "+"}))
    assert np.allclose(a, b)
