"""The shipped model's architecture: a transformers PreTrainedModel over a *set* of finding
tokens (findings have no order), wide-and-deep:

- wide: one learned weight per (token, condition), summed over the case's tokens; initialised
  to the knowledge base's log-likelihoods, so training starts from the exact KB posterior and
  learns the noise of real cases from there;
- deep: token embeddings summed, then an MLP, for interactions the wide part cannot express.

Saved as config.json + model.safetensors and loaded with `from_pretrained`; registered with
the transformers Auto classes under model_type "osler-ddx".
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn
from transformers import (
    AutoConfig,
    AutoModelForSequenceClassification,
    PretrainedConfig,
    PreTrainedModel,
)
from transformers.modeling_outputs import SequenceClassifierOutput


class OslerDdxConfig(PretrainedConfig):
    model_type = "osler-ddx"

    def __init__(self, vocab_size: int = 8, hidden_size: int = 256, num_deep_layers: int = 2,
                 dropout: float = 0.1, pad_token_id: int = 0, **kwargs: Any):
        # num_labels / id2label travel in kwargs so a saved config keeps its label count.
        super().__init__(pad_token_id=pad_token_id, **kwargs)
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_deep_layers = num_deep_layers
        self.dropout = dropout


class OslerDdxModel(PreTrainedModel):
    config_class = OslerDdxConfig
    base_model_prefix = "ddx"
    main_input_name = "input_ids"
    _no_split_modules: ClassVar[list[str]] = []

    def __init__(self, config: OslerDdxConfig):
        super().__init__(config)
        c = config
        self.wide = nn.Embedding(c.vocab_size, c.num_labels)
        self.embed = nn.Embedding(c.vocab_size, c.hidden_size)
        self.norm = nn.LayerNorm(c.hidden_size)
        self.deep = nn.ModuleList(nn.Linear(c.hidden_size, c.hidden_size)
                                  for _ in range(c.num_deep_layers))
        self.drop = nn.Dropout(c.dropout)
        self.classifier = nn.Linear(c.hidden_size, c.num_labels)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=0.02)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, std=0.02)
            if module is getattr(self, "wide", None):
                nn.init.zeros_(module.weight)
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                labels: torch.Tensor | None = None, **_: Any) -> SequenceClassifierOutput:
        if attention_mask is None:
            attention_mask = (input_ids != self.config.pad_token_id).long()
        mask = attention_mask.unsqueeze(-1).to(self.wide.weight.dtype)
        wide = (self.wide(input_ids) * mask).sum(dim=1)
        h = self.norm((self.embed(input_ids) * mask.to(self.embed.weight.dtype)).sum(dim=1))
        for layer in self.deep:
            h = self.drop(nn.functional.gelu(layer(h)))
        logits = wide.float() + self.classifier(h).float()
        loss = None
        if labels is not None:
            loss = nn.functional.cross_entropy(logits, labels)
        return SequenceClassifierOutput(loss=loss, logits=logits)


AutoConfig.register("osler-ddx", OslerDdxConfig, exist_ok=True)
AutoModelForSequenceClassification.register(OslerDdxConfig, OslerDdxModel, exist_ok=True)
