"""LLMEngine: a local causal LM, loaded in this process, re-scores a candidate set (the
shipped model's top list, can't-miss conditions, and the LLM's own proposals) by likelihood,
and writes a rationale. What it shares with the clinic-server engine lives in llm/rerank.py.

Probabilities: the candidate set keeps the base engine's total mass and the LLM divides it
among the candidates; conditions outside the set keep their base probabilities. Evidence
weights come from re-scoring with each finding left out (build_differential's occlusion),
never from the generated prose.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from osler.knowledge import KnowledgeBase
from osler.reasoning.engines import Engine, NaiveBayesEngine, ShippedEngine, read_model_meta
from osler.reasoning.errors import ModelLoadError
from osler.reasoning.kb_identity import trained_on
from osler.reasoning.kbmatrix import KBMatrix
from osler.reasoning.llm.folder import inspect_folder
from osler.reasoning.llm.loader import LoadedLLM, Progress, load_llm
from osler.reasoning.llm.prompt import question
from osler.reasoning.llm.rationale import Constraint, greedy
from osler.reasoning.llm.rerank import BASE_CANDIDATES, CANT_MISS_FLOOR, PROPOSALS, Reranker
from osler.reasoning.llm.scoring import candidate_loglik
from osler.reasoning.signature import ModelSignatureError

__all__ = ["BASE_CANDIDATES", "CANT_MISS_FLOOR", "PROPOSALS", "LLMEngine", "base_engine"]


def base_engine(m: KBMatrix, kb: KnowledgeBase) -> Engine:
    """The shipped model when trained on this KB, else the KB posterior."""
    from osler.locations import default_model_dir

    folder = default_model_dir()
    try:
        if trained_on(read_model_meta(folder), kb):
            return ShippedEngine(folder, m, device="cpu", quantization="none")
    except ModelSignatureError:
        raise  # a damaged install is said, not silently replaced by the KB posterior
    except ModelLoadError:
        pass
    return NaiveBayesEngine(m, kb.name, kb.version, prior_exponent=0.5)


class LLMEngine(Reranker):
    """A local causal LM in this process (transformers, quantized with bitsandbytes)."""

    def __init__(self, folder: str | Path, m: KBMatrix, kb: KnowledgeBase, device: str = "auto",
                 quantization: str = "auto", memory_budget_gb: float | None = None,
                 base: Engine | None = None, progress: Progress | None = None,
                 cancel: threading.Event | None = None, propose: bool = True):
        self.llm: LoadedLLM = load_llm(inspect_folder(folder), device, quantization,
                                       memory_budget_gb, progress, cancel)
        super().__init__(m, kb, base or base_engine(m, kb), propose)
        self.info = self.llm.info
        self.warnings: list[str] = list(self.llm.warnings)

    def unload(self) -> None:
        self.llm.unload()

    def question(self, context: str) -> str:
        return question(context, self.llm.tokenizer)

    def logliks(self, jobs: list[tuple[str, list[str]]]) -> list[np.ndarray]:
        return [candidate_loglik(self.llm.model, self.llm.tokenizer, prompt, names)
                for prompt, names in jobs]

    def generate(self, prompt: str, stop: str, max_new_tokens: int,
                 on_token: Callable[[str], None] | None = None,
                 cancel: threading.Event | None = None,
                 constraint: Constraint | None = None) -> str:
        return greedy(self.llm.model, self.llm.tokenizer, prompt, stop, max_new_tokens,
                      on_token, cancel)
