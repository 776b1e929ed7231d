"""Build a differential from one batch of model runs: the case and the case minus each input
(occlusion: evidence weights are the model's own probability changes).

What to check next is ranked by expected information gain: the model's posterior is the
prior, and the KB's P(finding | condition) the likelihood of each unobserved finding; this
Bayesian update keeps the expected gain non-negative and needs no further model runs.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from osler.findings import Finding
from osler.knowledge import KnowledgeBase
from osler.reasoning.case import ABSENT, PRESENT, CaseInput
from osler.reasoning.differential import (
    CANT_MISS_THRESHOLD,
    MAX_PINNED,
    Diagnosis,
    Differential,
    Evidence,
    NextBest,
    PertinentNegative,
)
from osler.reasoning.engines import Engine
from osler.reasoning.kbmatrix import KBMatrix

EXPECTED = 0.25  # P(finding|dx) above which an absent finding is a pertinent negative
MIN_WEIGHT = 0.05  # evidence changing the odds by less than 5% is not shown


def logit(p: np.ndarray | float) -> np.ndarray:
    q = np.clip(p, 1e-9, 1 - 1e-9)
    return np.log(q) - np.log1p(-q)


def entropy_bits(p: np.ndarray) -> np.ndarray:
    """Shannon entropy along the last axis, in bits."""
    q = np.clip(p, 1e-12, 1.0)
    return -(q * np.log2(q)).sum(axis=-1)


def binary_entropy(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, 1e-12, 1 - 1e-12)
    return -(q * np.log2(q) + (1 - q) * np.log2(1 - q))


def build_differential(
    engine: Engine,
    kb: KnowledgeBase,
    m: KBMatrix,
    case: CaseInput,
    findings: list[Finding],
    top: int = 10,
    patient_id: str | None = None,
    at: str | None = None,
) -> Differential:
    """Run the engine once on a batch and assemble the explained differential."""
    top = max(1, top)
    by_id = {f.id: f for f in findings}
    inputs = [fid for fid, _ in case.findings if fid in m.find_index]
    runs: list[CaseInput] = [case] + [case.without(fid) for fid in inputs]
    demo = []
    if case.age is not None:
        demo.append(("age", replace(case, age=None)))
    if case.sex is not None:
        demo.append(("sex", replace(case, sex=None)))
    runs += [r for _, r in demo]
    probs = engine.predict(runs)
    base = probs[0]
    occl = probs[1 : 1 + len(inputs)]
    demo_p = probs[1 + len(inputs) :]
    known = implied(kb, case)
    gain, gain_by_dx, p_present, yes = _information_gain(m, base, case, known)

    order = [int(i) for i in np.argsort(-base)]
    shown = order[:top]
    pinned = [i for i in order[top:] if kb.condition(m.condition_ids[i]).cant_miss
              and base[i] >= CANT_MISS_THRESHOLD][:MAX_PINNED]

    global_next = _next_best_global(kb, m, base, gain, p_present, yes, shown)

    diagnoses = []
    for rank, ci in enumerate(shown + pinned, start=1):
        cond = kb.condition(m.condition_ids[ci])
        ev = []
        here = logit(base[ci])
        for k, fid in enumerate(inputs):
            w = float(here - logit(occl[k, ci]))
            f = by_id.get(fid)
            label = f.label if f else kb.finding(fid).label
            ev.append(Evidence(fid, label, case.state(fid) or PRESENT, w,
                               f.source.cite() if f else "input",
                               f.source.event_id if f else None, f.source.span if f else None,
                               float(base[ci] - occl[k, ci])))
        for k, (what, _) in enumerate(demo):
            w = float(here - logit(demo_p[k, ci]))
            label = f"age {case.age}" if what == "age" else f"sex {case.sex}"
            src = f"Patient/{patient_id}" if patient_id else "demographics"
            ev.append(Evidence(what, label, "demographic", w, src,
                               delta=float(base[ci] - demo_p[k, ci])))
        ev_for = tuple(sorted((e for e in ev if e.weight >= MIN_WEIGHT), key=lambda e: -e.weight))
        ev_against = tuple(sorted((e for e in ev if e.weight <= -MIN_WEIGHT),
                                  key=lambda e: e.weight))
        diagnoses.append(Diagnosis(
            rank=rank, condition_id=cond.id, name=cond.name, icd10=cond.icd10,
            probability=float(base[ci]), cant_miss=cond.cant_miss,
            cant_miss_rationale=cond.cant_miss_rationale, pinned=ci in pinned,
            evidence_for=ev_for, evidence_against=ev_against,
            pertinent_negatives=_pertinent_negatives(kb, m, case, by_id, ci, known),
            next_best=_next_best_for(kb, m, base, gain_by_dx[ci], p_present, yes, ci),
        ))
    return Differential(model=engine.info, case=case, findings=findings, diagnoses=diagnoses,
                        next_best=global_next, warnings=list(engine.warnings),
                        patient_id=patient_id, at=at)


def _pertinent_negatives(kb: KnowledgeBase, m: KBMatrix, case: CaseInput,
                         by_id: dict[str, Finding], ci: int, known: set[str]
                         ) -> tuple[PertinentNegative, ...]:
    out = []
    expected = np.flatnonzero(m.listed[ci] & (m.p[ci] >= EXPECTED))
    states = dict(case.findings)
    undocumented = []
    for j in expected[np.argsort(-m.p[ci, expected])]:
        fid = m.finding_ids[j]
        st = states.get(fid)
        if st is None and fid in known:
            continue  # 'chest pain' is documented when 'sharp chest pain' is
        label = kb.finding(fid).label
        if st == ABSENT:
            f = by_id.get(fid)
            out.append(PertinentNegative(fid, label, float(m.p[ci, j]), True,
                                         f.source.cite() if f else None))
        elif st is None and len(undocumented) < 3:
            undocumented.append(PertinentNegative(fid, label, float(m.p[ci, j]), False))
    return tuple(out + undocumented)


def implied(kb: KnowledgeBase, case: CaseInput) -> set[str]:
    """Broader findings a present specific one already documents (haemoptysis -> cough)."""
    out: set[str] = set()
    for fid, st in case.findings:
        if st != PRESENT or not kb.has_finding(fid):
            continue
        parent = kb.finding(fid).parent
        while parent and parent not in out and kb.has_finding(parent):
            out.add(parent)
            parent = kb.finding(parent).parent
    return out


def _information_gain(m: KBMatrix, base: np.ndarray, case: CaseInput, known: set[str]
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Expected gain (bits) of observing each finding: over the whole differential (F,) and
    for each diagnosis against the rest (C, F); also P(present) (F,) and posteriors if present.
    Findings already observed get gain -1 so they are never proposed."""
    p = m.p  # (C, F)
    joint_yes = base[:, None] * p
    p_yes = joint_yes.sum(axis=0)  # (F,)
    yes = joint_yes / np.clip(p_yes, 1e-12, None)
    no = (base[:, None] * (1 - p)) / np.clip(1 - p_yes, 1e-12, None)
    h0 = entropy_bits(base)
    gain = h0 - (p_yes * entropy_bits(yes.T) + (1 - p_yes) * entropy_bits(no.T))
    by_dx = binary_entropy(base)[:, None] - (
        p_yes[None, :] * binary_entropy(yes) + (1 - p_yes[None, :]) * binary_entropy(no))
    observed = [m.find_index[f] for f in {f for f, _ in case.findings} | known
                if f in m.find_index]
    gain[observed] = -1.0
    by_dx[:, observed] = -1.0
    return gain, by_dx, p_yes, yes


def _next_best_global(kb: KnowledgeBase, m: KBMatrix, base: np.ndarray, gain: np.ndarray,
                      p_present: np.ndarray, yes: np.ndarray, shown: list[int],
                      limit: int = 5) -> list[NextBest]:
    out = []
    for j in np.argsort(-gain)[:limit]:
        if gain[j] <= 0:
            break
        delta = yes[shown, j] - base[shown]
        raises = tuple(kb.condition(m.condition_ids[shown[i]]).name
                       for i in np.argsort(-delta)[:2] if delta[i] > 0.01)
        lowers = tuple(kb.condition(m.condition_ids[shown[i]]).name
                       for i in np.argsort(delta)[:2] if delta[i] < -0.01)
        fid = m.finding_ids[int(j)]
        out.append(NextBest(fid, kb.finding(fid).label, float(gain[j]), float(p_present[j]),
                            raises, lowers))
    return out


def _next_best_for(kb: KnowledgeBase, m: KBMatrix, base: np.ndarray, gain: np.ndarray,
                   p_present: np.ndarray, yes: np.ndarray, ci: int,
                   limit: int = 3) -> tuple[NextBest, ...]:
    name = kb.condition(m.condition_ids[ci]).name
    out = []
    for j in np.argsort(-gain)[:limit]:
        if gain[j] <= 0:
            break
        up = yes[ci, j] > base[ci]
        fid = m.finding_ids[int(j)]
        out.append(NextBest(fid, kb.finding(fid).label, float(gain[j]), float(p_present[j]),
                            (name,) if up else (), () if up else (name,)))
    return tuple(out)
