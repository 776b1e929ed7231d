"""Who the clinic server is and what it can do, asked once at connection and re-checked
before every differential: the served model's name, whatever the server reports about its
weights (file name, hash, quantization), the server software, and how it gives prompt
log-probabilities. A probe text's log-probabilities act as a fingerprint of the weights, so
a model swapped under the same name is noticed too.

Osler's scoring needs log P(continuation | prompt), which servers give in three shapes:
- "echo": OpenAI's legacy `/v1/completions` with `echo: true, logprobs: N` (llama-cpp-python's
  server when started with logits_all; vLLM): prompt log-probabilities, P(prompt + text) /
  P(prompt);
- "prompt_logprobs": vLLM's extension field of the same endpoint, likewise;
- "forced": llama.cpp's own `llama-server`, which rejects echo: the continuation is generated
  under a grammar that allows only that text, and `n_probs` returns each generated token's
  log-probability under the model's raw distribution (before the grammar and sampling),
  summed. The tokens are those greedy decoding under the grammar picks: for ordinary words
  the tokenizer's own split, so the numbers match echo's (tested against the same GGUF).
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import unicodedata
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
FORCED, FORCED_TEXT = "forced", "forced-text"  # llama-server: token grammar / text grammar
PROBE_PREFIX = ("Osler identity probe. A 58-year-old man has had a cough and fever for three "
                "days; the most likely diagnosis is")
PROBE_TEXT = PROBE_PREFIX + " pneumonia."
LOGPROB_FLOOR = -104.0  # llama-server's probabilities are float32: nothing smaller exists
PROBE_TOLERANCE = 0.05  # nats per token: GPU batching moves log-probabilities a little
_QUANT = re.compile(
    r"(?<![A-Za-z0-9])(I?Q\d(?:_[A-Z0-9]+)*|BF16|F16|F32|FP16|FP8|AWQ|GPTQ|INT4|INT8|W4A16|"
    r"W8A8|NF4|MXFP4)(?![A-Za-z0-9])", re.IGNORECASE)
_SHA = re.compile(r"sha256[:=@-]?([0-9a-f]{64})", re.IGNORECASE)


def scoring_words(mode: str) -> str:
    """How the server's log-probabilities are obtained, in words (self-check, docs)."""
    if mode == FORCED:
        return "log-probabilities of grammar-forced tokens (llama-server, token grammar)"
    if mode == FORCED_TEXT:
        return "log-probabilities of grammar-forced text (llama-server, text grammar)"
    return f"prompt log-probabilities by {mode}"


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


def probe_logprobs(client: ServerClient, model: str, mode: str, extra: dict[str, Any],
                   bos_dropped: bool = False) -> Probe:
    """The identity probe's log-probabilities in MODE (FORCED scores its last words)."""
    if mode in (FORCED, FORCED_TEXT):
        return forced_logprobs(client, model, PROBE_PREFIX, PROBE_TEXT[len(PROBE_PREFIX):],
                               extra, by_tokens=mode == FORCED)
    return prompt_logprobs(client, model, PROBE_TEXT, mode, extra, bos_dropped)


def _gbnf_exact(text: str) -> str:
    """A grammar that allows exactly TEXT (GBNF string literal, UTF-8 as is)."""
    escaped = (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
               .replace("\r", "\\r").replace("\t", "\\t"))
    return f'root ::= "{escaped}"\n'


def forced_logprobs(client: ServerClient, model: str, prompt: str, continuation: str,
                    extra: dict[str, Any] | None = None, by_tokens: bool = True,
                    cache: dict[str, list[int]] | None = None) -> Probe:
    """log P(CONTINUATION | PROMPT) from llama-server: CONTINUATION generated under a grammar
    that allows nothing else, with each token's raw log-probability (`n_probs`).

    BY_TOKENS: the grammar names the token ids the server's tokenizer gives the text
    (`<[id]>`, llama.cpp's token grammar), so the tokens scored are exactly those echo
    would score; else a text grammar, whose tokens greedy decoding picks. CACHE holds the
    prompt's tokens between candidates.

    llama-server leaves out the log-probability of a token that ends inside a UTF-8
    character (a byte token: the character's pieces come out as one entry). When that
    happens the text is scored in its ASCII spelling instead ("Meniere's disease"), whose
    tokens are all reported; the Probe's tokens then spell that. Text that cannot be
    spelled so is refused (ServerProtocolError) rather than scored with a term missing."""
    probe, complete = _forced_once(client, model, prompt, continuation, extra, by_tokens,
                                   cache)
    if complete and probe is not None:
        return probe
    folded = ascii_spelling(continuation)
    if folded != continuation:
        probe, complete = _forced_once(client, model, prompt, folded, extra, by_tokens, cache)
        if complete and probe is not None:
            return probe
    raise ServerProtocolError(
        f"llama-server did not report every token's log-probability for {continuation!r} "
        "(a character written in byte pieces), so it cannot be scored exactly",
        client.where, "POST /completion")


def tokenize(client: ServerClient, text: str) -> list[tuple[int, bool]]:
    """llama-server's tokens for TEXT as a prompt (with BOS when the model adds one), each
    with whether its piece is whole UTF-8 (False: a byte piece of a character)."""
    doc = client.request("POST", "/tokenize", {"content": text, "add_special": True,
                                               "with_pieces": True})
    tokens = doc.get("tokens") if isinstance(doc, dict) else None
    if not isinstance(tokens, list) or not all(
            isinstance(t, dict) and isinstance(t.get("id"), int) for t in tokens):
        raise ServerProtocolError("POST /tokenize did not return token ids", client.where,
                                  "POST /tokenize")
    return [(t["id"], isinstance(t.get("piece"), str)) for t in tokens]


def _forced_once(client: ServerClient, model: str, prompt: str, continuation: str,
                 extra: dict[str, Any] | None, by_tokens: bool,
                 cache: dict[str, list[int]] | None) -> tuple[Probe | None, bool]:
    """One scoring request: (probe, True), or (probe or None, False) when a token's
    log-probability would be or was left out (byte pieces of a character)."""
    grammar, sent, n_predict = _gbnf_exact(continuation), prompt, \
        len(continuation.encode("utf-8")) + 2
    if by_tokens:
        cache = {} if cache is None else cache
        if prompt not in cache:
            cache[prompt] = [t for t, _ in tokenize(client, prompt)]
        ptoks = cache[prompt]
        full = tokenize(client, prompt + continuation)
        # The continuation's own tokens, when the prompt's tokens are a prefix of the whole
        # text's (they are when it starts with a space); else the text grammar.
        if [t for t, _ in full[: len(ptoks)]] == ptoks and len(full) > len(ptoks):
            rest = full[len(ptoks):]
            if not all(whole for _, whole in rest):
                return None, False  # llama.cpp's token grammar cannot take byte pieces
            grammar = "root ::= " + " ".join(f"<[{t}]>" for t, _ in rest) + "\n"
            sent, n_predict = ptoks, len(rest)  # nothing is sampled after it
    doc: dict[str, Any] = {"model": model, "prompt": sent, "n_predict": n_predict,
                           "grammar": grammar, "n_probs": 1, "post_sampling_probs": False,
                           "temperature": 0.0, "cache_prompt": True, **(extra or {})}
    answer = client.request("POST", "/completion", doc)
    probe = parse_forced(answer, continuation, client.where)
    predicted = answer.get("tokens_predicted")
    entries = answer.get("completion_probabilities") or []
    return probe, not isinstance(predicted, int) or predicted <= len(entries)


_SPELLING = {"\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
             "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00df": "ss",
             "\u00e6": "ae", "\u00c6": "AE", "\u0153": "oe", "\u00f8": "o", "\u00d8": "O",
             "\u03b1": "alpha", "\u03b2": "beta", "\u03b3": "gamma", "\u03b4": "delta",
             "\u03ba": "kappa", "\u03bb": "lambda", "\u00b5": "mu", "\u03bc": "mu"}


def ascii_spelling(text: str) -> str:
    """TEXT as English clinical writing spells it without accents (Ménière -> Meniere,
    Sjögren -> Sjogren, β -> beta, en dash -> hyphen); characters with no such spelling stay."""
    out = []
    for ch in text:
        if ch in _SPELLING:
            out.append(_SPELLING[ch])
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch)
                       if not unicodedata.combining(c))
        out.append(base if base.isascii() and base else ch)
    return "".join(out)


def parse_forced(answer: Any, continuation: str, where: str = "") -> Probe:
    """Probe of the continuation's tokens from a llama-server /completion answer; the
    end-of-text token the grammar forces after it is not part of it."""
    tried = "POST /completion"
    if not isinstance(answer, dict):
        raise NoPromptLogprobs("not a llama.cpp /completion answer", where, tried)
    entries = answer.get("completion_probabilities")
    if not isinstance(entries, list) or not entries:
        raise NoPromptLogprobs("no completion_probabilities in the answer (n_probs)", where,
                               tried)
    content = answer.get("content")
    if not isinstance(content, str) or not content.startswith(continuation):
        raise ServerProtocolError(
            "the server did not follow the grammar (asked for "
            f"{continuation[:40]!r}, got {str(content)[:40]!r})", where, tried)
    want = continuation.encode("utf-8")
    got = b""
    tokens: list[str] = []
    values: list[float] = []
    for entry in entries:
        if len(got) >= len(want):
            break
        if not isinstance(entry, dict):
            raise ServerProtocolError("malformed completion_probabilities entry", where, tried)
        raw = entry.get("bytes")
        piece = bytes(raw) if isinstance(raw, list) else str(entry.get("token", "")).encode()
        value = entry.get("logprob")
        got += piece
        tokens.append(piece.decode("utf-8", "replace"))
        # JSON has no -inf: llama.cpp writes null for a probability that underflowed.
        values.append(max(LOGPROB_FLOOR, float(value)) if isinstance(value, int | float)
                      else LOGPROB_FLOOR)
    if got != want:
        raise ServerProtocolError(f"the scored tokens spell {got[:60]!r}, not the text "
                                  "asked for", where, tried)
    return Probe(tuple(tokens), tuple(values))


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
    mode: str  # ECHO, PROMPT_LOGPROBS, FORCED or FORCED_TEXT
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
        probe = probe_logprobs(client, name, before.mode, sampling_extras(before.software),
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
    # llama-server refuses echo: it scores by grammar-forced generation instead.
    modes = ((FORCED, FORCED_TEXT) if software.startswith("llama.cpp server")
             else (ECHO, PROMPT_LOGPROBS))
    for candidate in modes:
        try:
            probe = probe_logprobs(client, name, candidate, extra,
                                   dropped and candidate == ECHO)
            mode = candidate
            break
        except ServerModelError as exc:  # this way is not supported: try the next
            first_error = first_error or exc
        except ServerProtocolError as exc:  # e.g. an older llama.cpp without token grammars
            if candidate != FORCED:
                raise
            first_error = first_error or exc
    if probe is None:
        hint = ""
        if first_error is not None and "logits_all" in first_error.message:
            hint = "; start llama-cpp-python's server with --logits_all true"
        if software.startswith("llama.cpp server"):
            raise ServerModelError(
                "cannot score diagnoses: llama-server gave no per-token log-probabilities "
                f"for a grammar-forced answer ({first_error.message if first_error else ''}); "
                "it needs the n_probs and grammar fields of /completion",
                client.where, "POST /completion")
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
