"""Score candidate diagnoses by the model's likelihood of each as the answer to one prompt.

The prompt runs once; its KV cache is repeated across the candidates (one batch), and each
candidate's log-likelihood is the sum of its tokens' log-probabilities, so softmax over the
candidate set gives comparable probabilities.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def candidate_loglik(model: Any, tokenizer: Any, prompt: str, candidates: list[str],
                     batch: int = 32) -> np.ndarray:
    """Sum of token log-probs of ' {candidate}.' after the prompt, for each candidate."""
    import torch

    device = next(model.parameters()).device
    p_ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=True).input_ids.to(device)
    with torch.inference_mode():
        out = model(input_ids=p_ids, use_cache=True)
    last = torch.log_softmax(out.logits[0, -1].float(), dim=-1)
    scores = np.zeros(len(candidates))
    for start in range(0, len(candidates), batch):
        chunk = candidates[start : start + batch]
        toks = [tokenizer(f" {c}.", add_special_tokens=False).input_ids for c in chunk]
        width = max(len(t) for t in toks)
        ids = torch.full((len(chunk), width), tokenizer.pad_token_id or 0, dtype=torch.long)
        mask = torch.zeros((len(chunk), p_ids.shape[1] + width), dtype=torch.long)
        mask[:, : p_ids.shape[1]] = 1
        for i, t in enumerate(toks):
            ids[i, : len(t)] = torch.tensor(t)
            mask[i, p_ids.shape[1] : p_ids.shape[1] + len(t)] = 1
        cache = _repeat_cache(output_cache(out), len(chunk))
        with torch.inference_mode():
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device),
                           use_cache=True, **cache_kwargs(model, cache)).logits.float()
        logp = torch.log_softmax(logits, dim=-1)
        for i, t in enumerate(toks):
            total = float(last[t[0]])
            for k in range(1, len(t)):
                total += float(logp[i, k - 1, t[k]])
            scores[start + i] = total
    return scores


def cache_kwargs(model: Any, cache: Any) -> dict[str, Any]:
    """Pass a KV cache under the name this transformers version uses ('cache' in 5.x,
    'past_key_values' before)."""
    import inspect

    params = inspect.signature(model.forward).parameters
    return {"cache" if "cache" in params else "past_key_values": cache}


def output_cache(out: Any) -> Any:
    return getattr(out, "cache", None) if hasattr(out, "cache") else out.past_key_values


def _repeat_cache(cache: Any, n: int) -> Any:
    import copy

    c = copy.deepcopy(cache)
    if hasattr(c, "batch_repeat_interleave"):
        c.batch_repeat_interleave(n)
        return c
    return tuple(tuple(t.repeat_interleave(n, dim=0) for t in layer) for layer in c)


def to_probabilities(loglik: np.ndarray) -> np.ndarray:
    z = loglik - loglik.max()
    p = np.exp(z)
    return p / p.sum()
