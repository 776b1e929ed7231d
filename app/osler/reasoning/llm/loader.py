"""Load a local causal LM: offline, verified shape, quantized with bitsandbytes, placed with
accelerate under a memory budget; CPU fallback with a warning; cancel between stages; unload."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from osler.reasoning.checksums import file_sha256
from osler.reasoning.errors import ModelLoadError, ReasoningError
from osler.reasoning.llm.folder import LLMFolder
from osler.reasoning.runtime import (
    ModelInfo,
    bnb_config,
    force_offline,
    is_out_of_memory,
    model_memory_bytes,
    never_ask_to_run_code,
    resolve_device,
    resolve_quantization,
)

Progress = Callable[[str, float], None]


class LoadCancelled(ReasoningError):
    """The user cancelled loading; nothing stays in memory."""


@dataclass(slots=True)
class LoadedLLM:
    model: Any
    tokenizer: Any
    info: ModelInfo
    folder: LLMFolder
    warnings: list[str] = field(default_factory=list)

    def unload(self) -> None:
        """Free the model's memory (GPU included)."""
        import torch

        self.model = None
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise LoadCancelled("model loading cancelled")


def load_llm(folder: LLMFolder, device: str = "auto", quantization: str = "auto",
             memory_budget_gb: float | None = None, progress: Progress | None = None,
             cancel: threading.Event | None = None) -> LoadedLLM:
    """Load tokenizer and model; raise ModelLoadError with the folder on any failure."""
    force_offline()
    report = progress or (lambda _msg, _frac: None)
    warnings: list[str] = []
    import torch

    if device == "auto" and not torch.cuda.is_available():
        warnings.append("no CUDA GPU found: the model runs on the CPU and will be slow")
    dev = resolve_device(device)
    quant = resolve_quantization(quantization, dev, "nf4" if dev == "cuda" else "none")
    need = folder.estimate_bytes(quant)
    report(f"needs about {need / 2**30:.1f} GiB ({quant})", 0.05)
    max_memory = None
    if dev == "cuda":
        free, total = torch.cuda.mem_get_info()
        budget = int(memory_budget_gb * 2**30) if memory_budget_gb else int(free * 0.9)
        budget = min(budget, free)
        if need > budget:
            raise ModelLoadError(
                f"needs about {need / 2**30:.1f} GiB of GPU memory with {quant} but "
                f"{budget / 2**30:.1f} GiB is available (of {total / 2**30:.0f} GiB); "
                "try --quantization nf4, a smaller model, or --device cpu", str(folder.path))
        max_memory = {0: budget, "cpu": 0}
    _check(cancel)
    t0 = time.perf_counter()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    never_ask_to_run_code()
    try:
        report("loading tokenizer", 0.1)
        tokenizer = AutoTokenizer.from_pretrained(str(folder.path), local_files_only=True,
                                                  trust_remote_code=False)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
        _check(cancel)
        report("loading weights", 0.2)
        kwargs: dict[str, Any] = {"local_files_only": True, "low_cpu_mem_usage": True,
                                  "trust_remote_code": False}
        qconf = bnb_config(quant, dev)
        if qconf is not None:
            kwargs["quantization_config"] = qconf
        if dev == "cuda":
            kwargs["device_map"] = "auto"
            kwargs["max_memory"] = max_memory
            if qconf is None:
                kwargs["dtype"] = (torch.bfloat16 if torch.cuda.is_bf16_supported()
                                   else torch.float16)
        else:
            kwargs["device_map"] = "cpu"
            if qconf is None and quant in ("none", "bf16"):
                kwargs["dtype"] = torch.float32 if folder.params < 500_000_000 else torch.bfloat16
        model = AutoModelForCausalLM.from_pretrained(str(folder.path), **kwargs)
        model.eval()
    except (ModelLoadError, LoadCancelled):
        raise
    except Exception as exc:
        gc.collect()
        if dev == "cuda":
            torch.cuda.empty_cache()
        if is_out_of_memory(exc):
            raise ModelLoadError(f"out of {'GPU ' if dev == 'cuda' else ''}memory while "
                                 f"loading with {quant}; try --quantization nf4 or a smaller "
                                 "model", str(folder.path)) from exc
        raise ModelLoadError(f"cannot load: {type(exc).__name__}: {exc}",
                             str(folder.path)) from exc
    if cancel is not None and cancel.is_set():
        del model
        gc.collect()
        if dev == "cuda":
            torch.cuda.empty_cache()
        raise LoadCancelled("model loading cancelled; memory released")
    report("hashing weights", 0.9)
    digest = file_sha256(folder.weight_files[0]) if len(folder.weight_files) == 1 else (
        _combined_sha(folder))
    info = ModelInfo(
        id=str(folder.name), version=str(folder.config.get("transformers_version", "")),
        sha256=digest, device=dev, quantization=quant, path=str(folder.path), kind="llm",
        load_seconds=time.perf_counter() - t0, memory_bytes=model_memory_bytes(model))
    report("ready", 1.0)
    return LoadedLLM(model, tokenizer, info, folder, warnings)


def _combined_sha(folder: LLMFolder) -> str:
    import hashlib

    h = hashlib.sha256()
    for f in folder.weight_files:
        h.update(f"{f.name}:{file_sha256(f)}\n".encode())
    return h.hexdigest()
