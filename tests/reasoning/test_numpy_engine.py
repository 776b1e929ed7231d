"""The NumPy forward pass gives the transformers model's probabilities (CPU, full
precision), and the CLI answers without importing torch."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from osler.knowledge.pack import default_kb
from osler.locations import default_model_dir
from osler.reasoning.engines import ShippedEngine
from osler.reasoning.kbmatrix import KBMatrix
from osler.reasoning.numpy_engine import NumpyShippedEngine, can_skip_torch
from osler.reasoning.prerequisites import PrerequisiteRules
from osler.reasoning.synthetic import CaseGenerator
from tests.conftest import REPO
from tests.reasoning.conftest import tiny_kb


def _cases(m: KBMatrix, n: int = 60):
    return [s.case for s in CaseGenerator(m, seed=7).sample(n, "prior", 0.5)]


@pytest.mark.parametrize("which", ["tiny", "shipped"])
def test_numpy_and_torch_give_the_same_probabilities(which, tiny_model):
    if which == "tiny":
        kb, folder = tiny_kb(), tiny_model
    else:
        kb, folder = default_kb(), default_model_dir()
        if not (folder / "osler.json").exists():
            pytest.skip("the shipped model is not installed")
    m = KBMatrix.from_kb(kb)
    rules = PrerequisiteRules.of(kb)
    cases = _cases(m)
    torch_engine = ShippedEngine(folder, m, device="cpu", quantization="none", rules=rules)
    numpy_engine = NumpyShippedEngine(folder, m, device="cpu", quantization="none",
                                      rules=rules)
    a, b = torch_engine.predict(cases), numpy_engine.predict(cases)
    assert a.shape == b.shape
    assert np.abs(a - b).max() < 1e-5
    assert (a.argmax(axis=1) == b.argmax(axis=1)).all()
    assert numpy_engine.info.id == torch_engine.info.id
    assert numpy_engine.info.sha256 == torch_engine.info.sha256


def test_only_the_cpu_at_full_precision_skips_torch():
    assert can_skip_torch("cpu", "auto") and can_skip_torch("cpu", "none")
    assert not can_skip_torch("cpu", "nf4") and not can_skip_torch("cuda", "none")


def test_the_cli_answers_without_importing_torch():
    code = textwrap.dedent("""
        import sys
        from osler.cli import main
        rc = main(["ddx", "--text", "fever and productive cough", "--age", "67",
                   "--device", "cpu", "--json", "--no-semantic"])
        heavy = sorted(m for m in ("torch", "transformers") if m in sys.modules)
        print("RC", rc, "HEAVY", heavy, file=sys.stderr)
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, cwd=REPO)
    assert "RC 0 HEAVY []" in proc.stderr, proc.stderr[-2000:]
    assert '"osler-ddx"' in proc.stdout
