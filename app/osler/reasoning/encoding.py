"""Case <-> tokens for the shipped model: one token per finding state, plus age band and sex.

Tokens are sorted canonically (age, sex, then findings by id) so the order carries no
information; the vocabulary is saved with the model as a WordLevel tokenizer.
"""

from __future__ import annotations

from pathlib import Path

from osler.knowledge.model import age_band
from osler.reasoning.case import ABSENT, POSSIBLE, PRESENT, CaseInput
from osler.reasoning.kbmatrix import BAND_NAMES

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
MAX_TOKENS = 96


def vocabulary(finding_ids: list[str]) -> list[str]:
    """All tokens the model knows, specials first."""
    tokens = list(SPECIAL)
    tokens += [f"age:{b}" for b in BAND_NAMES] + ["sex:female", "sex:male"]
    for fid in finding_ids:
        tokens += [f"{PRESENT}{fid}", f"{ABSENT}{fid}", f"{POSSIBLE}{fid}"]
    return tokens


def case_text(case: CaseInput) -> str:
    """Whitespace-separated tokens for one case (present findings kept first if truncated)."""
    head = []
    band = age_band(case.age)
    if band is not None:
        head.append(f"age:{band}")
    if case.sex in ("female", "male"):
        head.append(f"sex:{case.sex}")
    items = sorted(case.findings, key=lambda x: (x[1] != PRESENT, x[0]))
    items = sorted(items[: MAX_TOKENS - len(head) - 2])
    return " ".join(head + [f"{state}{fid}" for fid, state in items])


def build_tokenizer(finding_ids: list[str], out_dir: Path | None = None):
    """A PreTrainedTokenizerFast over the vocabulary (saved to out_dir when given)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {tok: i for i, tok in enumerate(vocabulary(finding_ids))}
    tk = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tk.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tk.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]),
                                                  ("[SEP]", vocab["[SEP]"])])
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tk, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
        sep_token="[SEP]", mask_token="[MASK]", model_max_length=MAX_TOKENS)
    if out_dir is not None:
        fast.save_pretrained(out_dir)
    return fast
