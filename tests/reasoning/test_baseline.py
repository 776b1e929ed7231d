import math

import numpy as np

from osler.knowledge import FindingDef
from osler.reasoning.baseline import NaiveBayes
from osler.reasoning.case import CaseInput
from osler.reasoning.kbmatrix import CEILING, LEAK, UNRELATED_SHARE, KBMatrix


def _q(kb, fid: str) -> float:
    """A finding's background rate: a share of its marginal frequency under the KB, floored."""
    marginal = sum(c.prior * c.findings.get(fid, 0.0) for c in kb.conditions)
    return max(UNRELATED_SHARE * marginal, LEAK)


def test_posterior_matches_hand_computation(kb):
    m = KBMatrix.from_kb(kb)
    nb = NaiveBayes(m)
    case = CaseInput.build(None, None, {"headache": "+", "neck-stiffness": "+", "fever": "-"})
    post = np.exp(nb.log_posterior(case))
    expected = {}
    for c in kb.conditions:
        def noisy_or(fid: str, c=c) -> float:
            return min(1 - (1 - c.findings.get(fid, 0.0)) * (1 - _q(kb, fid)), CEILING)
        p = c.prior * noisy_or("headache") * noisy_or("neck-stiffness")
        p *= 1 - noisy_or("fever")
        expected[c.id] = p
    z = sum(expected.values())
    for cid, p in expected.items():
        assert math.isclose(post[m.cond_index[cid]], p / z, rel_tol=1e-9)
    assert math.isclose(post.sum(), 1.0)
    # Neck stiffness is 100x more likely with meningitis than its background rate.
    assert post[m.cond_index["meningitis"]] > post[m.cond_index["migraine"]]


def test_an_unlisted_finding_costs_its_background_rate_not_a_leak(kb):
    """Rash is listed only by meningitis: for the others it occurs at its background rate,
    so it favours meningitis by the noisy-OR P(rash | meningitis) / q(rash)."""
    m = KBMatrix.from_kb(kb)
    j = m.find_index["rash"]
    q = _q(kb, "rash")
    assert math.isclose(m.p[m.cond_index["migraine"], j], q)
    lr = m.p[m.cond_index["meningitis"], j] / m.p[m.cond_index["migraine"], j]
    assert math.isclose(lr, (1 - (1 - 0.2) * (1 - q)) / q)


def test_background_finding_uses_its_curated_base_rate(kb):
    from dataclasses import replace

    from osler.knowledge import KnowledgeBase

    findings = [replace(f, category="risk-factor", base_rate=0.03) if f.id == "recent-surgery"
                else f for f in kb.findings]
    kb2 = KnowledgeBase(kb.name, kb.version, kb.conditions, findings)
    m = KBMatrix.from_kb(kb2)
    j = m.find_index["recent-surgery"]
    assert math.isclose(m.p[m.cond_index["asthma"], j], 0.03)
    pe = m.p[m.cond_index["pulmonary-embolism"], j]
    assert math.isclose(pe, 1 - (1 - 0.35) * (1 - 0.03))
    assert isinstance(findings[0], FindingDef)


def test_unknown_findings_are_ignored(kb):
    nb = NaiveBayes(KBMatrix.from_kb(kb))
    a = nb.log_posterior(CaseInput.build(30, "male", {"cough": "+"}))
    b = nb.log_posterior(CaseInput.build(30, "male", {"cough": "+", "not-in-kb": "+"}))
    assert np.allclose(a, b)
