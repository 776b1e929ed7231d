"""Train the shipped differential model on synthetic cases from the KB (CPU, seeded).

Called by models/recipe/train.py; tests call it with tiny settings on tiny KBs.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from osler.knowledge import KnowledgeBase
from osler.reasoning.baseline import NaiveBayes
from osler.reasoning.calibration import fit_temperature, reliability, softmax, topk
from osler.reasoning.checksums import write_sums
from osler.reasoning.encoding import build_tokenizer, case_text, vocabulary
from osler.reasoning.kbmatrix import KBMatrix
from osler.reasoning.synthetic import CaseGenerator, NoiseModel, SyntheticCase


@dataclass(frozen=True)
class TrainConfig:
    """Every knob of a training run; saved in osler.json for reproducibility."""

    model_id: str = "osler-ddx"
    version: str = "1.2.0"
    hidden: int = 256
    layers: int = 2
    dropout: float = 0.1
    steps: int = 5000
    batch: int = 512
    lr: float = 2e-3
    weight_decay: float = 0.01
    warmup: float = 0.05
    seed: int = 20261129
    prior_exponent: float = 0.5
    anchor: float = 0.0  # L2 pull of the wide weights towards the KB log-likelihoods
    freeze_wide: bool = False  # keep the wide part exactly the KB's log-likelihoods
    kb_blend: float = 0.9  # shipped logits = (1 - kb_blend) * network + kb_blend * KB posterior
    calibration_cases: int = 20000
    eval_cases: int = 20000
    threads: int = 2
    time_budget_s: float = 3000.0
    noise: NoiseModel = field(default_factory=NoiseModel)


def nb_init(m: KBMatrix, vocab: dict[str, int]) -> np.ndarray:
    """Wide weights equal to the KB's naive-Bayes log-likelihoods (prior excluded: training
    samples conditions uniformly, and the engine adds the tempered prior at inference)."""
    from osler.reasoning.baseline import POSSIBLE_WEIGHT
    from osler.reasoning.case import ABSENT, POSSIBLE, PRESENT
    from osler.reasoning.kbmatrix import BAND_NAMES

    w = np.zeros((len(vocab), len(m.condition_ids)))
    log_p, log_q = np.log(m.p), np.log1p(-m.p)
    for j, fid in enumerate(m.finding_ids):
        w[vocab[f"{PRESENT}{fid}"]] = log_p[:, j]
        w[vocab[f"{ABSENT}{fid}"]] = log_q[:, j]
        w[vocab[f"{POSSIBLE}{fid}"]] = POSSIBLE_WEIGHT * log_p[:, j]
    for b, band in enumerate(BAND_NAMES):
        w[vocab[f"age:{band}"]] = m.age_log_lr[:, b]
    w[vocab["sex:female"]] = m.sex_log_lr[:, 0]
    w[vocab["sex:male"]] = m.sex_log_lr[:, 1]
    return w


def blend_with_kb(model: Any, w_kb: Any, temperature: float, share: float, torch: Any) -> None:
    """Fold a log-space blend with the KB posterior into the weights: the network's calibrated
    logits (z / T) weigh 1 - share, the KB's naive-Bayes log-likelihoods weigh share. The
    result is still one plain model; only its numbers change."""
    keep = (1.0 - share) / temperature
    with torch.no_grad():
        model.wide.weight.mul_(keep).add_(share * w_kb)
        model.classifier.weight.mul_(keep)
        model.classifier.bias.mul_(keep)


def _ids(tokenizer_vocab: dict[str, int], cases: list[SyntheticCase]) -> list[list[int]]:
    cls, sep, unk = tokenizer_vocab["[CLS]"], tokenizer_vocab["[SEP]"], tokenizer_vocab["[UNK]"]
    return [[cls, *(tokenizer_vocab.get(t, unk) for t in case_text(s.case).split()), sep]
            for s in cases]


def _batch(ids: list[list[int]], torch: Any) -> tuple[Any, Any]:
    n = max(len(x) for x in ids)
    arr = np.zeros((len(ids), n), dtype=np.int64)
    mask = np.zeros((len(ids), n), dtype=np.int64)
    for i, x in enumerate(ids):
        arr[i, : len(x)] = x
        mask[i, : len(x)] = 1
    return torch.from_numpy(arr), torch.from_numpy(mask)


def _logits(model: Any, vocab: dict[str, int], cases: list[SyntheticCase], torch: Any
            ) -> np.ndarray:
    model.eval()
    out = []
    with torch.inference_mode():
        for i in range(0, len(cases), 1024):
            x, mask = _batch(_ids(vocab, cases[i : i + 1024]), torch)
            out.append(model(input_ids=x, attention_mask=mask).logits.float().numpy())
    model.train()
    return np.concatenate(out)


def train(kb: KnowledgeBase, out_dir: Path, cfg: TrainConfig,
          kb_meta: dict[str, str] | None = None,
          progress: Callable[[str], None] = print) -> dict[str, Any]:
    """Train, calibrate, evaluate against the KB baseline, and write the model folder."""
    import torch

    from osler.reasoning.ddx_model import OslerDdxConfig, OslerDdxModel
    from osler.reasoning.kb_identity import kb_fingerprint

    t_start = time.perf_counter()
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    m = KBMatrix.from_kb(kb)
    n_labels = len(m.condition_ids)
    tokenizer = build_tokenizer(m.finding_ids)
    vocab = {t: i for i, t in enumerate(vocabulary(m.finding_ids))}
    config = OslerDdxConfig(
        vocab_size=len(vocab), hidden_size=cfg.hidden, num_deep_layers=cfg.layers,
        dropout=cfg.dropout, num_labels=n_labels, pad_token_id=0,
        id2label=dict(enumerate(m.condition_ids)),
        label2id={c: i for i, c in enumerate(m.condition_ids)},
    )
    model = OslerDdxModel(config)
    w0 = torch.from_numpy(nb_init(m, vocab)).float()
    with torch.no_grad():
        model.wide.weight.copy_(w0)
    model.wide.weight.requires_grad_(not cfg.freeze_wide)
    model.train()
    gen = CaseGenerator(m, cfg.noise, seed=cfg.seed)
    # No decay towards zero for the wide weights: their prior is the KB, not zero.
    deep = [p for n, p in model.named_parameters() if not n.startswith("wide")]
    groups = [{"params": deep, "weight_decay": cfg.weight_decay}]
    if not cfg.freeze_wide:
        groups.append({"params": [model.wide.weight], "weight_decay": 0.0})
    opt = torch.optim.AdamW(groups, lr=cfg.lr)
    warm = max(1, int(cfg.steps * cfg.warmup))

    def lr_at(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, cfg.steps - warm)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    losses: list[float] = []
    steps_done = 0
    for step in range(cfg.steps):
        batch = gen.sample(cfg.batch, "uniform")
        x, mask = _batch(_ids(vocab, batch), torch)
        y = torch.tensor([s.condition for s in batch])
        out = model(input_ids=x, attention_mask=mask)
        loss = torch.nn.functional.cross_entropy(out.logits, y)
        if cfg.anchor:
            loss = loss + cfg.anchor * ((model.wide.weight - w0) ** 2).sum()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        steps_done = step + 1
        if step % 200 == 0 or step == cfg.steps - 1:
            progress(f"step {step}/{cfg.steps} loss {np.mean(losses[-200:]):.3f} "
                     f"({time.perf_counter() - t_start:.0f}s)")
        if time.perf_counter() - t_start > cfg.time_budget_s:
            progress(f"time budget reached at step {step}")
            break
    train_seconds = time.perf_counter() - t_start

    # Calibrate on fresh cases drawn from the tempered prior the engine corrects towards.
    model.eval()
    cal_gen = CaseGenerator(m, cfg.noise, seed=cfg.seed + 1)
    cal = cal_gen.sample(cfg.calibration_cases, "prior", cfg.prior_exponent)
    cal_labels = np.array([s.condition for s in cal])
    offset = cfg.prior_exponent * m.log_prior
    net_t = fit_temperature(_logits(model, vocab, cal, torch), offset[None, :], cal_labels)
    network = None
    if cfg.kb_blend:
        import copy

        network = copy.deepcopy(model)
        blend_with_kb(model, w0, net_t, cfg.kb_blend, torch)
    temperature = fit_temperature(_logits(model, vocab, cal, torch), offset[None, :],
                                  cal_labels)
    progress(f"temperature {temperature:.3f} (network alone {net_t:.3f})")

    # The baseline gets the same tempered prior, so both are judged on equal terms.
    report: dict[str, Any] = {"steps": steps_done, "train_seconds": round(train_seconds, 1),
                              "final_loss": round(float(np.mean(losses[-200:])), 4),
                              "temperature": temperature, "network_temperature": net_t,
                              "kb_blend": cfg.kb_blend, "evaluation": {}}
    nb = NaiveBayes(m, cfg.prior_exponent)
    for name, noise, sampling in (("noisy_prior", cfg.noise, "prior"),
                                  ("noisy_uniform", cfg.noise, "uniform"),
                                  ("clean_prior", NoiseModel.clean(), "prior")):
        eg = CaseGenerator(m, noise, seed=cfg.seed + 7)
        cases = eg.sample(cfg.eval_cases, sampling, cfg.prior_exponent)
        labels = np.array([s.condition for s in cases])
        p_model = softmax(_logits(model, vocab, cases, torch) / temperature + offset)
        p_nb = nb.predict([s.case for s in cases])
        ece_m, table_m = reliability(p_model, labels)
        ece_nb, _ = reliability(p_nb, labels)
        report["evaluation"][name] = {
            "cases": len(cases),
            "model": {**topk(p_model, labels), "ece": round(ece_m, 4)},
            "naive_bayes": {**topk(p_nb, labels), "ece": round(ece_nb, 4)},
            "reliability_model": table_m,
        }
        if network is not None:
            p_net = softmax(_logits(network, vocab, cases, torch) / net_t + offset)
            report["evaluation"][name]["network_alone"] = {
                **topk(p_net, labels), "ece": round(reliability(p_net, labels)[0], 4)}
        progress(f"{name}: model {report['evaluation'][name]['model']} "
                 f"nb {report['evaluation'][name]['naive_bayes']}")

    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)
    meta = {
        "id": cfg.model_id,
        "version": cfg.version,
        "labels": m.condition_ids,
        "temperature": temperature,
        "prior_exponent": cfg.prior_exponent,
        "kb": kb_meta or kb_fingerprint(kb),
        "train_config": {**asdict(cfg), "noise": asdict(cfg.noise)},
    }
    (out_dir / "osler.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    (out_dir / "training_report.json").write_text(json.dumps(report, indent=1) + "\n",
                                                  encoding="utf-8")
    names = sorted(p.name for p in out_dir.iterdir()
                   if p.is_file() and p.name not in ("SHA256SUMS", "MODEL_CARD.md"))
    write_sums(out_dir, names)
    return report
