"""Validate a local Hugging Face causal-LM folder and estimate its memory before loading."""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

from osler.reasoning.checksums import SUMS, verify_folder
from osler.reasoning.errors import ModelLoadError
from osler.reasoning.folder_screen import screen_folder

TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json", "tokenizer_config.json")
DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
               "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1}
NF4_BYTES_PER_PARAM = 0.5 + 0.5 / 64 * 0.5 + 4 / (64 * 256)  # 4-bit + double-quantised absmax


@dataclass(frozen=True, slots=True)
class LLMFolder:
    """A validated model folder: its config and the tensors its weights hold."""

    path: Path
    config: dict
    weight_files: tuple[Path, ...]
    params: int
    linear_params: int  # parameters in 2-D projection weights (what bitsandbytes quantizes)
    stored_bytes: int

    @property
    def name(self) -> str:
        return self.config.get("_name_or_path") or self.path.name

    def estimate_bytes(self, quantization: str, context: int = 4096) -> int:
        """Weights in the chosen format + KV cache for `context` tokens + 10% overhead."""
        other = self.params - self.linear_params
        per = {"none": 2.0, "bf16": 2.0, "int8": 1.0 + 4 / 4096, "nf4": NF4_BYTES_PER_PARAM}
        weights = self.linear_params * per.get(quantization, 2.0) + other * 2.0
        c = self.config
        layers = int(c.get("num_hidden_layers", 0) or 0)
        heads = int(c.get("num_attention_heads", 1) or 1)
        kv = int(c.get("num_key_value_heads", heads) or heads)
        head_dim = int(c.get("head_dim") or (int(c.get("hidden_size", 0)) // heads))
        kv_cache = 2 * layers * kv * head_dim * context * 2
        return int((weights + kv_cache) * 1.1)


def _safetensors_header(path: Path) -> dict:
    with path.open("rb") as fh:
        raw = fh.read(8)
        if len(raw) < 8:
            raise ModelLoadError("truncated safetensors file", str(path.parent), path.name)
        (n,) = struct.unpack("<Q", raw)
        if n > 100_000_000:
            raise ModelLoadError("not a safetensors file (bad header)", str(path.parent),
                                 path.name)
        try:
            return json.loads(fh.read(n))
        except ValueError as exc:
            raise ModelLoadError("not a safetensors file (bad header)", str(path.parent),
                                 path.name) from exc


def inspect_folder(folder: str | Path) -> LLMFolder:
    """Check config, tokenizer and weights are present and consistent; count parameters.

    Folders holding code or pickles are refused first (folder_screen); a SHA256SUMS, when
    the folder has one, must match."""
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise ModelLoadError("no such model folder", str(path))
    screen_folder(path)
    if (path / SUMS).is_file():
        verify_folder(path)
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelLoadError("missing: not a Hugging Face model folder", str(path),
                             "config.json") from exc
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"unreadable ({exc})", str(path), "config.json") from exc
    archs = config.get("architectures") or []
    if not any(str(a).endswith(("ForCausalLM", "ForConditionalGeneration")) for a in archs):
        raise ModelLoadError(
            f"not a causal language model (architectures: {archs or 'none'}); Osler needs a "
            "*ForCausalLM model such as Llama, Gemma or Mistral", str(path), "config.json")
    if not any((path / f).is_file() for f in TOKENIZER_FILES):
        raise ModelLoadError("no tokenizer (tokenizer.json, tokenizer.model or vocab.json)",
                             str(path))
    index = path / "model.safetensors.index.json"
    if index.is_file():
        try:
            names = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        except (OSError, ValueError, KeyError) as exc:
            raise ModelLoadError(f"unreadable shard index ({exc})", str(path), index.name) from exc
        files = [path / n for n in names]
        for f in files:
            if not f.is_file():
                raise ModelLoadError("shard listed in the index is missing", str(path), f.name)
    else:
        files = sorted(path.glob("*.safetensors"))
    if not files:  # pickled weights were refused by screen_folder
        raise ModelLoadError("no weights (*.safetensors)", str(path))
    params = linear = stored = 0
    for f in files:
        header = _safetensors_header(f)
        stored += f.stat().st_size
        for name, t in header.items():
            if name == "__metadata__" or not isinstance(t, dict):
                continue
            n = 1
            for d in t.get("shape", []):
                n *= int(d)
            params += n
            if len(t.get("shape", [])) == 2 and "embed" not in name and "lm_head" not in name:
                linear += n
    return LLMFolder(path, config, tuple(files), params, linear, stored)
