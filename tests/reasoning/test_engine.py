"""The shipped-model engine on a tiny model the tests train: verified, local, quantized."""

import shutil

import numpy as np
import pytest

from osler.reasoning.case import CaseInput
from osler.reasoning.engines import NaiveBayesEngine, ShippedEngine
from osler.reasoning.errors import ModelLoadError
from osler.reasoning.kbmatrix import KBMatrix

CASE = CaseInput.build(55, "male", {"shortness-of-breath": "+", "chest-pain": "+",
                                    "tachycardia": "+", "leg-swelling": "+", "fever": "-"})


def test_loads_and_predicts_a_distribution(kb, tiny_model):
    m = KBMatrix.from_kb(kb)
    eng = ShippedEngine(tiny_model, m, device="cpu", quantization="none")
    p = eng.predict([CASE, CaseInput.build(20, "female", {"headache": "+",
                                                          "neck-stiffness": "+"})])
    assert p.shape == (2, len(kb.conditions))
    assert np.allclose(p.sum(axis=1), 1.0)
    assert m.condition_ids[p[0].argmax()] == "pulmonary-embolism"
    assert m.condition_ids[p[1].argmax()] == "meningitis"
    info = eng.info
    assert info.device == "cpu" and info.quantization == "none" and len(info.sha256) == 64
    assert info.memory_bytes > 0 and info.load_seconds > 0


@pytest.mark.parametrize("quant", ["nf4", "int8"])
def test_bitsandbytes_quantized_load_on_cpu(kb, tiny_model, quant):
    import bitsandbytes as bnb

    m = KBMatrix.from_kb(kb)
    full = ShippedEngine(tiny_model, m, device="cpu", quantization="none").predict([CASE])[0]
    eng = ShippedEngine(tiny_model, m, device="cpu", quantization=quant)
    layer_types = {type(mod) for mod in eng.model.modules()}
    expected = bnb.nn.Linear4bit if quant == "nf4" else bnb.nn.Linear8bitLt
    assert expected in layer_types
    q = eng.predict([CASE])[0]
    assert eng.info.quantization == quant
    assert np.argmax(q) == np.argmax(full)
    assert np.abs(q - full).max() < 0.15


def test_tampered_and_truncated_weights_are_refused(kb, tiny_model, tmp_path):
    m = KBMatrix.from_kb(kb)
    bad = tmp_path / "bad"
    shutil.copytree(tiny_model, bad)
    weights = bad / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match="checksum mismatch"):
        ShippedEngine(bad, m, device="cpu")
    weights.write_bytes(bytes(data[: len(data) // 3]))
    with pytest.raises(ModelLoadError, match=r"model\.safetensors: checksum mismatch"):
        ShippedEngine(bad, m, device="cpu")
    (bad / "SHA256SUMS").unlink()
    with pytest.raises(ModelLoadError, match="no SHA256SUMS"):
        ShippedEngine(bad, m, device="cpu")


def test_wrong_folders_say_what_is_missing(kb, tmp_path):
    m = KBMatrix.from_kb(kb)
    with pytest.raises(ModelLoadError, match="no such model folder"):
        ShippedEngine(tmp_path / "nope", m)
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelLoadError, match=r"model\.safetensors: missing"):
        ShippedEngine(tmp_path, m)


def test_cuda_request_without_gpu_is_a_clear_error(kb, tiny_model):
    import torch

    from osler.reasoning.errors import ReasoningError

    if torch.cuda.is_available():
        pytest.skip("machine has a GPU")
    with pytest.raises(ReasoningError, match="no CUDA GPU"):
        ShippedEngine(tiny_model, KBMatrix.from_kb(kb), device="cuda")


def test_model_is_not_worse_than_the_kb_posterior_on_noisy_cases(kb, tiny_model):
    import json

    report = json.loads((tiny_model / "training_report.json").read_text())
    noisy = report["evaluation"]["noisy_prior"]
    assert noisy["model"]["top3"] >= noisy["naive_bayes"]["top3"] - 0.05
    nb = NaiveBayesEngine(KBMatrix.from_kb(kb))
    assert nb.predict([CASE]).shape == (1, len(kb.conditions))
