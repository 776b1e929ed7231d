import numpy as np

from osler.reasoning.case import ABSENT, PRESENT
from osler.reasoning.kbmatrix import KBMatrix
from osler.reasoning.synthetic import CaseGenerator, NoiseModel


def test_seeded_and_reproducible(kb):
    m = KBMatrix.from_kb(kb)
    a = [s.case for s in CaseGenerator(m, seed=5).sample(50)]
    b = [s.case for s in CaseGenerator(m, seed=5).sample(50)]
    c = [s.case for s in CaseGenerator(m, seed=6).sample(50)]
    assert a == b and a != c


def test_clean_cases_follow_the_kb(kb):
    m = KBMatrix.from_kb(kb)
    gen = CaseGenerator(m, NoiseModel(miss=0.0, negatives_mean=0.0, flip=0, swap=0, hedge=0,
                                      age_missing=0, sex_missing=0, max_present=50), seed=1)
    pe = m.cond_index["pulmonary-embolism"]
    cases = [gen.one(pe).case for _ in range(2000)]
    rate = np.mean([c.state("shortness-of-breath") == PRESENT for c in cases])
    assert abs(rate - 0.85) < 0.04
    rash = np.mean([c.state("rash") == PRESENT for c in cases])
    assert rash < 0.02  # only the leak rate


def test_negatives_are_truly_absent_and_noise_flips(kb):
    m = KBMatrix.from_kb(kb)
    gen = CaseGenerator(m, NoiseModel(flip=0.0, swap=0.0, hedge=0.0, negatives_mean=3), seed=2)
    cases = gen.sample(500)
    assert any(st == ABSENT for s in cases for _, st in s.case.findings)
    assert all(any(st == PRESENT for _, st in s.case.findings) for s in cases)
    noisy = CaseGenerator(m, NoiseModel(flip=0.5, negatives_mean=0), seed=3).sample(300)
    # with heavy flipping, some cases report a finding of their condition as absent
    assert any(st == ABSENT for s in noisy for _, st in s.case.findings)
