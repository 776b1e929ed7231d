"""ServerEngine: the language-model engine with the model on a clinic server.

Everything but the arithmetic is llm/rerank.py, shared with the in-process engine: the same
candidates, prompts, probabilities and rationale. Scoring uses the server's own
log-probabilities of log P(' {candidate}.' | prompt): with prompt log-probabilities (echo,
vLLM's prompt_logprobs) as logP(prompt + continuation) - logP(prompt), each the sum of the
prompt tokens' log-probabilities in one request; with llama-server (FORCED) directly, from
the continuation generated under a grammar that allows only it. The requests of one
differential (every leave-one-out run × every candidate) go out concurrently from a small
pool of this engine's own threads and connections.
"""

from __future__ import annotations

import concurrent.futures as cf
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np

from osler.findings import Finding
from osler.knowledge import KnowledgeBase
from osler.reasoning.case import CaseInput
from osler.reasoning.engines import Engine
from osler.reasoning.kbmatrix import KBMatrix
from osler.reasoning.llm.prompt import question
from osler.reasoning.llm.rationale import Constraint
from osler.reasoning.llm.rerank import Reranker
from osler.reasoning.server.client import ServerClient
from osler.reasoning.server.config import PLAIN_HTTP_RISK, ServerConfig
from osler.reasoning.server.constraints import constraint_fields
from osler.reasoning.server.errors import (
    ServerCancelled,
    ServerError,
    ServerProtocolError,
    ServerTimeout,
)
from osler.reasoning.server.identity import (
    ECHO,
    FORCED,
    FORCED_TEXT,
    ServerIdentity,
    drops_bos,
    forced_logprobs,
    identify,
    prompt_logprobs,
    sampling_extras,
)
from osler.record import Timeline

Progress = Callable[[str, float], None]


class ServerEngine(Reranker):
    """Engine protocol over a clinic server (llama-cpp-python's server, llama.cpp's
    llama-server or vLLM)."""

    def __init__(self, config: ServerConfig, m: KBMatrix, kb: KnowledgeBase,
                 base: Engine | None = None, propose: bool = True,
                 progress: Progress | None = None, cancel: threading.Event | None = None):
        report = progress or (lambda _m, _f: None)
        self.config = config
        self.client = ServerClient(config)
        report(f"connecting to {config.url.origin}", 0.1)
        if cancel is not None and cancel.is_set():
            raise ServerCancelled("cancelled", config.url.origin)
        self.identity: ServerIdentity = identify(self.client, config.model)
        report(f"{self.identity.model} on {config.url.origin}", 0.6)
        if base is None:
            from osler.reasoning.llm.engine import base_engine

            base = base_engine(m, kb)
        super().__init__(m, kb, base, propose)
        self.info = self.identity.model_info()
        self.warnings: list[str] = []
        if config.url.scheme == "http" and not config.url.local:
            self.warnings.append(f"plain HTTP to {config.url.origin} was allowed: "
                                 f"{PLAIN_HTTP_RISK}")
        self._notices: list[str] = []
        self._extra = sampling_extras(self.identity.software)
        self._pool = cf.ThreadPoolExecutor(config.concurrency,
                                           thread_name_prefix="osler-server")
        self._totals: dict[Any, float] = {}
        self._folded: set[str] = set()  # names llama-server scored in ASCII spelling
        self._tokens: dict[str, list[int]] = {}  # llama-server: each prompt's tokens
        self._totals_lock = threading.Lock()
        report("ready", 1.0)

    # --- cancel, identity --------------------------------------------------------------
    def cancel(self) -> None:
        """Stop the requests in flight (any thread); the differential fails as cancelled."""
        self.client.cancel()

    def unload(self) -> None:
        self.client.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.client.close()

    def check_identity(self) -> str | None:
        """Ask the server again who it is; a change is returned (and shown) in words."""
        now = identify(self.client, self.identity.model if self.config.model else None,
                       self.identity)
        change = now.change_from(self.identity)
        if change:
            self.identity = now
            self.info = now.model_info()
            self._extra = sampling_extras(now.software)
        return change

    def prepare(self, case: CaseInput, findings: list[Finding], timeline: Timeline | None,
                at: datetime | None) -> None:
        self.client.reset()
        self._totals = {}
        self._folded = set()
        self._tokens = {}
        self.warnings = [w for w in self.warnings if w not in self._notices]
        self._notices = []
        change = self.check_identity()
        if change:
            self._notices.append(change)
            self.warnings.insert(0, change)
        super().prepare(case, findings, timeline, at)

    # --- what the reranker needs ---------------------------------------------------------
    def question(self, context: str) -> str:
        """Plain text (no chat template: the server applies none to /v1/completions)."""
        return question(context, None)

    def _total(self, key: str | tuple[str, str]) -> float:
        """A text's total prompt log-probability, or (FORCED) a (prompt, continuation)
        pair's log P(continuation | prompt); each asked once per differential."""
        with self._totals_lock:
            if key in self._totals:
                return self._totals[key]
        ident = self.identity
        if isinstance(key, tuple):
            probe = forced_logprobs(self.client, ident.model, key[0], key[1], self._extra,
                                    by_tokens=ident.mode == FORCED, cache=self._tokens)
            value = probe.total
            if "".join(probe.tokens) != key[1]:  # scored in its ASCII spelling
                with self._totals_lock:
                    self._folded.add(key[1].strip(" ."))
        else:
            value = prompt_logprobs(self.client, ident.model, key, ident.mode, self._extra,
                                    ident.mode == ECHO and drops_bos(ident.software)).total
        with self._totals_lock:
            self._totals[key] = value
        return value

    def logliks(self, jobs: list[tuple[str, list[str]]]) -> list[np.ndarray]:
        if self.identity.mode in (FORCED, FORCED_TEXT):
            pairs = [(prompt, f" {name}.") for prompt, names in jobs for name in names]
            scores = self._run_all(list(dict.fromkeys(pairs)))
            if self._folded:
                note = ("llama-server scored " + ", ".join(sorted(self._folded)[:5])
                        + (" and others" if len(self._folded) > 5 else "")
                        + " in ASCII spelling (it omits the probability of a character "
                        "written in byte pieces)")
                if note not in self.warnings:
                    self.warnings.append(note)
                    self._notices.append(note)
            return [np.array([scores[(prompt, f" {name}.")] for name in names])
                    for prompt, names in jobs]
        texts: list[str] = []
        for prompt, names in jobs:
            texts.append(prompt)
            texts += [f"{prompt} {name}." for name in names]
        totals = self._run_all(list(dict.fromkeys(texts)))
        out = []
        for prompt, names in jobs:
            out.append(np.array([totals[f"{prompt} {name}."] - totals[prompt]
                                 for name in names]))
        return out

    def _run_all(self, keys: list[Any]) -> dict[Any, float]:
        """Every key's log-probability (see _total), concurrently; the first failure stops
        the rest and is raised (a cancel, or the differential's deadline, likewise)."""
        start = time.monotonic()
        futures = {self._pool.submit(self._total, k): k for k in keys}
        done: dict[Any, float] = {}
        pending = set(futures)
        try:
            while pending:
                left = self.config.deadline - (time.monotonic() - start)
                if left <= 0:
                    raise ServerTimeout(f"the differential took longer than "
                                        f"{self.config.deadline:g} s", self.client.where,
                                        "POST /completion" if self.identity.mode in (
                                            FORCED, FORCED_TEXT) else "POST /v1/completions")
                finished, pending = cf.wait(pending, timeout=min(left, 0.5),
                                            return_when=cf.FIRST_EXCEPTION)
                for f in finished:
                    exc = f.exception()
                    if exc is not None:
                        raise exc
                    done[futures[f]] = f.result()
        except BaseException:
            for f in pending:
                f.cancel()
            if not self.client.cancelled.is_set():
                self.client.cancel()  # close what is still in flight, then accept again
                cf.wait(pending, timeout=self.config.timeout)
                self.client.reset()
            raise
        return done

    def generate(self, prompt: str, stop: str, max_new_tokens: int,
                 on_token: Callable[[str], None] | None = None,
                 cancel: threading.Event | None = None,
                 constraint: Constraint | None = None) -> str:
        doc: dict[str, Any] = {"model": self.identity.model, "prompt": prompt,
                               "max_tokens": max_new_tokens, "temperature": 0.0,
                               "stop": [stop], **self._extra,
                               **constraint_fields(self.identity.software, constraint)}
        if on_token is None:
            answer = self.client.request("POST", "/v1/completions", doc)
            text = _choice_text(answer, self.client.where)
        else:
            pieces: list[str] = []
            finished = False
            for event in self.client.stream("/v1/completions", doc):
                if cancel is not None and cancel.is_set():
                    self.client.cancel()
                    raise ServerCancelled("cancelled", self.client.where)
                choice = (event.get("choices") or [{}])[0]
                piece = choice.get("text") or ""
                if piece:
                    pieces.append(piece)
                    on_token(piece)
                finished = finished or bool(choice.get("finish_reason"))
            if not finished:
                raise ServerProtocolError(
                    "the server ended the stream without finishing the answer (a "
                    "llama-cpp-python server interrupts streams when another request arrives "
                    "unless started with --interrupt_requests false)", self.client.where,
                    "POST /v1/completions (stream)")
            text = "".join(pieces)
        return text.split(stop, 1)[0] if stop and stop in text else text

    def rationale(self, case: CaseInput, diagnoses: list[str],
                  on_token: Callable[[str], None] | None = None,
                  cancel: threading.Event | None = None) -> dict[str, Any]:
        """The cited rationale; a server fault while writing it keeps the differential and
        says so in the rationale instead (a cancel still cancels)."""
        try:
            return super().rationale(case, diagnoses, on_token, cancel)
        except ServerCancelled:
            raise
        except ServerError as exc:
            note = f"the rationale could not be written: {exc}"
            self.warnings.append(note)
            self._notices.append(note)
            return {"diagnoses": [], "citations_kept": 0, "citations_dropped": 0,
                    "dropped": [], "error": str(exc), "proposals": self.proposals,
                    "proposals_not_in_kb": self.unmapped_proposals}


def _choice_text(answer: Any, where: str) -> str:
    try:
        text = answer["choices"][0]["text"]
    except (KeyError, IndexError, TypeError):
        raise ServerProtocolError("the answer has no choices[0].text", where,
                                  "POST /v1/completions") from None
    if not isinstance(text, str):
        raise ServerProtocolError("choices[0].text is not text", where, "POST /v1/completions")
    return text

