"""A short rationale as JSON: Osler writes the JSON structure, the model fills in the text and
the citations; citations that are not ids from the prompt are dropped and counted."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from osler.reasoning.llm.scoring import cache_kwargs, output_cache

_QUOTED = re.compile(r'"([^"\\]{1,200})"')
MAX_CITATIONS = 8


@dataclass(frozen=True, slots=True)
class Constraint:
    """What a generation may produce, for engines that can enforce it (a server's grammar):
    'text' is a JSON string body ending at a double quote; 'ids' is a list of quoted ids from
    `ids` ending at ']'. The in-process engine decodes greedily without it; both validate."""

    kind: str  # "text" or "ids"
    ids: tuple[str, ...] = ()


Generate = Callable[[str, str, int, "Callable[[str], None] | None", "threading.Event | None",
                     "Constraint | None"], str]
"""(prompt, stop, max_new_tokens, on_token, cancel, constraint) -> text before `stop`."""


def greedy(model: Any, tokenizer: Any, prompt: str, stop: str, max_new_tokens: int,
           on_token: Callable[[str], None] | None = None,
           cancel: threading.Event | None = None) -> str:
    """Greedy decoding until `stop` appears (not included) or the token budget ends."""
    import torch

    device = next(model.parameters()).device
    ids = tokenizer(prompt, return_tensors="pt").input_ids.to(device)
    eos = tokenizer.eos_token_id
    text = ""
    cache = None
    new: list[int] = []
    with torch.inference_mode():
        for _ in range(max_new_tokens):
            if cancel is not None and cancel.is_set():
                break
            out = model(input_ids=ids, use_cache=True,
                        **(cache_kwargs(model, cache) if cache is not None else {}))
            cache = output_cache(out)
            tok = int(out.logits[0, -1].argmax())
            if tok == eos:
                break
            new.append(tok)
            decoded = tokenizer.decode(new, skip_special_tokens=True)
            piece = decoded[len(text):]
            text = decoded
            if stop in text:
                piece = piece[: max(0, len(piece) - (len(text) - text.index(stop)))]
                if on_token and piece:
                    on_token(piece)
                return text[: text.index(stop)]
            if on_token and piece:
                on_token(piece)
            ids = torch.tensor([[tok]], device=device)
    return text


def write_rationale(model: Any, tokenizer: Any, prompt: str, diagnoses: list[str],
                    valid_ids: set[str], on_token: Callable[[str], None] | None = None,
                    max_new_tokens: int = 80, cancel: threading.Event | None = None
                    ) -> dict[str, Any]:
    """The rationale from a model in this process (greedy decoding; see compose_rationale)."""

    def generate(text: str, stop: str, budget: int, token: Callable[[str], None] | None,
                 stop_event: threading.Event | None, _constraint: Constraint | None) -> str:
        return greedy(model, tokenizer, text, stop, budget, token, stop_event)

    return compose_rationale(generate, prompt, diagnoses, valid_ids, on_token, max_new_tokens,
                             cancel)


def compose_rationale(generate: Generate, prompt: str, diagnoses: list[str],
                      valid_ids: set[str], on_token: Callable[[str], None] | None = None,
                      max_new_tokens: int = 80, cancel: threading.Event | None = None
                      ) -> dict[str, Any]:
    """{'diagnoses': [{'name', 'rationale', 'citations'}], 'citations_kept', 'citations_dropped',
    'dropped': [...]} — always valid JSON, citations always valid ids. The same prompts for
    every engine; GENERATE writes the text (streamed through on_token) and the citations."""
    emit = on_token or (lambda _t: None)
    ids = tuple(sorted(valid_ids))
    out: list[dict[str, Any]] = []
    kept = 0
    dropped: list[str] = []
    emit('{"diagnoses": [')
    for i, name in enumerate(diagnoses):
        head = (f'{prompt}\n\nExplain briefly, citing the bracketed ids, why "{name}" fits.\n'
                f'{{"diagnosis": {json.dumps(name)}, "rationale": "')
        emit(("," if i else "") + f'{{"diagnosis": {json.dumps(name)}, "rationale": "')
        text = generate(head, '"', max_new_tokens, lambda piece: emit(json.dumps(piece)[1:-1]),
                        cancel, Constraint("text")).strip()
        cites_raw = generate(f'{head}{text}", "citations": [', "]", max_new_tokens // 2, None,
                             cancel, Constraint("ids", ids))
        cited = []
        for c in _QUOTED.findall(cites_raw) or [x.strip() for x in cites_raw.split(",")]:
            c = c.strip().strip("[]")
            if not c:
                continue
            if c in valid_ids and c not in cited:
                cited.append(c)
                kept += 1
            else:
                dropped.append(c[:80])
        emit(f'", "citations": {json.dumps(cited)}}}')
        out.append({"name": name, "rationale": text, "citations": cited})
    emit("]}")
    return {"diagnoses": out, "citations_kept": kept, "citations_dropped": len(dropped),
            "dropped": dropped[:20]}
