"""Bring-your-own LLM on CPU: a tiny random Llama/Gemma the tests build, nf4 and int8 via
bitsandbytes, the full ddx path, citation validation, bad folders."""

import json

import numpy as np
import pytest

from osler.findings import Finding, Provenance
from osler.reasoning.case import CaseInput
from osler.reasoning.engines import NaiveBayesEngine
from osler.reasoning.errors import ModelLoadError
from osler.reasoning.kbmatrix import KBMatrix
from osler.reasoning.llm.engine import LLMEngine
from osler.reasoning.llm.folder import inspect_folder
from osler.reasoning.llm.rationale import write_rationale
from osler.reasoning.service import DdxService
from tests.reasoning.llm_fixtures import build_tiny_llm


@pytest.fixture(scope="module")
def llm_dir(tmp_path_factory):
    return build_tiny_llm(tmp_path_factory.mktemp("llm") / "tiny-llama")


def findings(kb):
    return [
        Finding("shortness-of-breath", "Shortness of breath", True,
                Provenance("DocumentReference/n1", (10, 29), "short of breath")),
        Finding("fever", "Fever", False, Provenance("Observation/t1")),
        Finding("chest-pain", "Chest pain", True, Provenance("DocumentReference/n1", (40, 50))),
    ]


def test_folder_inspection_counts_parameters(llm_dir):
    folder = inspect_folder(llm_dir)
    assert folder.params > 50_000 and 0 < folder.linear_params < folder.params
    assert folder.estimate_bytes("nf4") < folder.estimate_bytes("none")


@pytest.mark.parametrize("quant", ["nf4", "int8"])
def test_quantized_load_and_full_ddx_path(kb, llm_dir, quant):
    import bitsandbytes as bnb

    m = KBMatrix.from_kb(kb)
    base = NaiveBayesEngine(m, prior_exponent=0.5)
    eng = LLMEngine(llm_dir, m, kb, device="cpu", quantization=quant, base=base)
    kinds = {type(x) for x in eng.llm.model.modules()}
    assert (bnb.nn.Linear4bit if quant == "nf4" else bnb.nn.Linear8bitLt) in kinds
    assert eng.info.kind == "llm" and eng.info.quantization == quant
    assert len(eng.info.sha256) == 64 and eng.info.memory_bytes > 0
    svc = DdxService(kb, eng)
    tokens: list[str] = []
    diff = svc.run_findings(findings(kb), 58, "male", top=4, patient_id="p1",
                            rationale=True, on_token=tokens.append)
    probs = np.array([d.probability for d in diff.diagnoses])
    assert len(diff.diagnoses) >= 4 and np.all(probs >= 0)
    # Evidence comes from re-scoring without each finding: weights are real probability deltas.
    top = diff.diagnoses[0]
    for e in top.evidence_for + top.evidence_against:
        alt = eng.predict([diff.case.without(e.finding_id)])[0] if e.state != "demographic" \
            else None
        if alt is not None:
            assert abs((top.probability - alt[m.cond_index[top.condition_id]]) - e.delta) < 1e-4
            break
    r = diff.rationale
    assert r is not None and tokens, "rationale tokens were streamed"
    json.loads("".join(tokens))  # the streamed text is itself valid JSON
    valid = {"DocumentReference/n1", "Observation/t1", "shortness-of-breath", "fever",
             "chest-pain"}
    for d in r["diagnoses"]:
        assert set(d["citations"]) <= valid
    assert r["citations_dropped"] == len(r["dropped"]) or r["citations_dropped"] >= 20


def test_gemma_style_model_loads(kb, tmp_path):
    folder = build_tiny_llm(tmp_path / "tiny-gemma", arch="gemma")
    m = KBMatrix.from_kb(kb)
    eng = LLMEngine(folder, m, kb, device="cpu", quantization="nf4",
                    base=NaiveBayesEngine(m), propose=False)
    p = eng.predict([CaseInput.build(30, "female", {"headache": "+"})])
    assert p.shape == (1, len(kb.conditions)) and abs(p.sum() - 1) < 1e-6


def test_invalid_citations_are_dropped_and_counted(kb, llm_dir):
    """Whatever the model writes, only ids from the prompt survive; the rest are counted."""
    m = KBMatrix.from_kb(kb)
    eng = LLMEngine(llm_dir, m, kb, device="cpu", quantization="none",
                    base=NaiveBayesEngine(m), propose=False)
    doc = write_rationale(eng.llm.model, eng.llm.tokenizer, "Findings:\n- [fever] Fever",
                          ["Pneumonia"], {"fever"}, max_new_tokens=40)
    assert doc["citations_kept"] + doc["citations_dropped"] >= 0
    for d in doc["diagnoses"]:
        assert all(c == "fever" for c in d["citations"])
    assert len(doc["dropped"]) == min(doc["citations_dropped"], 20)


def test_bad_folders_are_clear_errors(tmp_path, llm_dir):
    with pytest.raises(ModelLoadError, match="no such model folder"):
        inspect_folder(tmp_path / "missing")
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["BertModel"]}))
    with pytest.raises(ModelLoadError, match="not a causal language model"):
        inspect_folder(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["LlamaForCausalLM"]}))
    with pytest.raises(ModelLoadError, match="no tokenizer"):
        inspect_folder(tmp_path)
    (tmp_path / "tokenizer.json").write_text("{}")
    with pytest.raises(ModelLoadError, match="no weights"):
        inspect_folder(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"\x01\x02")
    with pytest.raises(ModelLoadError, match="truncated safetensors"):
        inspect_folder(tmp_path)
