"""A tiny random Llama-style causal LM and tokenizer, built and saved by the tests (no download)."""

from __future__ import annotations

from pathlib import Path

CORPUS = [
    "The most likely diagnosis is pulmonary embolism, pneumonia, asthma or migraine.",
    "Patient: 58-year-old male. Findings: shortness of breath present, fever absent.",
    "Record: heart rate 118 /min, oxygen saturation 89 %, D-dimer raised.",
    "Explain briefly, citing the bracketed ids, why the diagnosis fits.",
    '{"diagnosis": "Pneumonia", "rationale": "cough and fever", "citations": ["cough"]}',
]


def build_tiny_llm(out: Path, arch: str = "llama", bos: bool = False) -> Path:
    """Save a 2-layer random model with hidden size 64 and a byte-level BPE tokenizer
    (which puts <s> before every text when `bos`, as Llama's own tokenizer does)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tk = Tokenizer(models.BPE(unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<pad>", "<s>", "</s>",
                                                                  "<unk>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tk.train_from_iterator(CORPUS * 20, trainer)
    if bos:
        tk.post_processor = processors.TemplateProcessing(
            single="<s> $A", special_tokens=[("<s>", tk.token_to_id("<s>"))])
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, bos_token="<s>", eos_token="</s>",
                                  unk_token="<unk>", pad_token="<pad>")
    out.mkdir(parents=True, exist_ok=True)
    tok.save_pretrained(out)
    import torch

    torch.manual_seed(0)
    if arch == "gemma":
        from transformers import GemmaConfig, GemmaForCausalLM

        cfg = GemmaConfig(vocab_size=len(tok), hidden_size=64, intermediate_size=128,
                          num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                          head_dim=16, pad_token_id=tok.pad_token_id,
                          bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
        model = GemmaForCausalLM(cfg)
    else:
        from transformers import LlamaConfig, LlamaForCausalLM

        cfg = LlamaConfig(vocab_size=len(tok), hidden_size=64, intermediate_size=128,
                          num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                          pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id,
                          eos_token_id=tok.eos_token_id)
        model = LlamaForCausalLM(cfg)
    model.save_pretrained(out, safe_serialization=True)
    return out
