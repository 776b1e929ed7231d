"""The clinic-server engine against llama.cpp's own `llama-server` (C++), which gives no
prompt log-probabilities: candidates are scored by generating each one under a grammar that
allows only it, with `n_probs` giving each token's raw log-probability ("forced" mode).
The binary is built by `.ci/run` from the llama.cpp that llama-cpp-python vendors; the
tests skip, saying so, where it is absent."""

from __future__ import annotations

import json

import numpy as np
import pytest

from osler.findings import Finding, Provenance
from osler.reasoning.case import CaseInput
from osler.reasoning.engines import NaiveBayesEngine
from osler.reasoning.kbmatrix import KBMatrix
from osler.reasoning.server.client import ServerClient
from osler.reasoning.server.engine import ServerEngine
from osler.reasoning.server.identity import FORCED, forced_logprobs, identify
from osler.reasoning.service import DdxService
from tests.clinic_server import run_windows
from tests.reasoning.test_server import config, engine, findings

pytestmark = pytest.mark.slow

PAIRS = [
    ("A 58-year-old man with chest pain. The most likely diagnosis is", " Pulmonary embolism."),
    ("Symptoms: vertigo, tinnitus. Diagnosis:", " Ménière's disease."),
    ('Quoted "text" \\ and a tab\tthen', ' the "answer".'),
]


def test_identity_is_llama_server_in_forced_mode(cpp_server):
    ident = identify(ServerClient(config(cpp_server)))
    assert ident.software.startswith("llama.cpp server") and ident.mode == FORCED
    assert ident.weights_file == "tiny-llama-F32.gguf" and ident.quantization == "F32"
    block = ident.model_info().to_json()
    assert block["logprobs"] == "forced" and block["server"] == cpp_server.url
    assert cpp_server.api_key not in json.dumps(block)
    again = identify(ServerClient(config(cpp_server)), before=ident)
    assert again.probe.matches(ident.probe) and again.change_from(ident) is None


def test_forced_scores_equal_llama_cpp_computed_in_process(cpp_server, tiny_models):
    """The server's numbers are the model's: each forced token's log-probability equals
    log-softmax of the logits llama.cpp computes here for the tokenizer's own tokens of the
    text. A name written with byte pieces (é here) is scored in its ASCII spelling."""
    from llama_cpp import Llama

    client = ServerClient(config(cpp_server))
    llm = Llama(str(tiny_models.gguf), logits_all=True, n_ctx=512, verbose=False,
                n_threads=1)
    extra = {"top_k": 1, "repeat_penalty": 1.0}
    spelled = []
    for prompt, cont in PAIRS:
        probe = forced_logprobs(client, "", prompt, cont, extra)
        text = "".join(probe.tokens)
        spelled.append(text)
        ptoks = llm.tokenize(prompt.encode(), add_bos=True, special=False)
        ids = llm.tokenize((prompt + text).encode(), add_bos=True, special=False)[len(ptoks):]
        assert len(ids) == len(probe.logprobs)  # the tokenizer's own split, not greedy's
        llm.reset()
        llm.eval(ptoks + ids)
        logits = np.asarray(llm.scores[: len(ptoks) + len(ids)], dtype=np.float64)
        mine = []
        for j, tok in enumerate(ids):
            row = logits[len(ptoks) + j - 1]
            mine.append(row[tok] - (row.max() + np.log(np.exp(row - row.max()).sum())))
        assert np.allclose(probe.logprobs, mine, atol=2e-3), (prompt, probe, mine)
    assert spelled == [" Pulmonary embolism.", " Meniere's disease.", ' the "answer".']


def test_llama_server_agrees_with_the_echo_server_on_the_same_weights(kb, cpp_server,
                                                                      clinic_server):
    """Same GGUF behind llama-server (forced, token grammar) and llama-cpp-python's server
    (echo): every candidate's log P(' name.' | prompt) agrees, and so do the probabilities,
    so either server gives the same differential."""
    m = KBMatrix.from_kb(kb)
    base = NaiveBayesEngine(m, prior_exponent=0.5)
    forced = ServerEngine(config(cpp_server), m, kb, base=base, propose=False)
    echo = ServerEngine(config(clinic_server), m, kb, base=base, propose=False)
    names = [c.name for c in kb.conditions]
    jobs = [("A 58-year-old man with chest pain and breathlessness. The most likely "
             "diagnosis is", names), ("Cough and wheeze at night. Diagnosis:", names)]
    for a, b in zip(forced.logliks(jobs), echo.logliks(jobs)):
        assert np.abs(a - b).max() < 1e-2, (a, b)
    cases = [CaseInput.build(58, "male", {"shortness-of-breath": "+", "chest-pain": "+",
                                          "fever": "-"}),
             CaseInput.build(30, "female", {"cough": "+", "wheezing": "+"})]
    assert np.abs(forced.predict(cases) - echo.predict(cases)).max() < 1e-3


def test_full_ddx_through_llama_server_with_evidence_and_cited_rationale(kb, cpp_server):
    eng = engine(kb, cpp_server)
    svc = DdxService(kb, eng)
    tokens: list[str] = []
    diff = svc.run_findings(findings(), 58, "male", top=4, patient_id="p1", rationale=True,
                            on_token=tokens.append)
    block = diff.model.to_json()
    assert block["kind"] == "server" and block["logprobs"] == "forced"
    assert abs(sum(d.probability for d in diff.diagnoses)) <= 1.0 + 1e-9
    # Evidence is leave-one-out re-scoring by the server: leaving a finding out moves each
    # candidate's probability by exactly what the differential's evidence says.
    from osler.reasoning.explain import logit

    eng.prepare(diff.case, findings(), None, None)
    runs = [diff.case] + [diff.case.without(fid) for fid, _ in diff.case.findings]
    batch = eng.predict(runs)
    for k in range(1, len(runs)):
        assert np.abs(batch[0] - batch[k]).max() > 0, "leaving a finding out changes scores"
    for d in diff.diagnoses:
        ci = svc.m.cond_index[d.condition_id]
        for e in d.evidence_for + d.evidence_against:
            if e.state != "demographic":
                k = 1 + [fid for fid, _ in diff.case.findings].index(e.finding_id)
                assert abs(e.weight - float(logit(batch[0, ci]) - logit(batch[k, ci]))) < 1e-6
    r = diff.rationale
    assert r is not None and "error" not in r and len(r["diagnoses"]) == 3
    streamed = json.loads("".join(tokens))
    assert [d["diagnosis"] for d in streamed["diagnoses"]] == [d.name for d in
                                                                 diff.diagnoses[:3]]
    valid = {"DocumentReference/n1", "Observation/t1", "shortness-of-breath", "fever",
             "chest-pain"}
    for d in r["diagnoses"]:
        assert set(d["citations"]) <= valid


def test_four_concurrent_clients_on_llama_server_slots(kb, cpp_server):
    cases = [(findings(), 58, "male"),
             ([Finding("cough", "Cough", True, Provenance("DocumentReference/a"))], 30,
              "female"),
             ([Finding("headache", "Headache", True, Provenance("DocumentReference/c"))], 22,
              "male"),
             ([Finding("wheezing", "Wheezing", True, Provenance("DocumentReference/d"))], 12,
              "female")]
    alone = [[(x.name, x.probability) for x in DdxService(kb, engine(kb, cpp_server))
              .run_findings(f, age, sex, top=3).diagnoses] for f, age, sex in cases]
    results, _ = run_windows(lambda: DdxService(kb, engine(kb, cpp_server)), cases, top=3)
    for i in range(4):
        d = results[i]
        assert not isinstance(d, Exception), d
        assert [x.name for x in d.diagnoses] == [n for n, _ in alone[i]]
        assert np.allclose([x.probability for x in d.diagnoses], [p for _, p in alone[i]],
                           rtol=1e-2, atol=1e-6)


def test_selfcheck_and_the_cli_through_llama_server(cpp_server, tmp_path):
    """`osler selfcheck --server` passes and `osler ddx --server` prints a differential
    scored by llama-server, with nothing but that server contacted."""
    import os
    import subprocess
    import sys

    from osler.selfcheck import OK
    from osler.selfcheck_server import check_server
    from tests.reasoning.conftest import tiny_kb

    checks = {c.name: c for c in check_server(config(cpp_server), tiny_kb())}
    assert checks["Clinic server"].status == OK
    assert "grammar-forced tokens" in checks["Clinic server"].detail
    assert checks["Server differential"].status == OK, checks["Server differential"].detail
    assert checks["Offline with the server"].status == OK
    env = {**os.environ, "OSLER_SERVER_KEY": cpp_server.api_key}
    proc = subprocess.run([sys.executable, "-m", "osler", "ddx", "--text",
                           "cough and fever for three days, short of breath", "--age", "58",
                           "--sex", "male", "--server", cpp_server.url, "--top", "5",
                           "--no-rare", "--json"], capture_output=True, text=True, env=env,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["model"]["logprobs"] == "forced" and doc["model"]["server"] == cpp_server.url
    assert doc["differential"] and cpp_server.api_key not in proc.stdout + proc.stderr
