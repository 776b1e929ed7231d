"""What every language-model engine does the same way, whether the model runs in this
process or on a clinic server: the candidate set (the base engine's top list, can't-miss
conditions, the model's own proposals), the prompt (llm/prompt.py), probabilities from the
log-likelihood of each candidate as the answer, and the cited rationale (llm/rationale.py).

Probabilities: the candidate set keeps the base engine's total mass and the LLM divides it
among the candidates; conditions outside the set keep their base probabilities. Evidence
weights come from re-scoring with each finding left out (build_differential's occlusion),
never from generated prose. Subclasses supply only how to score and how to generate.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np

from osler.findings import Finding, Provenance
from osler.knowledge import KnowledgeBase
from osler.reasoning.case import ABSENT, POSSIBLE, CaseInput
from osler.reasoning.engines import Engine
from osler.reasoning.gold import GoldMatcher
from osler.reasoning.kbmatrix import KBMatrix
from osler.reasoning.llm.prompt import PromptParts, build_parts
from osler.reasoning.llm.rationale import Constraint, compose_rationale
from osler.reasoning.llm.scoring import to_probabilities
from osler.record import Timeline

BASE_CANDIDATES = 12
CANT_MISS_FLOOR = 0.005
PROPOSALS = 3


class Reranker:
    """Engine protocol over a language model, plus context (record, time) and a rationale."""

    pin_warning: str | None = None

    def __init__(self, m: KBMatrix, kb: KnowledgeBase, base: Engine, propose: bool = True):
        self.m, self.kb = m, kb
        self.base = base
        self.propose = propose
        self._matcher = GoldMatcher(kb)
        self._timeline: Timeline | None = None
        self._at: datetime | None = None
        self._findings: dict[str, Finding] = {}
        self._pinned: list[int] | None = None
        self.proposals: list[str] = []
        self.unmapped_proposals: list[str] = []

    # -- what a subclass supplies ----------------------------------------------------
    def question(self, context: str) -> str:
        """The scoring prompt for a rendered context (ends where the answer begins)."""
        raise NotImplementedError

    def logliks(self, jobs: list[tuple[str, list[str]]]) -> list[np.ndarray]:
        """For each (prompt, candidate names): the log-likelihood of each ' {name}.'."""
        raise NotImplementedError

    def generate(self, prompt: str, stop: str, max_new_tokens: int,
                 on_token: Callable[[str], None] | None = None,
                 cancel: threading.Event | None = None,
                 constraint: Constraint | None = None) -> str:
        """Greedy text after PROMPT up to STOP (not included)."""
        raise NotImplementedError

    # -- context for one differential ---------------------------------------------------
    def prepare(self, case: CaseInput, findings: list[Finding], timeline: Timeline | None,
                at: datetime | None) -> None:
        """Fix the record context and the candidate set for the runs of one differential."""
        self._timeline, self._at = timeline, at
        self._findings = {f.id: f for f in findings}
        self._pinned = None
        self._pinned = self._candidates(case)

    def release(self) -> None:
        self._pinned = None

    # -- Engine protocol ---------------------------------------------------------------
    def predict(self, cases: list[CaseInput]) -> np.ndarray:
        base = self.base.predict(cases)
        out = base.copy()
        jobs: list[tuple[str, list[str]]] = []
        sets: list[list[int]] = []
        for i, case in enumerate(cases):
            cands = self._pinned if self._pinned is not None else self._candidates(case,
                                                                                    base[i])
            sets.append(cands)
            names = [self.kb.condition(self.m.condition_ids[c]).name for c in cands]
            jobs.append((self.question(self._parts(case).render()), names))
        for i, (cands, scores) in enumerate(zip(sets, self.logliks(jobs))):
            out[i, cands] = base[i, cands].sum() * to_probabilities(scores)
        return out

    # -- pieces ------------------------------------------------------------------------
    def _parts(self, case: CaseInput) -> PromptParts:
        findings = []
        for fid, state in case.findings:
            f = self._findings.get(fid)
            if f is None:
                label = self.kb.finding(fid).label if self.kb.has_finding(fid) else fid
                f = Finding(fid, label, state != ABSENT, Provenance(), certain=state != POSSIBLE)
            findings.append(f)
        return build_parts(findings, case.age, case.sex, self._timeline, self._at)

    def _candidates(self, case: CaseInput, base: np.ndarray | None = None) -> list[int]:
        if base is None:
            base = self.base.predict([case])[0]
        order = list(np.argsort(-base))
        cands = [int(i) for i in order[:BASE_CANDIDATES]]
        for i in order[BASE_CANDIDATES:]:
            cond = self.kb.condition(self.m.condition_ids[i])
            if cond.cant_miss and base[i] >= CANT_MISS_FLOOR:
                cands.append(int(i))
        if self.propose and self._pinned is None:
            for name in self._own_proposals(case):
                t = self._matcher.target(name)
                ids = [self.m.cond_index[c] for c in t.condition_ids if c in self.m.cond_index]
                if ids:
                    cands += [i for i in ids if i not in cands]
                else:
                    self.unmapped_proposals.append(name)
        return cands

    def _own_proposals(self, case: CaseInput) -> list[str]:
        """Ask the LLM for its own likely diagnoses (short greedy list)."""
        ctx = self._parts(case).render()
        prompt = (f"{ctx}\n\nList the {PROPOSALS} most likely diagnoses, one per line:\n1.")
        text = self.generate(prompt, "\n\n", 48)
        names = []
        for line in text.splitlines():
            name = line.strip().lstrip("0123456789.-) ").strip().rstrip(".")
            if 2 < len(name) < 80:
                names.append(name)
        self.proposals = names[:PROPOSALS]
        return self.proposals

    def rationale(self, case: CaseInput, diagnoses: list[str],
                  on_token: Callable[[str], None] | None = None,
                  cancel: threading.Event | None = None) -> dict[str, Any]:
        parts = self._parts(case)
        doc = compose_rationale(self.generate, parts.render(), diagnoses, parts.valid_ids,
                                on_token, cancel=cancel)
        doc["proposals"] = self.proposals
        doc["proposals_not_in_kb"] = self.unmapped_proposals
        return doc
