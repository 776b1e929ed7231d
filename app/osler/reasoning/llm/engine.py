"""LLMEngine: a local causal LM re-scores a candidate set (the shipped model's top list,
can't-miss conditions, and the LLM's own proposals) by likelihood, and writes a rationale.

Probabilities: the candidate set keeps the base engine's total mass and the LLM divides it
among the candidates; conditions outside the set keep their base probabilities. Evidence
weights come from re-scoring with each finding left out (build_differential's occlusion),
never from the generated prose.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from osler.findings import Finding, Provenance
from osler.knowledge import KnowledgeBase
from osler.reasoning.case import ABSENT, POSSIBLE, CaseInput
from osler.reasoning.engines import Engine, NaiveBayesEngine, ShippedEngine, read_model_meta
from osler.reasoning.errors import ModelLoadError
from osler.reasoning.gold import GoldMatcher
from osler.reasoning.kb_identity import trained_on
from osler.reasoning.kbmatrix import KBMatrix
from osler.reasoning.llm.folder import inspect_folder
from osler.reasoning.llm.loader import LoadedLLM, Progress, load_llm
from osler.reasoning.llm.prompt import PromptParts, build_parts, question
from osler.reasoning.llm.rationale import greedy, write_rationale
from osler.reasoning.llm.scoring import candidate_loglik, to_probabilities
from osler.record import Timeline

BASE_CANDIDATES = 12
CANT_MISS_FLOOR = 0.005
PROPOSALS = 3


def base_engine(m: KBMatrix, kb: KnowledgeBase) -> Engine:
    """The shipped model when trained on this KB, else the KB posterior."""
    from osler.locations import default_model_dir

    folder = default_model_dir()
    try:
        if trained_on(read_model_meta(folder), kb):
            return ShippedEngine(folder, m, device="cpu", quantization="none")
    except ModelLoadError:
        pass
    return NaiveBayesEngine(m, kb.name, kb.version, prior_exponent=0.5)


class LLMEngine:
    """Engine protocol over a local LLM, plus context (record, time) and a rationale writer."""

    def __init__(self, folder: str | Path, m: KBMatrix, kb: KnowledgeBase, device: str = "auto",
                 quantization: str = "auto", memory_budget_gb: float | None = None,
                 base: Engine | None = None, progress: Progress | None = None,
                 cancel: threading.Event | None = None, propose: bool = True):
        self.m, self.kb = m, kb
        self.llm: LoadedLLM = load_llm(inspect_folder(folder), device, quantization,
                                       memory_budget_gb, progress, cancel)
        self.info = self.llm.info
        self.base = base or base_engine(m, kb)
        self.warnings: list[str] = list(self.llm.warnings)
        self.propose = propose
        self._matcher = GoldMatcher(kb)
        self._timeline: Timeline | None = None
        self._at: datetime | None = None
        self._findings: dict[str, Finding] = {}
        self._pinned: list[int] | None = None
        self.proposals: list[str] = []
        self.unmapped_proposals: list[str] = []

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

    def unload(self) -> None:
        self.llm.unload()

    # -- Engine protocol ---------------------------------------------------------------
    def predict(self, cases: list[CaseInput]) -> np.ndarray:
        base = self.base.predict(cases)
        out = base.copy()
        for i, case in enumerate(cases):
            cands = self._pinned if self._pinned is not None else self._candidates(case,
                                                                                    base[i])
            prompt = question(self._parts(case).render(), self.llm.tokenizer)
            names = [self.kb.condition(self.m.condition_ids[c]).name for c in cands]
            p = to_probabilities(candidate_loglik(self.llm.model, self.llm.tokenizer, prompt,
                                                  names))
            mass = base[i, cands].sum()
            out[i, cands] = mass * p
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
        text = greedy(self.llm.model, self.llm.tokenizer, prompt, "\n\n", 48)
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
        doc = write_rationale(self.llm.model, self.llm.tokenizer, parts.render(), diagnoses,
                              parts.valid_ids, on_token, cancel=cancel)
        doc["proposals"] = self.proposals
        doc["proposals_not_in_kb"] = self.unmapped_proposals
        return doc
