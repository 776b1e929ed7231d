"""GPU benchmark for bring-your-own LLMs: a Llama-3-8B-shaped model with random weights.

For nf4, int8 and bf16 (loaded through Osler's own loader, osler.reasoning.llm.loader):
VRAM, time to first token for a 2k-token prompt, decode tokens/s, and the fraction of the
memory-bandwidth bound (weight bytes read per token / GPU bandwidth) each reaches.
Target: nf4 decode >= 50% of its bound and faster than bf16.

    python -m bench.llm_bench                 # on a CUDA machine (writes the table)
    python -m bench.llm_bench --tiny          # CPU smoke run of the same code path
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

LLAMA3_8B = {"vocab_size": 128256, "hidden_size": 4096, "intermediate_size": 14336,
             "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
             "max_position_embeddings": 8192, "rope_theta": 500000.0}
TINY = {"vocab_size": 512, "hidden_size": 128, "intermediate_size": 256,
        "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
        "max_position_embeddings": 4096}
# Peak HBM bandwidth in bytes/s by device name fragment (vendor specifications).
BANDWIDTH = {"H200": 4.8e12, "H100": 3.35e12, "A100": 2.0e12, "L40S": 0.864e12,
             "RTX 4090": 1.008e12}


def build_model_folder(shape: dict, folder: Path, device: str) -> None:
    """Random-weight Llama of the given shape saved as safetensors with a byte-level tokenizer."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    vocab = {f"t{i}": i for i in range(shape["vocab_size"] - 3)}
    vocab.update({"<unk>": len(vocab), "<s>": len(vocab) + 1, "</s>": len(vocab) + 2})
    tk = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    PreTrainedTokenizerFast(tokenizer_object=tk, unk_token="<unk>", bos_token="<s>",
                            eos_token="</s>", pad_token="<unk>").save_pretrained(folder)
    cfg = LlamaConfig(**shape, bos_token_id=vocab["<s>"], eos_token_id=vocab["</s>"])
    torch.manual_seed(0)
    dtype = torch.bfloat16
    with torch.device(device):
        model = LlamaForCausalLM(cfg).to(dtype)
    model.save_pretrained(folder, safe_serialization=True, max_shard_size="5GB")
    del model
    if device == "cuda":
        torch.cuda.empty_cache()


def measure(folder: Path, quantization: str, device: str, prompt_tokens: int,
            new_tokens: int) -> dict:
    import torch

    from osler.reasoning.llm.folder import inspect_folder
    from osler.reasoning.llm.loader import load_llm
    from osler.reasoning.llm.scoring import cache_kwargs, output_cache

    if device == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    llm = load_llm(inspect_folder(folder), device=device, quantization=quantization)
    load_s = time.perf_counter() - t0
    model = llm.model
    weight_bytes = llm.info.memory_bytes
    vocab = model.config.vocab_size
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, vocab - 3, (1, prompt_tokens), generator=g).to(model.device)

    def sync():
        if device == "cuda":
            torch.cuda.synchronize()

    with torch.inference_mode():
        model(input_ids=ids[:, :32])  # warm-up (kernels, allocator)
        sync()
        t0 = time.perf_counter()
        out = model(input_ids=ids, use_cache=True)
        first = out.logits[:, -1].argmax(-1, keepdim=True)
        sync()
        ttft = time.perf_counter() - t0
        cache = output_cache(out)
        tok = first
        sync()
        t0 = time.perf_counter()
        for _ in range(new_tokens):
            out = model(input_ids=tok, use_cache=True, **cache_kwargs(model, cache))
            cache = output_cache(out)
            tok = out.logits[:, -1].argmax(-1, keepdim=True)
        sync()
        decode_s = time.perf_counter() - t0
    peak = torch.cuda.max_memory_allocated() if device == "cuda" else weight_bytes
    name = torch.cuda.get_device_name(0) if device == "cuda" else "cpu"
    bw = next((v for k, v in BANDWIDTH.items() if k in name), None)
    tps = new_tokens / decode_s
    bound = bw / weight_bytes if bw else None
    llm.unload()
    return {"quantization": quantization, "device": name, "load_s": round(load_s, 2),
            "weights_gib": round(weight_bytes / 2**30, 2), "peak_vram_gib": round(peak / 2**30, 2),
            "ttft_s": round(ttft, 4), "prompt_tokens": prompt_tokens,
            "decode_tokens_per_s": round(tps, 2),
            "bandwidth_bound_tokens_per_s": round(bound, 1) if bound else None,
            "fraction_of_bound": round(tps / bound, 3) if bound else None}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tiny", action="store_true", help="tiny model on CPU (smoke test)")
    ap.add_argument("--prompt", type=int, default=2048)
    ap.add_argument("--new", type=int, default=128)
    ap.add_argument("--quant", nargs="+", default=["nf4", "int8", "bf16"])
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    import torch

    device = "cpu" if args.tiny or not torch.cuda.is_available() else "cuda"
    if device == "cpu" and not args.tiny:
        print("no CUDA GPU: run with --tiny for a CPU smoke test", file=sys.stderr)
        return 2
    shape = TINY if args.tiny else LLAMA3_8B
    work = args.workdir or Path(tempfile.mkdtemp(prefix="osler-llm-bench-"))
    folder = work / ("tiny-llama" if args.tiny else "llama3-8b-shape")
    if not (folder / "config.json").exists():
        t0 = time.perf_counter()
        build_model_folder(shape, folder, device)
        print(f"built {folder.name} in {time.perf_counter() - t0:.0f}s", flush=True)
    rows = []
    for q in args.quant:
        quant = "none" if q == "bf16" else q
        r = measure(folder, quant, device, args.prompt if not args.tiny else 256,
                    args.new if not args.tiny else 16)
        r["quantization"] = q
        rows.append(r)
        print(json.dumps(r), flush=True)
    print("\n| format | weights GiB | peak VRAM GiB | TTFT (2k prompt) s | decode tok/s | "
          "bound tok/s | fraction of bound |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['quantization']} | {r['weights_gib']} | {r['peak_vram_gib']} | "
              f"{r['ttft_s']} | {r['decode_tokens_per_s']} | "
              f"{r['bandwidth_bound_tokens_per_s']} | {r['fraction_of_bound']} |")
    by = {r["quantization"]: r for r in rows}
    if "nf4" in by and "bf16" in by and by["nf4"]["fraction_of_bound"] is not None:
        ok = (by["nf4"]["fraction_of_bound"] >= 0.5
              and by["nf4"]["decode_tokens_per_s"] > by["bf16"]["decode_tokens_per_s"])
        print(f"target (nf4 >= 50% of bound and faster than bf16): {'PASS' if ok else 'FAIL'}")
    out = os.environ.get("OUT")
    if out:
        Path(out, "llm_bench.json").write_text(json.dumps(rows, indent=1))
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
