"""Build a differential from one batch of model runs: the case, the case minus each input
(occlusion: evidence weights are the model's own probability changes), and the case with no
findings at all (how much the findings told: reasoning/adequacy.py).

What to check next is ranked by expected information gain: the model's posterior is the
prior, and the KB's P(finding | condition) the likelihood of each unobserved finding; this
Bayesian update keeps the expected gain non-negative and needs no further model runs. A
requirement of a shown diagnosis that is not documented is offered first.

'Documented' follows the KB's hierarchy and equivalence groups: a present specific finding
documents its broader one (haemoptysis documents cough), an absent broad finding documents
its specific ones as absent, and one member of a group documents the others.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from osler.findings import Finding
from osler.knowledge import KnowledgeBase
from osler.reasoning.adequacy import assess, presentation_only
from osler.reasoning.case import ABSENT, POSSIBLE, PRESENT, CaseInput
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
from osler.reasoning.prerequisites import UNDOCUMENTED_STATE, PrerequisiteRules

EXPECTED = 0.25  # P(finding|dx) above which an absent finding is a pertinent negative
MIN_WEIGHT = 0.05  # evidence changing the odds by less than 5% is not shown
MIN_GAIN = 0.01  # bits: a question worth less is not offered


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
    by_id = {f.id: f for f in findings if f.counted}
    inputs = [fid for fid, _ in case.findings if fid in m.find_index]
    runs: list[CaseInput] = [case] + [case.without(fid) for fid in inputs]
    demo = []
    if case.age is not None:
        demo.append(("age", replace(case, age=None)))
    if case.sex is not None:
        demo.append(("sex", replace(case, sex=None)))
    runs += [r for _, r in demo]
    background = {fid for fid, _ in case.findings
                  if fid in m.find_index and m.background[m.find_index[fid]]}
    runs.append(presentation_only(case, background))  # what age, sex, background alone say
    probs = engine.predict(runs)
    base = probs[0]
    occl = probs[1 : 1 + len(inputs)]
    demo_p = probs[1 + len(inputs) : -1]
    prior_only = probs[-1]
    calibration = getattr(engine, "calibration", None)
    unlisted = calibration.unlisted_share(case.coverage) if calibration is not None else 0.0
    shown_share = 1.0 - unlisted
    known = documented(m, case)
    rules = PrerequisiteRules.of(kb)

    order = [int(i) for i in np.argsort(-base)]
    shown = order[:top]
    pinned = [i for i in order[top:] if kb.condition(m.condition_ids[i]).cant_miss
              and base[i] * shown_share >= CANT_MISS_THRESHOLD][:MAX_PINNED]
    gain, gain_by_dx, p_present, yes = _information_gain(m, base, known, shown + pinned)

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
                               float(base[ci] - occl[k, ci]) * shown_share))
        for k, (what, _) in enumerate(demo):
            w = float(here - logit(demo_p[k, ci]))
            label = f"age {case.age}" if what == "age" else f"sex {case.sex}"
            src = f"Patient/{patient_id}" if patient_id else "demographics"
            ev.append(Evidence(what, label, "demographic", w, src,
                               delta=float(base[ci] - demo_p[k, ci]) * shown_share))
        ev_for = tuple(sorted((e for e in ev if e.weight >= MIN_WEIGHT), key=lambda e: -e.weight))
        ev_against = tuple(sorted((e for e in ev if e.weight <= -MIN_WEIGHT),
                                  key=lambda e: e.weight))
        requirements = tuple(rules.statuses(case, ci))
        diagnoses.append(Diagnosis(
            rank=rank, condition_id=cond.id, name=cond.name, icd10=cond.icd10,
            probability=float(base[ci]) * shown_share, cant_miss=cond.cant_miss,
            cant_miss_rationale=cond.cant_miss_rationale, pinned=ci in pinned,
            evidence_for=ev_for, evidence_against=ev_against,
            pertinent_negatives=_pertinent_negatives(kb, m, ci, known, by_id),
            next_best=(_required_checks(kb, m, cond.name, requirements, known, p_present)
                       + _next_best_for(kb, m, base, gain_by_dx[ci], p_present, yes, ci)),
            requirements=requirements,
        ))
    global_next = _next_best_global(kb, m, base, gain, p_present, yes, shown)
    global_next = _with_required(diagnoses[:3], global_next)
    adequacy = assess(case, base, prior_only, background)
    return Differential(model=engine.info, case=case, findings=findings, diagnoses=diagnoses,
                        next_best=global_next, warnings=list(engine.warnings),
                        patient_id=patient_id, at=at, unlisted=unlisted, adequacy=adequacy)


def documented(m: KBMatrix, case: CaseInput) -> dict[int, str]:
    """Finding index -> state, for the case's findings and what they imply: a present finding
    documents its broader ones as present, an absent one its specific ones as absent, and
    either its equivalence-group mates."""
    out: dict[int, str] = {}
    for fid, st in case.findings:
        j = m.find_index.get(fid)
        if j is None:
            continue
        out[j] = st
    for j, st in list(out.items()):
        implied: list[int] = list(m.mates(j))
        if st == PRESENT:
            implied += m.ancestors(j)
            for a in m.ancestors(j):
                implied += m.mates(a)
        elif st == ABSENT:
            implied += m.descendants(j)
        for k in implied:
            out.setdefault(k, POSSIBLE if st == POSSIBLE else st)
    return out


def _pertinent_negatives(kb: KnowledgeBase, m: KBMatrix, ci: int, known: dict[int, str],
                         by_id: dict[str, Finding]) -> tuple[PertinentNegative, ...]:
    out = []
    expected = np.flatnonzero(m.listed[ci] & (m.raw[ci] >= EXPECTED))
    undocumented = []
    for j in expected[np.argsort(-m.raw[ci, expected])]:
        fid = m.finding_ids[j]
        st = known.get(int(j))
        label = kb.finding(fid).label
        if st == ABSENT:
            f = by_id.get(fid)
            out.append(PertinentNegative(fid, label, float(m.raw[ci, j]), True,
                                         f.source.cite() if f else None))
        elif st is None and len(undocumented) < 3:
            undocumented.append(PertinentNegative(fid, label, float(m.raw[ci, j]), False))
    return tuple(out + undocumented)


def _required_checks(kb: KnowledgeBase, m: KBMatrix, name: str, requirements: tuple,
                     known: dict[int, str], p_present: np.ndarray) -> tuple[NextBest, ...]:
    """Undocumented requirements of a diagnosis, as things to check first."""
    out = []
    for r in requirements:
        if r.kind != "requires" or r.state != UNDOCUMENTED_STATE:
            continue
        for item in r.entry.any_of:
            j = m.find_index.get(item.ref) if item.kind == "finding" else None
            if j is None or j in known:
                continue
            out.append(NextBest(item.ref, kb.finding(item.ref).label, 0.0,
                                float(p_present[j]), (name,), (), reason="required"))
            break
    return tuple(out)


def _with_required(diagnoses: list[Diagnosis], items: list[NextBest]) -> list[NextBest]:
    """The global list with the undocumented requirements of the leading diagnoses first."""
    first: list[NextBest] = []
    for d in diagnoses:
        for n in d.next_best:
            if n.reason == "required" and all(x.finding_id != n.finding_id for x in first):
                first.append(n)
    return first + [n for n in items if all(x.finding_id != n.finding_id for x in first)]


def _information_gain(m: KBMatrix, base: np.ndarray, known: dict[int, str], rows: list[int]
                      ) -> tuple[np.ndarray, dict[int, np.ndarray], np.ndarray, np.ndarray]:
    """Expected gain (bits) of observing each finding: over the whole differential (F,) and
    for each diagnosis in `rows` against the rest; also P(present) (F,) and the posteriors
    if present (C, F). Findings already documented (or implied) get gain -1 so they are
    never proposed. Conditions below 1e-7 are left out of the sums (they change no figure
    shown at two decimals) so that the cost stays small as the KB grows."""
    live = np.flatnonzero(base > 1e-7)
    b = base[live] / base[live].sum()
    p = m.p[live]  # (L, F)
    joint_yes = b[:, None] * p
    p_yes = joint_yes.sum(axis=0)  # (F,)
    yes_live = joint_yes / np.clip(p_yes, 1e-12, None)
    no_live = (b[:, None] * (1 - p)) / np.clip(1 - p_yes, 1e-12, None)
    gain = entropy_bits(b) - (p_yes * entropy_bits(yes_live.T)
                              + (1 - p_yes) * entropy_bits(no_live.T))
    yes = np.zeros((len(base), p.shape[1]))
    yes[live] = yes_live
    observed = list(known)
    gain[observed] = -1.0
    where = {int(c): i for i, c in enumerate(live)}
    by_dx: dict[int, np.ndarray] = {}
    for ci in rows:
        i = where.get(ci)
        if i is None:
            by_dx[ci] = np.full(p.shape[1], -1.0)
            continue
        g = binary_entropy(np.array(b[i])) - (p_yes * binary_entropy(yes_live[i])
                                               + (1 - p_yes) * binary_entropy(no_live[i]))
        g[observed] = -1.0
        by_dx[ci] = g
    return gain, by_dx, p_yes, yes


def _next_best_global(kb: KnowledgeBase, m: KBMatrix, base: np.ndarray, gain: np.ndarray,
                      p_present: np.ndarray, yes: np.ndarray, shown: list[int],
                      limit: int = 5) -> list[NextBest]:
    out = []
    for j in np.argsort(-gain)[:limit]:
        if gain[j] < MIN_GAIN:
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
        if gain[j] < MIN_GAIN:
            break
        up = yes[ci, j] > base[ci]
        fid = m.finding_ids[int(j)]
        out.append(NextBest(fid, kb.finding(fid).label, float(gain[j]), float(p_present[j]),
                            (name,) if up else (), () if up else (name,)))
    return tuple(out)
