"""The shipped model's forward pass in NumPy, for the CPU without torch or transformers.

The shipped network is small (a wide layer and two 256-wide layers); importing torch and
transformers costs several seconds on a clinic PC, far more than the model itself. On the
CPU at full precision this engine reads the same verified safetensors weights with
`safetensors.numpy`, the same tokenizer with `tokenizers`, and computes the same logits
(tests/reasoning/test_numpy_engine.py: equal to the torch path to 1e-5 in probability).
CUDA, quantization (bitsandbytes) and local LLMs keep the transformers path."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from osler.reasoning.case import CaseInput
from osler.reasoning.encoding import case_text
from osler.reasoning.engines import BATCH, ShippedEngine
from osler.reasoning.errors import ModelLoadError, ReasoningError
from osler.reasoning.runtime import DEVICES, QUANTIZATIONS

LAYER_NORM_EPS = 1e-5  # torch.nn.LayerNorm's default, as the network was trained


def can_skip_torch(device: str, quantization: str) -> bool:
    """True when the request is the CPU at full precision, decided without importing
    torch: 'auto' means CPU only where no NVIDIA driver is present at all."""
    if device not in DEVICES:
        raise ReasoningError(f"--device must be one of {', '.join(DEVICES)}, not {device!r}")
    if quantization not in QUANTIZATIONS:
        raise ReasoningError(
            f"--quantization must be one of {', '.join(QUANTIZATIONS)}, not {quantization!r}")
    if quantization not in ("auto", "none"):
        return False
    return device == "cpu" or (device == "auto" and not _nvidia_present())


def _nvidia_present() -> bool:
    import os
    import shutil

    return os.path.exists("/dev/nvidiactl") or shutil.which("nvidia-smi") is not None


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU, as torch.nn.functional.gelu."""
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


class NumpyShippedEngine(ShippedEngine):
    """ShippedEngine with the network run in NumPy (CPU, full precision)."""

    def _load_network(self, path: Path, device: str, quantization: str
                      ) -> tuple[str, str, int]:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        try:
            self._tok = Tokenizer.from_file(str(path / "tokenizer.json"))
            w = load_file(str(path / "model.safetensors"))
            n = int(self._config(path).get("num_deep_layers", 2))
            self._wide = w["wide.weight"].astype(np.float32)
            self._embed = w["embed.weight"].astype(np.float32)
            self._norm = (w["norm.weight"], w["norm.bias"])
            self._deep = [(w[f"deep.{i}.weight"], w[f"deep.{i}.bias"]) for i in range(n)]
            self._head = (w["classifier.weight"], w["classifier.bias"])
        except KeyError as exc:
            raise ModelLoadError(f"weights lack {exc}", str(path), "model.safetensors") from exc
        except Exception as exc:  # a damaged file: name it
            raise ModelLoadError(f"cannot read the model ({type(exc).__name__}: {exc})",
                                 str(path)) from exc
        self.device = "cpu"
        memory = sum(a.nbytes for a in w.values())
        return "cpu", "none", memory

    @staticmethod
    def _config(path: Path) -> dict:
        import json

        return json.loads((path / "config.json").read_text(encoding="utf-8"))

    def logits(self, cases: list[CaseInput]) -> np.ndarray:
        out = []
        for i in range(0, len(cases), BATCH):
            ids = [e.ids for e in self._tok.encode_batch([case_text(c)
                                                          for c in cases[i : i + BATCH]])]
            out.append(self._forward(ids))
        return np.concatenate(out) if out else np.zeros((0, len(self.meta["labels"])))

    def _forward(self, ids: list[list[int]]) -> np.ndarray:
        wide = np.stack([self._wide[row].sum(axis=0) for row in ids])
        h = np.stack([self._embed[row].sum(axis=0) for row in ids])
        g, b = self._norm
        mu = h.mean(axis=1, keepdims=True)
        var = h.var(axis=1, keepdims=True)
        h = (h - mu) / np.sqrt(var + LAYER_NORM_EPS) * g + b
        for weight, bias in self._deep:
            h = _gelu(h @ weight.T + bias)
        weight, bias = self._head
        return (wide + (h @ weight.T + bias)).astype(np.float64)
