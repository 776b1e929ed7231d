"""Engines turn cases into probabilities over the KB's conditions.

- `ShippedEngine`: the transformers model shipped in models/ (verified, local, offline).
- `NaiveBayesEngine`: the exact KB posterior; the baseline, and the engine used when a
  clinic's KB pack differs from the one the shipped model was trained on.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from osler.reasoning.baseline import NaiveBayes
from osler.reasoning.calibration import TextCalibration
from osler.reasoning.case import CaseInput
from osler.reasoning.checksums import verify_folder
from osler.reasoning.encoding import case_text
from osler.reasoning.errors import ModelLoadError
from osler.reasoning.folder_screen import screen_folder
from osler.reasoning.kbmatrix import KBMatrix
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
from osler.reasoning.signature import is_shipped_folder, verify_shipped

REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json", "osler.json")
BATCH = 256


class Engine(Protocol):
    info: ModelInfo
    warnings: list[str]
    calibration: TextCalibration

    def predict(self, cases: list[CaseInput]) -> np.ndarray:
        """(N, C) probabilities over the KB's conditions (rows sum to 1), aligned with
        KBMatrix.condition_ids; `calibration.unlisted_share(case.coverage)` is the share
        shown as 'not in the list'."""
        ...


UNCALIBRATED = ("probabilities are not calibrated on real clinical writing for this engine "
                "and knowledge base: read them as a ranking")


class NaiveBayesEngine:
    """The knowledge base's own posterior, as an engine."""

    def __init__(self, m: KBMatrix, kb_name: str = "kb", kb_version: str = "",
                 kb_sha256: str = "", prior_exponent: float = 1.0, rules: object | None = None,
                 calibration: TextCalibration | None = None):
        self.nb = NaiveBayes(m, prior_exponent, rules)
        self.calibration = calibration or TextCalibration()
        self.warnings: list[str] = [] if self.calibration.fitted else [UNCALIBRATED]
        self.info = ModelInfo(id=f"{kb_name}-naive-bayes", version=kb_version,
                              sha256=kb_sha256, device="cpu", quantization="none",
                              kind="baseline", kb=f"{kb_name} {kb_version}".strip())

    def scores(self, cases: list[CaseInput]) -> np.ndarray:
        """(N, C) log-scores before calibration."""
        return np.stack([self.nb.log_posterior(c) for c in cases])

    def predict(self, cases: list[CaseInput]) -> np.ndarray:
        return self.calibration.probabilities(self.scores(cases))


def read_model_meta(folder: Path) -> dict[str, Any]:
    """osler.json of a shipped-model folder (id, version, calibration, KB it was trained on)."""
    try:
        meta = json.loads((folder / "osler.json").read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelLoadError("missing: not an Osler model folder", str(folder),
                             "osler.json") from exc
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"unreadable ({exc})", str(folder), "osler.json") from exc
    for key in ("id", "version", "temperature", "prior_exponent", "labels"):
        if key not in meta:
            raise ModelLoadError(f"missing field {key!r}", str(folder), "osler.json")
    return meta


class ShippedEngine:
    """A verified local BERT-style classifier over finding tokens.

    The install's own model folder must carry the project's signature over SHA256SUMS; any
    other Osler model folder (a clinic's own) is checked against its SHA256SUMS and pinned
    at first use (osler.reasoning.pins, by the service)."""

    pin_warning: str | None = None

    def __init__(self, folder: str | Path, m: KBMatrix, device: str = "auto",
                 quantization: str = "auto", verify: bool = True, rules: object | None = None):
        force_offline()
        path = Path(folder).expanduser()
        if not path.is_dir():
            raise ModelLoadError("no such model folder", str(path))
        for name in REQUIRED_FILES:
            if not (path / name).is_file():
                raise ModelLoadError("missing: not an Osler model folder", str(path), name)
        screen_folder(path)  # before any library opens a file of it
        self.shipped = is_shipped_folder(path)
        if self.shipped:
            sums = verify_shipped(path, REQUIRED_FILES)
        else:
            sums = verify_folder(path, REQUIRED_FILES) if verify else {}
        meta = read_model_meta(path)
        self.meta = meta
        self.m = m
        self.warnings: list[str] = []
        t0 = time.perf_counter()
        dev, quant, memory = self._load_network(path, device, quantization)
        labels: list[str] = meta["labels"]
        self._model_cols = np.array([i for i, c in enumerate(labels) if c in m.cond_index])
        self._kb_cols = np.array([m.cond_index[labels[i]] for i in self._model_cols])
        missing = len(labels) - len(self._model_cols)
        if missing:
            self.warnings.append(f"{missing} of the model's {len(labels)} conditions are not in "
                                 "the current knowledge base and are not shown")
        unknown = len(m.condition_ids) - len(self._kb_cols)
        if unknown:
            self.warnings.append(f"{unknown} knowledge-base conditions are unknown to the model "
                                 "and get no probability")
        self.temperature = float(meta["temperature"])
        self._log_prior = (float(meta["prior_exponent"]) * m.log_prior[self._kb_cols])
        self.rules = rules
        try:
            self.calibration = TextCalibration.from_json(
                meta.get("text_calibration", {}).get("model"))
        except (ValueError, TypeError, AttributeError) as exc:
            raise ModelLoadError(f"bad text_calibration ({exc})", str(path), "osler.json") from exc
        if not self.calibration.fitted:
            self.warnings.append(UNCALIBRATED)
        self.info = ModelInfo(
            id=str(meta["id"]), version=str(meta["version"]),
            sha256=sums.get("model.safetensors", ""), device=dev, quantization=quant,
            path=str(path), kind="shipped", load_seconds=time.perf_counter() - t0,
            memory_bytes=memory,
            kb=f"{meta.get('kb', {}).get('name', '')} {meta.get('kb', {}).get('version', '')}",
        )

    def _load_network(self, path: Path, device: str, quantization: str
                      ) -> tuple[str, str, int]:
        """Load tokenizer and network with transformers (any device, quantized or not);
        (device, quantization, memory in bytes)."""
        dev = resolve_device(device)
        quant = resolve_quantization(quantization, dev, "none")
        import torch
        from transformers import AutoModelForSequenceClassification, PreTrainedTokenizerFast

        import osler.reasoning.ddx_model  # noqa: F401 - registers the architecture

        never_ask_to_run_code()
        try:
            self.tokenizer = PreTrainedTokenizerFast.from_pretrained(
                str(path), local_files_only=True, trust_remote_code=False)
            qconf = bnb_config(quant, dev, keep=("classifier",))
            kwargs: dict[str, Any] = {"local_files_only": True, "trust_remote_code": False}
            if qconf is not None:
                kwargs["quantization_config"] = qconf
                kwargs["device_map"] = dev
            model = AutoModelForSequenceClassification.from_pretrained(str(path), **kwargs)
            if qconf is None:
                model = model.to(dev)
        except ModelLoadError:
            raise
        except Exception as exc:
            if is_out_of_memory(exc):
                raise ModelLoadError(
                    f"out of {'GPU ' if dev == 'cuda' else ''}memory while loading; try "
                    "--quantization nf4 or --device cpu", str(path)) from exc
            raise ModelLoadError(f"cannot load the model: {type(exc).__name__}: {exc}",
                                 str(path)) from exc
        model.eval()
        self.model = model
        self.device = dev
        self._torch = torch
        return dev, quant, model_memory_bytes(model)

    def logits(self, cases: list[CaseInput]) -> np.ndarray:
        """Raw model logits over the model's own labels (for calibration)."""
        torch = self._torch
        out = []
        for i in range(0, len(cases), BATCH):
            texts = [case_text(c) for c in cases[i : i + BATCH]]
            enc = self.tokenizer(texts, padding=True, return_tensors="pt",
                                 return_token_type_ids=False)
            enc = {k: v.to(self.device) for k, v in enc.items()}
            with torch.inference_mode():
                out.append(self.model(**enc).logits.float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, len(self.meta["labels"])))

    def scores(self, cases: list[CaseInput]) -> np.ndarray:
        """(N, C) log-scores before the text calibration: the network's synthetic-calibrated
        logits, the tempered prior and the prerequisite weights (conditions unknown to the
        model get -inf)."""
        z = self.logits(cases)[:, self._model_cols] / self.temperature + self._log_prior
        full = np.full((len(cases), len(self.m.condition_ids)), -np.inf)
        full[:, self._kb_cols] = z
        if self.rules is not None:
            full += np.stack([self.rules.log_factors(c) for c in cases])  # type: ignore[attr-defined]
        return full

    def predict(self, cases: list[CaseInput]) -> np.ndarray:
        return self.calibration.probabilities(self.scores(cases))
