"""Who the clinic server is and what it can do, asked once at connection and re-checked
before every differential: the served model's name, whatever the server reports about its
weights (file name, hash, quantization), the server software, and how it gives prompt
log-probabilities. A probe text's log-probabilities act as a fingerprint of the weights, so
a model swapped under the same name is noticed too.

Prompt log-probabilities, which Osler's scoring needs, come in two shapes:
- "echo": OpenAI's legacy `/v1/completions` with `echo: true, logprobs: N` (llama-cpp-python's
  server when started with logits_all; vLLM);
- "prompt_logprobs": vLLM's extension field of the same endpoint.
llama.cpp's own `llama-server` rejects echo and returns log-probabilities of generated tokens
only, so it cannot score candidates; Osler says so instead of guessing.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from dataclasses import dataclass
from typing import Any

from osler.reasoning.runtime import ModelInfo
from osler.reasoning.server.client import ServerClient
from osler.reasoning.server.errors import (
    ServerError,
    ServerModelError,
    ServerProtocolError,
)


class NoPromptLogprobs(ServerModelError):
    """The answer lacks prompt log-probabilities in the shape asked for (mode unsupported)."""


ECHO, PROMPT_LOGPROBS = "echo", "prompt_logprobs"
PROBE_TEXT = ("Osler identity probe. A 58-year-old man has had a cough and fever for three "
              "days; the most likely diagnosis is pneumonia.")
PROBE_TOLERANCE = 0.05  # nats per token: GPU batching moves log-probabilities a little
_QUANT = re.compile(
    r"(?<![A-Za-z0-9])(I?Q\d(?:_[A-Z0-9]+)*|BF16|F16|F32|FP16|FP8|AWQ|GPTQ|INT4|INT8|W4A16|"
    r"W8A8|NF4|MXFP4)(?![A-Za-z0-9])", re.IGNORECASE)
_SHA = re.compile(r"sha256[:=@-]?([0-9a-f]{64})", re.IGNORECASE)


def quantization_of(*names: str) -> str:
    """Quantization as named in a GGUF file name or model name (Q4_K_M, AWQ…), else ''."""
    for name in names:
        m = _QUANT.search(name or "")
        if m:
            return m.group(1).upper()
    return ""


@dataclass(frozen=True, slots=True)
class Probe:
    """Prompt log-probabilities of a text: one value per scored prompt token (the first
    token, which nothing precedes, has none)."""

    tokens: tuple[str, ...]
    logprobs: tuple[float, ...]

    @property
    def total(self) -> float:
        return float(sum(self.logprobs))

    def fingerprint(self) -> str:
        """Short hash of the tokens and log-probabilities rounded to 0.1 nat."""
        text = "|".join(self.tokens) + "#" + ",".join(f"{v:.1f}" for v in self.logprobs)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def matches(self, other: Probe) -> bool:
        return self.tokens == other.tokens and all(
            abs(a - b) <= PROBE_TOLERANCE for a, b in zip(self.logprobs, other.logprobs))


def prompt_logprobs(client: ServerClient, model: str, text: str, mode: str,
                    extra: dict[str, Any] | None = None, bos_dropped: bool = False) -> Probe:
    """The server's log-probabilities of TEXT's own tokens (one short request).

    BOS_DROPPED: the server leaves the BOS token out of the echoed tokens
    (llama-cpp-python), so the prompt holds one entry fewer than usage.prompt_tokens."""
    doc: dict[str, Any] = {"model": model, "prompt": text, "max_tokens": 1, "temperature": 0.0,
                           **(extra or {})}
    if mode == ECHO:
        doc.update(echo=True, logprobs=0)
    else:
        doc.update(prompt_logprobs=0)
    answer = client.request("POST", "/v1/completions", doc)
    return parse_prompt_logprobs(answer, mode, client.where, bos_dropped)


def parse_prompt_logprobs(answer: Any, mode: str, where: str = "",
                          bos_dropped: bool = False) -> Probe:
    """Probe from a completions answer; ServerProtocolError when the shape is not there.

    The prompt's entries are the first usage.prompt_tokens (less a dropped BOS): the
    generated token's entry is not reliably there (llama-cpp-python leaves it out when the
    prompt's start was cached), so counting from the end would drop a prompt token."""
    tried = "POST /v1/completions"
    try:
        choice = answer["choices"][0]
    except (KeyError, IndexError, TypeError):
        raise NoPromptLogprobs("the answer has no choices: not an OpenAI completions "
                               "answer", where, tried) from None
    prompt_count = _prompt_entries(answer, bos_dropped)
    if mode == ECHO:
        lp = choice.get("logprobs") or {}
        tokens = lp.get("tokens")
        values = lp.get("token_logprobs")
        if not isinstance(tokens, list) or not isinstance(values, list) or \
                len(tokens) != len(values):
            raise NoPromptLogprobs("no per-token log-probabilities in the answer", where,
                                   tried)
        if prompt_count is None:  # no usage block: assume one generated token at the end
            prompt_count = len(tokens) - (1 if len(tokens) > 1 else 0)
        if prompt_count > len(tokens):
            raise ServerProtocolError(f"{len(tokens)} log-probabilities for {prompt_count} "
                                      "prompt tokens", where, tried)
        pairs = [(str(t), v) for t, v in zip(tokens[:prompt_count], values[:prompt_count])]
    else:
        entries = choice.get("prompt_logprobs")
        if not isinstance(entries, list):
            raise NoPromptLogprobs("no prompt_logprobs in the answer", where, tried)
        pairs = []
        for entry in entries:
            if entry is None:
                pairs.append(("", None))
                continue
            if not isinstance(entry, dict) or not entry:
                raise NoPromptLogprobs("malformed prompt_logprobs entry", where, tried)
            # the prompt's own token is the entry of highest rank (top-1 is rank 1)
            best = max(entry.values(), key=lambda v: (v or {}).get("rank", 0) or 0)
            pairs.append((str(best.get("decoded_token", "")), best.get("logprob")))
    scored = [(t, float(v)) for t, v in pairs if isinstance(v, int | float)]
    if len(scored) < 2 or len(scored) < len(pairs) - 2:
        raise NoPromptLogprobs(
            "the server gives log-probabilities of generated tokens only, not of the prompt; "
            "Osler needs prompt log-probabilities (llama-cpp-python's server with "
            "--logits_all true, or vLLM)", where, tried)
    return Probe(tuple(t for t, _ in scored), tuple(v for _, v in scored))


def _prompt_entries(answer: dict[str, Any], bos_dropped: bool) -> int | None:
    n = (answer.get("usage") or {}).get("prompt_tokens")
    if not isinstance(n, int) or n < 1:
        return None
    return n - 1 if bos_dropped else n


@dataclass(frozen=True, slots=True)
class ServerIdentity:
    """The server and the model it serves, as far as the server says and Osler measured."""

    origin: str  # scheme://host:port: never credentials
    model: str  # the served model's name (what requests ask for)
    served: tuple[str, ...]
    software: str
    weights_file: str
    weights_sha256: str
    quantization: str
    mode: str  # ECHO or PROMPT_LOGPROBS
    probe: Probe

    def model_info(self) -> ModelInfo:
        """The differential's `model` block: names the server, the model and its weights."""
        return ModelInfo(
            id=self.model, version=self.software, sha256=self.weights_sha256, device="server",
            quantization=self.quantization or "unknown", path=self.origin, kind="server",
            extra=(("server", self.origin), ("weights", self.weights_file),
                   ("logprobs", self.mode), ("probe", self.probe.fingerprint())))

    def change_from(self, before: ServerIdentity) -> str | None:
        """What changed since BEFORE, in words, or None."""
        if before.model != self.model or before.weights_file != self.weights_file:
            return (f"the clinic server now serves {self.describe()} (was {before.describe()})")
        if before.weights_sha256 != self.weights_sha256:
            return f"the clinic server's weights hash changed for {self.model}"
        if not self.probe.matches(before.probe):
            return (f"the clinic server's model {self.model} answers differently than before "
                    "(its weights were changed under the same name)")
        return None

    def describe(self) -> str:
        bits = [b for b in (self.weights_file if self.weights_file != self.model else "",
                            self.quantization) if b]
        return self.model + (f" ({', '.join(bits)})" if bits else "")


def _models(client: ServerClient) -> list[dict[str, Any]]:
    doc = client.request("GET", "/v1/models")
    data = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(data, list) or not all(isinstance(d, dict) and d.get("id")
                                             for d in data):
        raise ServerProtocolError("GET /v1/models did not list models: not an "
                                  "OpenAI-compatible server", client.where, "GET /v1/models")
    if not data:
        raise ServerModelError("the server has no model loaded", client.where,
                               "GET /v1/models")
    return data


def _software(client: ServerClient, entry: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """('llama-cpp-python 0.3.36' / 'vLLM 0.x' / 'llama.cpp server' / 'OpenAI-compatible',
    extra facts such as llama.cpp's model_path)."""
    owner = str(entry.get("owned_by", "")).lower()
    facts: dict[str, Any] = {}
    try:
        if owner == "vllm":
            version = client.request("GET", "/version").get("version", "")
            return f"vLLM {version}".strip(), facts
        if owner == "llamacpp":
            facts = client.request("GET", "/props")
            return "llama.cpp server " + str(facts.get("build_info", "")).strip(), facts
        if owner == "me":
            info = client.request("GET", "/openapi.json").get("info", {})
            if "llama.cpp Python" in str(info.get("title", "")):
                return f"llama-cpp-python {info.get('version', '')}".strip(), facts
    except ServerError:
        pass
    return "OpenAI-compatible server", facts


def identify(client: ServerClient, wanted: str | None = None,
             before: ServerIdentity | None = None) -> ServerIdentity:
    """Ask the server who it is and find how it gives prompt log-probabilities.

    BEFORE: what it was at the last check; while the same model name is served, only the
    model list and the probe are asked again (two short requests).
    Raises ServerError subclasses naming what was tried when it is not usable."""
    models = _models(client)
    served = tuple(str(d["id"]) for d in models)
    if wanted:
        match = [d for d in models if d["id"] == wanted]
        if not match:
            raise ServerModelError(f"the model {wanted!r} is not served here (served: "
                                   f"{', '.join(served)})", client.where, "GET /v1/models")
        entry = match[0]
    else:
        entry = models[0]
    name = str(entry["id"])
    if before is not None and before.model == name:
        probe = prompt_logprobs(client, name, PROBE_TEXT, before.mode,
                                sampling_extras(before.software),
                                before.mode == ECHO and drops_bos(before.software))
        return ServerIdentity(before.origin, name, served, before.software,
                              before.weights_file, before.weights_sha256, before.quantization,
                              before.mode, probe)
    software, facts = _software(client, entry)
    path = str(facts.get("model_path") or entry.get("root") or name)
    weights_file = posixpath.basename(path.replace("\\", "/")) or name
    sha = _SHA.search(name) or _SHA.search(path)
    extra = sampling_extras(software)
    dropped = drops_bos(software)
    mode, probe, first_error = "", None, None
    for candidate in (ECHO, PROMPT_LOGPROBS):
        try:
            probe = prompt_logprobs(client, name, PROBE_TEXT, candidate, extra,
                                    dropped and candidate == ECHO)
            mode = candidate
            break
        except ServerModelError as exc:  # this way is not supported: try the next
            first_error = first_error or exc
    if probe is None:
        hint = ""
        if first_error is not None and "logits_all" in first_error.message:
            hint = "; start llama-cpp-python's server with --logits_all true"
        if software.startswith("llama.cpp server"):
            hint = ("; llama.cpp's llama-server gives no prompt log-probabilities: serve the "
                    "GGUF with llama-cpp-python's server or vLLM")
        raise ServerModelError(
            f"cannot score diagnoses: neither echo nor prompt_logprobs gave prompt "
            f"log-probabilities ({first_error.message if first_error else 'no answer'}){hint}",
            client.where, "POST /v1/completions")
    if software.startswith("llama-cpp-python"):
        _require_bos(client, name)
    return ServerIdentity(client.where, name, served, software, weights_file,
                          sha.group(1).lower() if sha else "",
                          quantization_of(name, path), mode, probe)


def _require_bos(client: ServerClient, model: str) -> None:
    """llama-cpp-python 0.3 pairs echoed prompt tokens with the right log-probabilities only
    when the model adds a BOS token; for other models its numbers are shifted by one."""
    try:
        doc = client.request("POST", "/extras/tokenize", {"input": "", "model": model})
    except ServerError:
        return  # an older server without the endpoint: nothing to check with
    if isinstance(doc, dict) and doc.get("tokens") == []:
        raise ServerModelError(
            "this model adds no BOS token, and llama-cpp-python's echoed log-probabilities "
            "are then shifted by one token; Osler will not score with them (serve this "
            "model with vLLM, or a GGUF whose tokenizer adds BOS)", client.where,
            "POST /extras/tokenize")


def drops_bos(software: str) -> bool:
    """llama-cpp-python's echo leaves the BOS token out of the echoed tokens."""
    return software.startswith("llama-cpp-python")


def sampling_extras(software: str) -> dict[str, Any]:
    """Request fields that make generation plain greedy decoding, like the in-process
    engine's, on servers whose defaults add penalties (llama.cpp: repeat_penalty 1.1)."""
    if software.startswith(("llama-cpp-python", "llama.cpp")):
        return {"repeat_penalty": 1.0, "top_k": 1}
    if software.startswith("vLLM"):
        return {"repetition_penalty": 1.0, "top_k": 1}
    return {}
