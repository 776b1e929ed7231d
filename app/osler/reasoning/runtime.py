"""Model runtime: device and quantization choice, offline local loading, load time and memory.

torch/transformers are imported inside functions only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from osler.reasoning.errors import ModelLoadError, ReasoningError

DEVICES = ("auto", "cpu", "cuda")
LANGUAGE_MODEL_KINDS = ("llm", "server")
"""ModelInfo kinds that write a rationale: a local LLM, or one on a clinic server."""
QUANTIZATIONS = ("auto", "none", "int8", "nf4")


def force_offline() -> None:
    """Make every Hugging Face library refuse the network, whatever the user's environment."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def never_ask_to_run_code() -> None:
    """transformers asks on the terminal (`input()`, even when stdin is a pipe) whether to run
    a model folder's own code when `trust_remote_code` is not given; with its timeout at 0 it
    refuses instead. Every Osler call also passes trust_remote_code=False; this covers any
    call inside transformers that does not pass it on. Call after importing transformers."""
    from transformers import dynamic_module_utils

    dynamic_module_utils.TIME_OUT_REMOTE_CODE = 0


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What was loaded, where and how: shown in the UI, printed by `ddx`, stored in audits."""

    id: str
    version: str
    sha256: str
    device: str
    quantization: str
    path: str = ""
    kind: str = "shipped"
    load_seconds: float = 0.0
    memory_bytes: int = 0
    kb: str = ""
    extra: tuple[tuple[str, str], ...] = ()  # e.g. a clinic server: server, weights, logprobs

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version": self.version,
            "sha256": self.sha256,
            "device": self.device,
            "quantization": self.quantization,
            "kind": self.kind,
            "load_seconds": round(self.load_seconds, 3),
            "memory_bytes": self.memory_bytes,
            **dict(self.extra),
        }


def resolve_device(requested: str = "auto") -> str:
    """'auto' -> cuda when torch sees a GPU, else cpu; 'cuda' without a GPU is an error."""
    if requested not in DEVICES:
        raise ReasoningError(f"--device must be one of {', '.join(DEVICES)}, not {requested!r}")
    import torch

    has_cuda = torch.cuda.is_available()
    if requested == "auto":
        return "cuda" if has_cuda else "cpu"
    if requested == "cuda" and not has_cuda:
        raise ReasoningError("--device cuda: no CUDA GPU is available to torch on this machine "
                             f"(torch {torch.__version__}); use --device cpu or auto")
    return requested


def resolve_quantization(requested: str, device: str, default: str) -> str:
    """'auto' -> the engine's default for the device."""
    if requested not in QUANTIZATIONS:
        raise ReasoningError(
            f"--quantization must be one of {', '.join(QUANTIZATIONS)}, not {requested!r}")
    return default if requested == "auto" else requested


def bnb_config(quantization: str, device: str, keep: tuple[str, ...] = ()):
    """A BitsAndBytesConfig for nf4 (double quant) or int8, or None for full precision.

    `keep` names modules left unquantized (output heads, as is usual for lm_head)."""
    if quantization == "none":
        return None
    import torch
    from transformers import BitsAndBytesConfig

    try:
        import bitsandbytes  # noqa: F401
    except ImportError as exc:
        raise ModelLoadError(f"--quantization {quantization} needs bitsandbytes ({exc})") from exc
    if quantization == "nf4":
        compute = torch.bfloat16
        if device == "cuda" and not torch.cuda.is_bf16_supported():
            compute = torch.float16
        return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                  bnb_4bit_use_double_quant=True,
                                  bnb_4bit_compute_dtype=compute,
                                  llm_int8_skip_modules=list(keep) or None)
    if quantization == "int8":
        return BitsAndBytesConfig(load_in_8bit=True, llm_int8_skip_modules=list(keep) or None)
    raise ReasoningError(f"unknown quantization {quantization!r}")


def model_memory_bytes(model: Any) -> int:
    """Bytes held by the model's parameters and buffers (quantized sizes where quantized)."""
    try:
        return int(model.get_memory_footprint())
    except Exception:
        return sum(p.numel() * p.element_size() for p in model.parameters())


def is_out_of_memory(exc: BaseException) -> bool:
    """True for CUDA/CPU allocation failures, whatever torch version raised them."""
    import torch

    oom = getattr(torch.cuda, "OutOfMemoryError", None)
    if oom is not None and isinstance(exc, oom):
        return True
    return isinstance(exc, MemoryError) or "out of memory" in str(exc).lower()


def leave_a_core_for_the_ui() -> int:
    """Let torch use all cores but one, so that a window's UI thread is never starved while
    the model computes (on a 2-core clinic PC, torch's 2 threads otherwise took both).
    Returns the thread count set (0 when torch is not in use: the NumPy path)."""
    import os
    import sys

    if "torch" not in sys.modules:
        return 0
    import torch

    n = max(1, (os.cpu_count() or 2) - 1)
    torch.set_num_threads(n)
    return n
